"""finalize.yml and rollback.yml wait for stable's rollout, in real ansible-playbook runs.

Against the sandbox's API server started alone (its Deployment controller holds a
rollout while the ``sandbox.canary.io/hold-rollout`` annotation is set): a finalize whose
stable rollout does not finish leaves the canary serving and the release in progress,
the ledger saying why; a rollback puts stable back on its image and verifies it.
"""

import os
import subprocess
import sys
import time

import pytest
import yaml
from ansible.module_utils import ledger as ledgers
from ansible.module_utils.workload import canary_deployment, container_image

from tests.bad_specs import merged
from tests.conftest import PROJECT_ROOT
from tests.unit.traffic.apiserver import Release, stable_deployment, stable_service

pytestmark = pytest.mark.slow

OLD, NEW = "frontend:1.0.0", "frontend:1.1.0"
HOLD = "sandbox.canary.io/hold-rollout"


@pytest.fixture
def shop(cluster, tmp_path):
    """A release of the frontend whose every stage passed, at 100 % on the canary."""
    release = Release(cluster)
    release.create_namespaces()
    stable = cluster.create(stable_deployment(release.namespace))
    cluster.create(stable_service(release.namespace))
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "traffic-config", "namespace": release.namespace},
            "data": {"canary_percentage": "100"},
        }
    )
    raw = merged(
        {
            "namespace": release.namespace,
            "canary_namespace": release.canary_namespace,
            # The ledger's image is the release's.
            "image": "",
            "rollout_timeout": "3s",
        }
    )
    spec = release.spec("configmap", rollout_timeout="3s")
    workload = spec["workload"]
    cluster.create(
        canary_deployment(stable, release.canary_namespace, workload["canary_name"], NEW, 2)
    )
    ledger = ledgers.for_release(cluster, spec)
    ledger.update(lambda state: ledgers.start_release(state, NEW, OLD, len(spec["stages"]), "t"))
    passed = {"verdict": "pass", "failed_checks": 0, "reason": ""}
    for number, stage in enumerate(spec["stages"], 1):
        ledger.update(
            lambda state, n=number, w=stage["weight"]: ledgers.begin_stage(state, n, w, 0)
        )
        ledger.update(
            lambda state, n=number, w=stage["weight"]: ledgers.conclude_stage(state, n, w, passed)
        )
    # Stable's own first rollout is over (its old pods are what a held rollout keeps).
    deadline = time.monotonic() + 10
    while (
        cluster.get("apps/v1", "Deployment", "frontend-deployment", release.namespace)
        .get("status", {})
        .get("availableReplicas")
        != 2
    ):
        assert time.monotonic() < deadline, "stable did not become available"
        time.sleep(0.1)
    release.raw, release.spec, release.ledger = raw, spec, ledger
    release.workdir = tmp_path
    return release


def hold(cluster, shop, on):
    patch = {"metadata": {"annotations": {HOLD: "true" if on else None}}}
    cluster.merge_patch("apps/v1", "Deployment", "frontend-deployment", shop.namespace, patch)


def run(api, shop, playbook, *args):
    host = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "canary": shop.raw,
        "canary_report_dir": str(shop.workdir / "reports"),
        "canary_rollback_check_health": False,
    }
    hosts = shop.workdir / "hosts.yml"
    hosts.write_text(
        yaml.safe_dump({"all": {"children": {"canary_services": {"hosts": {"frontend": host}}}}})
    )
    result = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            str(PROJECT_ROOT / "playbooks" / playbook),
            "-i",
            str(hosts),
            *args,
        ],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
            "K8S_AUTH_KUBECONFIG": str(api.kubeconfig),
        },
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def stable(cluster, shop):
    return cluster.get("apps/v1", "Deployment", "frontend-deployment", shop.namespace)


def canary(cluster, shop):
    name = shop.spec["workload"]["canary_name"]
    return cluster.get("apps/v1", "Deployment", name, shop.canary_namespace)


def weight(cluster, shop):
    config = cluster.get("v1", "ConfigMap", "traffic-config", shop.namespace)
    return config["data"]["canary_percentage"]


def test_finalize_waits_for_stable_before_handing_the_traffic_back(api, cluster, shop):
    hold(cluster, shop, True)
    code, output = run(api, shop, "finalize.yml")
    assert code != 0
    blocked = (
        f"deployment {shop.namespace}/frontend-deployment did not finish its rollout within 3s "
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
    assert canary(cluster, shop) is not None
    assert weight(cluster, shop) == "100"
    assert (
        cluster.get("coordination.k8s.io/v1", "Lease", "frontend-canary-lock", shop.namespace)[
            "spec"
        ].get("holderIdentity")
        is None
    )

    hold(cluster, shop, False)
    code, output = run(api, shop, "finalize.yml")
    assert code == 0, output
    assert shop.ledger.read()["status"] == "promoted"
    assert container_image(stable(cluster, shop)) == NEW
    assert canary(cluster, shop) is None
    assert weight(cluster, shop) == "0"


def set_stable_image(cluster, shop, image):
    containers = [{"name": "frontend", "image": image}]
    patch = {"spec": {"template": {"spec": {"containers": containers}}}}
    cluster.strategic_merge_patch(
        "apps/v1", "Deployment", "frontend-deployment", shop.namespace, patch
    )


def test_rollback_puts_stable_back_on_its_image(api, cluster, shop):
    # As if finalize had moved stable to the new image and then been interrupted.
    set_stable_image(cluster, shop, NEW)
    code, output = run(api, shop, "rollback.yml")
    assert code == 0, output
    assert container_image(stable(cluster, shop)) == OLD
    assert shop.ledger.read()["status"] == "rolled_back"
    assert weight(cluster, shop) == "0"


def test_rollback_does_not_verify_a_stable_rollout_in_progress(api, cluster, shop):
    # Someone else's change of stable, still rolling out: left alone, and not verified.
    set_stable_image(cluster, shop, "frontend:1.0.1")
    hold(cluster, shop, True)
    code, output = run(api, shop, "rollback.yml")
    assert code != 0
    assert (
        "The canary is out of traffic, but stable is not healthy: deployment "
        f"{shop.namespace}/frontend-deployment did not finish its rollout within 3s"
    ) in output, output
    assert shop.ledger.read()["status"] == "failed"
    assert container_image(stable(cluster, shop)) == "frontend:1.0.1"
    assert weight(cluster, shop) == "0"
