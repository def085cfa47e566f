"""finalize.yml and rollback.yml wait for stable's rollout, in real ansible-playbook runs.

A finalize whose stable rollout does not finish leaves the canary serving and the release
in progress, the ledger saying why; a rollback puts stable back on its image, and does not
take a rollout in progress for a verified stable.
"""

import pytest
from ansible.module_utils import ledger as ledgers
from ansible.module_utils.workload import canary_deployment, container_image

from tests.conftest import PROJECT_ROOT

from .shop import STABLE, Shop

pytestmark = pytest.mark.slow

OLD, NEW = "frontend:1.0.0", "frontend:1.1.0"
FINALIZE = PROJECT_ROOT / "playbooks" / "finalize.yml"
ROLLBACK = PROJECT_ROOT / "playbooks" / "rollback.yml"


@pytest.fixture
def shop(cluster, tmp_path):
    """A release of the frontend whose every stage passed, at 100 % on the canary."""
    shop = Shop(cluster, tmp_path)
    cluster.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": shop.canary_namespace}}
    )
    name = shop.spec["workload"]["canary_name"]
    cluster.create(canary_deployment(shop.stable(), shop.canary_namespace, name, NEW, 2))
    patch = {"data": {"canary_percentage": "100"}}
    cluster.merge_patch("v1", "ConfigMap", "traffic-config", shop.namespace, patch)
    spec = shop.spec
    shop.ledger = ledgers.for_release(cluster, spec)
    shop.ledger.update(
        lambda state: ledgers.start_release(state, NEW, OLD, len(spec["stages"]), "tests")
    )
    passed = {"verdict": "pass", "failed_checks": 0, "reason": ""}
    for number, stage in enumerate(spec["stages"], 1):
        weight = stage["weight"]
        shop.ledger.update(lambda state, n=number, w=weight: ledgers.begin_stage(state, n, w, 0))
        shop.ledger.update(
            lambda state, n=number, w=weight: ledgers.conclude_stage(state, n, w, passed)
        )
    return shop


def set_stable_image(shop, image):
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "frontend", "image": image}]}}}}
    shop.cluster.strategic_merge_patch("apps/v1", "Deployment", STABLE, shop.namespace, patch)


def test_finalize_waits_for_stable_before_handing_the_traffic_back(api, shop):
    shop.hold(True)
    code, output = shop.run(api, FINALIZE)
    assert code != 0
    blocked = (
        f"deployment {shop.namespace}/{STABLE} did not finish its rollout within 3s "
        "(rollout_timeout): 1 of 2 replicas updated, 2 available"
    )
    assert "Finalize blocked, the canary keeps serving" in output, output
    assert blocked in output, output
    state = shop.ledger.read()
    assert state["status"] == "progressing"
    assert state["reason"].startswith(f"finalize blocked: {blocked}")
    event = state["history"][-1]
    assert (event["event"], event["image"]) == ("finalize_blocked", NEW)
    assert event["reason"].startswith(blocked)
    assert shop.canary() is not None
    assert shop.weight() == "100"
    lock = shop.cluster.get(
        "coordination.k8s.io/v1", "Lease", "frontend-canary-lock", shop.namespace
    )
    assert lock["spec"].get("holderIdentity") is None

    shop.hold(False)
    code, output = shop.run(api, FINALIZE)
    assert code == 0, output
    assert shop.ledger.read()["status"] == "promoted"
    assert container_image(shop.stable()) == NEW
    assert shop.canary() is None
    assert shop.weight() == "0"


def test_rollback_puts_stable_back_on_its_image(api, shop):
    # As if finalize had moved stable to the new image and then been interrupted.
    set_stable_image(shop, NEW)
    code, output = shop.run(api, ROLLBACK)
    assert code == 0, output
    assert container_image(shop.stable()) == OLD
    assert shop.ledger.read()["status"] == "rolled_back"
    assert shop.weight() == "0"


def test_rollback_does_not_verify_a_stable_rollout_in_progress(api, shop):
    # Someone else's change of stable, still rolling out: left alone, and not verified.
    shop.hold(True)
    set_stable_image(shop, "frontend:1.0.1")
    code, output = shop.run(api, ROLLBACK)
    assert code != 0
    assert (
        "The canary is out of traffic, but stable is not healthy: deployment "
        f"{shop.namespace}/{STABLE} did not finish its rollout within 3s"
    ) in output, output
    assert shop.ledger.read()["status"] == "failed"
    assert container_image(shop.stable()) == "frontend:1.0.1"
    assert shop.weight() == "0"
