"""canary_rollout on the sandbox's real control plane, as the runbooks' ServiceAccount.

The Deployment and ReplicaSet controllers roll stable out for real, one new pod at a time,
each ready 2 s after it starts at the earliest, while the old pods stay ready (shop.py):
a wait that counted ready replicas would call every rollout here complete at once.
"""

import json
import re
import time

import canary_rollout
import pytest
from ansible.module_utils.spec import validate_release
from ansible.module_utils.testing import patch_module_args

from .shop import (
    LABELS,
    NEVER_READY,
    NEW,
    OLD,
    REPLICAS,
    RUNBOOKS_KUBECONFIG,
    STABLE,
    Shop,
    image_of,
)

pytestmark = pytest.mark.slow


def run(capsys, release, check=False, **args):
    """Run the module's main() in this process; return (exit code, result)."""
    arguments = {
        "release": release,
        "kubeconfig": RUNBOOKS_KUBECONFIG,
        "_ansible_check_mode": check,
        "_ansible_diff": True,
        **args,
    }
    with patch_module_args(arguments), pytest.raises(SystemExit) as exited:
        canary_rollout.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def waiting(shop, timeout):
    """The shop's release spec, waiting at most ``timeout`` for a rollout."""
    spec, errors = validate_release({**shop.raw, "rollout_timeout": timeout})
    assert errors == []
    return spec


@pytest.fixture(scope="module")
def quiet_shop(admin, deleted, tmp_path_factory):
    """A shop that the tests of this module only read or dry-run against."""
    shop = Shop(admin, tmp_path_factory.mktemp("quiet-shop"))
    try:
        yield shop.create()
    finally:
        deleted.extend(shop.delete())


def test_check_mode_dry_runs_the_new_image_and_waits_for_nothing(capsys, quiet_shop):
    before = quiet_shop.stable()
    code, result = run(capsys, quiet_shop.spec, check=True, track="stable", image=NEW)
    assert code == 0, result
    assert result["changed"] is True
    assert result["diff"]["before"] == {"image": OLD, "replicas": REPLICAS}
    assert result["diff"]["after"] == {"image": NEW, "replicas": REPLICAS}
    assert result["diff"]["after_header"] == f"Deployment {quiet_shop.namespace}/{STABLE}"
    assert "waited" not in result
    # The controllers may write its status meanwhile; the spec is as it was.
    after = quiet_shop.stable()
    assert (after["metadata"]["generation"], after["spec"]) == (1, before["spec"])
    assert quiet_shop.settled(OLD)

    # Nothing to change: the rollout in force is checked, as in a real run.
    code, result = run(capsys, quiet_shop.spec, check=True, track="stable")
    assert (code, result["changed"]) == (0, False), result
    assert result["state"] == "3 of 3 replicas updated, 3 available, observedGeneration 1 of 1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"replicas": -1}, "replicas: must be 0 or more, got -1"),
        ({"image": ""}, "image: must not be empty; omit it to keep the Deployment's image"),
        (
            {"track": "canary"},
            "deployment {canary_namespace}/frontend-deployment-canary does not exist",
        ),
    ],
)
def test_bad_input_fails_naming_it_and_changes_nothing(capsys, quiet_shop, args, message):
    before = quiet_shop.stable()
    code, result = run(capsys, quiet_shop.spec, **{"track": "stable", **args})
    assert code == 1
    assert result["msg"] == message.format(canary_namespace=quiet_shop.canary_namespace)
    assert quiet_shop.stable() == before


def test_a_container_the_deployment_lacks_names_the_spec_field(capsys, quiet_shop):
    spec = {**quiet_shop.spec, "workload": {**quiet_shop.spec["workload"], "container": "web"}}
    code, result = run(capsys, spec, track="stable", image=NEW)
    assert code == 1
    assert result["msg"] == (
        f"canary.workload.container: deployment {quiet_shop.namespace}/{STABLE} has no "
        "container named 'web'"
    )
    assert image_of(quiet_shop.stable()) == OLD


def test_a_new_image_is_rolled_out_on_every_replica_then_left_alone(capsys, make_shop):
    shop = make_shop()
    code, result = run(capsys, waiting(shop, "60s"), track="stable", image=NEW)
    # Read before anything else: done means every replica ready on the new image, now.
    pods_when_done = shop.settled(NEW)
    assert code == 0, result
    assert (result["changed"], result["image"], result["replicas"]) == (True, NEW, REPLICAS)
    assert result["state"] == "3 of 3 replicas updated, 3 available, observedGeneration 2 of 2"
    assert pods_when_done, shop.pods()
    # Three pods one after the other, each ready 2 s after its start at the earliest.
    assert result["waited"] >= 3 * 2

    code, result = run(capsys, waiting(shop, "60s"), track="stable", image=NEW)
    assert code == 0, result
    assert result["changed"] is False
    assert "diff" not in result
    assert shop.stable()["metadata"]["generation"] == 2


def test_a_rollout_that_does_not_finish_fails_naming_the_deployment(capsys, make_shop):
    shop = make_shop()
    code, result = run(capsys, waiting(shop, "2s"), track="stable", image=NEW)
    assert code == 1, result
    assert result["not_ready"] is True
    # The old replicas are all still available: only the new ones count.
    pattern = (
        rf"deployment {shop.namespace}/{STABLE} did not finish its rollout within 2s "
        r"\(rollout_timeout\): \d of 3 replicas updated, [34] available, \d old still running, "
        rf"(\d terminating, )?observedGeneration 2 of 2; (\d) pod\(s\) not on {re.escape(NEW)}: "
        rf"{STABLE}-\w+-\w+ \({re.escape(OLD)}\)(, {STABLE}-\w+-\w+ \({re.escape(OLD)}\))*"
    )
    assert re.fullmatch(pattern, result["msg"]), result["msg"]
    assert result["waited"] >= 2


def test_a_progress_deadline_exceeded_ends_the_wait_with_the_deployments_message(
    capsys, admin, make_shop
):
    shop = make_shop()
    admin.merge_patch(
        "Deployment", shop.namespace, STABLE, {"spec": {"progressDeadlineSeconds": 3}}
    )
    started = time.monotonic()
    code, result = run(capsys, waiting(shop, "60s"), track="stable", image=NEVER_READY)
    took = time.monotonic() - started
    assert code == 1, result
    assert result["not_ready"] is True
    assert re.fullmatch(
        rf"deployment {shop.namespace}/{STABLE} exceeded its progress deadline: "
        rf'ReplicaSet "{STABLE}-\w+" has timed out progressing\. '
        # Its progressDeadlineSeconds and then its image changed the spec: generation 3.
        r"\(1 of 3 replicas updated, 3 available, 3 old still running, "
        r"observedGeneration 3 of 3\)",
        result["msg"],
    ), result["msg"]
    # The controller gave up after 3 s; the module did not wait out its 60 s.
    assert took < 30
    condition = next(c for c in shop.stable()["status"]["conditions"] if c["type"] == "Progressing")
    assert condition["reason"] == "ProgressDeadlineExceeded"


def test_a_pod_off_the_template_keeps_the_rollout_unfinished(capsys, admin, make_shop):
    shop = make_shop()
    # A pod no ReplicaSet owns, with stable's labels (a leftover of a kubectl run, say):
    # the Deployment selects it, the Service sends it requests.
    stray = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "frontend-stray", "namespace": shop.namespace, "labels": dict(LABELS)},
        "spec": shop.stable()["spec"]["template"]["spec"],
    }
    stray["spec"]["containers"][0]["image"] = "yyc3/short-drama-frontend:0.9.0"
    admin.create(stray)
    code, result = run(capsys, shop.spec, track="stable")
    assert code == 1, result
    assert result["msg"] == (
        f"deployment {shop.namespace}/{STABLE} did not finish its rollout within 3s "
        "(rollout_timeout): 3 of 3 replicas updated, 3 available, observedGeneration 1 of 1; "
        f"1 pod(s) not on {OLD}: frontend-stray (yyc3/short-drama-frontend:0.9.0)"
    )

    # Relabelled as another app's, it is no longer the Deployment's.
    labels = {"metadata": {"labels": {"app": "other", "track": None}}}
    admin.merge_patch("Pod", shop.namespace, "frontend-stray", labels)
    code, result = run(capsys, shop.spec, track="stable")
    assert (code, result["changed"]) == (0, False), result


def test_the_canary_track_scales_the_canary(capsys, make_shop):
    shop = make_shop()
    shop.create_canary(NEW, replicas=1)
    code, result = run(capsys, waiting(shop, "60s"), track="canary", replicas=3)
    ready_when_done = shop.settled(NEW, "canary", 3)
    assert code == 0, result
    assert result["deployment"] == f"{shop.canary_namespace}/{shop.canary_name}"
    assert result["diff"]["after"] == {"image": NEW, "replicas": 3}
    assert result["state"] == "3 of 3 replicas updated, 3 available, observedGeneration 2 of 2"
    assert ready_when_done, shop.pods("canary")
