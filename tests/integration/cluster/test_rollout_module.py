"""canary_rollout against the sandbox's API server started alone.

The server's Deployment controller finishes a new template's rollout after half a
second, holds it with the ``sandbox.canary.io/hold-rollout`` annotation, and knows no
pods: the tests write the pods a real ReplicaSet would have left behind.
"""

import json

import canary_rollout
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible.module_utils.workload import canary_deployment, container_image

from tests.unit.traffic.apiserver import Release, stable_deployment

NEW = "frontend:1.1.0"
HOLD = {"metadata": {"annotations": {"sandbox.canary.io/hold-rollout": "true"}}}


@pytest.fixture
def shop(cluster):
    """A release of the frontend (2 stable replicas), with a spec waiting at most 2 s."""
    release = Release(cluster)
    release.create_namespaces()
    cluster.create(stable_deployment(release.namespace))
    release.spec = release.spec("configmap", rollout_timeout="2s")
    return release


def run(capsys, api, release, check=False, **args):
    """Run main() in this process; return (exit code, result)."""
    arguments = {
        "release": release,
        "kubeconfig": str(api.kubeconfig),
        "_ansible_check_mode": check,
        "_ansible_diff": True,
        **args,
    }
    with patch_module_args(arguments), pytest.raises(SystemExit) as exited:
        canary_rollout.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def stable(cluster, shop):
    return cluster.get("apps/v1", "Deployment", "frontend-deployment", shop.namespace)


def test_check_mode_dry_runs_the_new_image_and_waits_for_nothing(capsys, api, cluster, shop):
    before = stable(cluster, shop)
    code, result = run(capsys, api, shop.spec, check=True, track="stable", image=NEW)
    assert code == 0, result
    assert result["changed"] is True
    assert result["diff"]["before"] == {"image": "frontend:1.0.0", "replicas": 2}
    assert result["diff"]["after"] == {"image": NEW, "replicas": 2}
    assert result["diff"]["after_header"] == f"Deployment {shop.namespace}/frontend-deployment"
    assert "waited" not in result
    assert stable(cluster, shop)["metadata"] == before["metadata"]

    # Nothing to change: the rollout in force is checked, as in a real run.
    code, result = run(capsys, api, shop.spec, check=True, track="stable")
    assert (code, result["changed"]) == (0, False), result
    assert result["state"] == "2 of 2 replicas updated, 2 available, observedGeneration 1 of 1"


def test_a_new_image_is_rolled_out_on_every_replica_then_left_alone(capsys, api, cluster, shop):
    code, result = run(capsys, api, shop.spec, track="stable", image=NEW)
    assert code == 0, result
    assert (result["changed"], result["image"], result["replicas"]) == (True, NEW, 2)
    assert result["state"] == "2 of 2 replicas updated, 2 available, observedGeneration 2 of 2"
    assert result["waited"] > 0
    assert container_image(stable(cluster, shop)) == NEW

    code, result = run(capsys, api, shop.spec, track="stable", image=NEW)
    assert code == 0, result
    assert result["changed"] is False
    assert "diff" not in result
    assert stable(cluster, shop)["metadata"]["generation"] == 2


def test_a_rollout_that_does_not_finish_fails_naming_the_deployment(capsys, api, cluster, shop):
    code, result = run(capsys, api, shop.spec, track="stable")
    assert (code, result["changed"]) == (0, False), result
    cluster.merge_patch("apps/v1", "Deployment", "frontend-deployment", shop.namespace, HOLD)
    code, result = run(capsys, api, shop.spec, track="stable", image=NEW)
    assert code == 1
    assert result["not_ready"] is True
    assert result["msg"] == (
        f"deployment {shop.namespace}/frontend-deployment did not finish its rollout within 2s "
        "(rollout_timeout): 1 of 2 replicas updated, 2 available, 2 old still running, "
        "observedGeneration 2 of 2"
    )
    assert result["waited"] >= 2


def test_pods_still_on_the_old_image_keep_the_rollout_unfinished(capsys, api, cluster, shop):
    old = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "frontend-deployment-old-1",
            "namespace": shop.namespace,
            "labels": {"app": "frontend", "track": "stable"},
        },
        "spec": {"containers": [{"name": "frontend", "image": "frontend:1.0.0"}]},
    }
    cluster.create(old)
    code, result = run(capsys, api, shop.spec, track="stable", image=NEW)
    assert code == 1
    assert result["msg"].endswith(
        f"; 1 pod(s) not on {NEW}: frontend-deployment-old-1 (frontend:1.0.0)"
    )
    # A pod of another app in the namespace is not the Deployment's.
    labels = {"metadata": {"labels": {"app": "other", "track": None}}}
    cluster.merge_patch("v1", "Pod", old["metadata"]["name"], shop.namespace, labels)
    code, result = run(capsys, api, shop.spec, track="stable", image=NEW)
    assert code == 0, result


def test_the_canary_track_scales_the_canary(capsys, api, cluster, shop):
    stable_object = stable(cluster, shop)
    name = shop.spec["workload"]["canary_name"]
    cluster.create(canary_deployment(stable_object, shop.canary_namespace, name, NEW, 1))
    code, result = run(capsys, api, shop.spec, track="canary", replicas=3)
    assert code == 0, result
    assert result["deployment"] == f"{shop.canary_namespace}/{name}"
    assert result["diff"]["after"] == {"image": NEW, "replicas": 3}
    assert result["state"].startswith("3 of 3 replicas updated, 3 available")


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
def test_bad_input_fails_naming_it_and_changes_nothing(capsys, api, cluster, shop, args, message):
    before = stable(cluster, shop)
    code, result = run(capsys, api, shop.spec, **{"track": "stable", **args})
    assert code == 1
    assert result["msg"] == message.format(canary_namespace=shop.canary_namespace)
    assert stable(cluster, shop) == before


def test_a_container_the_deployment_lacks_names_the_spec_field(capsys, api, cluster, shop):
    spec = {**shop.spec, "workload": {**shop.spec["workload"], "container": "web"}}
    code, result = run(capsys, api, spec, track="stable", image=NEW)
    assert code == 1
    assert result["msg"] == (
        f"canary.workload.container: deployment {shop.namespace}/frontend-deployment has no "
        "container named 'web'"
    )
