"""The Deployment status controller, in simulated mode and in --pods-from-kubelet mode."""

import time

import pytest
from kubernetes import client

from sandbox.podtemplate import template_hash

from .conftest import ROLLOUT_DELAY, deployment, wait_status

HOLD = "sandbox.canary.io/hold-rollout"


def conditions(obj):
    return {c.type: (c.status, c.reason) for c in obj.status.conditions}


def test_finished_rollout_status(apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("web", replicas=3))
    began = time.monotonic()
    done = wait_status(apps, namespace, "web", lambda d: d.status.available_replicas == 3)
    assert time.monotonic() - began >= ROLLOUT_DELAY * 0.9
    status = done.status
    assert status.observed_generation == 1
    assert (
        status.replicas,
        status.updated_replicas,
        status.ready_replicas,
        status.available_replicas,
        status.unavailable_replicas,
    ) == (3, 3, 3, 3, None)
    assert conditions(done) == {
        "Available": ("True", "MinimumReplicasAvailable"),
        "Progressing": ("True", "NewReplicaSetAvailable"),
    }


def test_rollout_in_progress_is_reported(apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("web", replicas=2))
    wait_status(apps, namespace, "web", lambda d: d.status.available_replicas == 2)
    apps.patch_namespaced_deployment(
        "web",
        namespace,
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:2.0"}]}}}},
    )
    progressing = wait_status(apps, namespace, "web", lambda d: d.status.observed_generation == 2)
    assert (
        progressing.status.replicas,
        progressing.status.updated_replicas,
        progressing.status.available_replicas,
    ) == (4, 2, 2)
    assert conditions(progressing)["Progressing"] == ("True", "ReplicaSetUpdated")
    wait_status(
        apps,
        namespace,
        "web",
        lambda d: (
            d.status.replicas == 2
            and d.status.updated_replicas == 2
            and d.status.available_replicas == 2
        ),
    )


def test_hold_annotation_stops_the_new_template(apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("web", replicas=2))
    wait_status(apps, namespace, "web", lambda d: d.status.available_replicas == 2)
    apps.patch_namespaced_deployment(
        "web",
        namespace,
        {
            "metadata": {"annotations": {HOLD: "true"}},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "bad:1"}]}}},
        },
    )
    held = wait_status(apps, namespace, "web", lambda d: d.status.observed_generation == 2)
    time.sleep(ROLLOUT_DELAY * 3)
    held = apps.read_namespaced_deployment("web", namespace)
    assert (
        held.status.replicas,
        held.status.updated_replicas,
        held.status.ready_replicas,
        held.status.available_replicas,
    ) == (3, 1, 2, 2)
    apps.patch_namespaced_deployment("web", namespace, {"metadata": {"annotations": {HOLD: None}}})
    wait_status(
        apps,
        namespace,
        "web",
        lambda d: (
            d.status.updated_replicas == 2
            and d.status.replicas == 2
            and d.status.available_replicas == 2
        ),
    )


def test_scaled_to_zero_reports_no_counts(apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("web", replicas=0))
    done = wait_status(apps, namespace, "web", lambda d: d.status.conditions)
    assert (done.status.replicas, done.status.available_replicas) == (None, None)


@pytest.fixture
def kubelet(kubelet_server):
    """Typed clients and a namespace on the --pods-from-kubelet server."""
    core = client.CoreV1Api(kubelet_server.api_client)
    apps = client.AppsV1Api(kubelet_server.api_client)
    core.create_namespace({"metadata": {"name": "pods"}})
    yield core, apps
    core.delete_namespace("pods")


def make_pod(core, owner, name, pod_hash, ready):
    """Create a pod the way the sandbox kubelet does and publish its readiness."""
    reference = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": owner.metadata.name,
        "uid": owner.metadata.uid,
        "controller": True,
    }
    core.create_namespaced_pod(
        "pods",
        {
            "metadata": {
                "name": name,
                "ownerReferences": [reference],
                "labels": {"app": owner.metadata.name, "pod-template-hash": pod_hash},
            },
            "spec": {"containers": [{"name": "app", "image": "x"}]},
            "status": {"phase": "Running"},
        },
    )
    status = "True" if ready else "False"
    core.patch_namespaced_pod_status(
        name,
        "pods",
        {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": status}]}},
    )


def test_kubelet_mode_counts_owned_pods(kubelet, kubelet_server):
    core, apps = kubelet
    owner = apps.create_namespaced_deployment("pods", deployment("web", replicas=2))
    _, stored = kubelet_server.request("GET", "/apis/apps/v1/namespaces/pods/deployments/web")
    current = template_hash(stored["spec"]["template"])
    time.sleep(ROLLOUT_DELAY * 2)
    waiting = apps.read_namespaced_deployment("web", "pods")
    assert waiting.status.replicas is None
    assert waiting.status.unavailable_replicas == 2
    make_pod(core, owner, "web-old", "0000000000", ready=True)
    make_pod(core, owner, "web-1", current, ready=True)
    make_pod(core, owner, "web-2", current, ready=False)
    core.create_namespaced_pod(
        "pods",
        {
            "metadata": {"name": "stray", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "a", "image": "x"}]},
        },
    )
    mixed = wait_status(apps, "pods", "web", lambda d: d.status.replicas == 3)
    assert (
        mixed.status.updated_replicas,
        mixed.status.ready_replicas,
        mixed.status.available_replicas,
    ) == (2, 2, 2)
    core.delete_namespaced_pod("web-old", "pods")
    core.patch_namespaced_pod_status(
        "web-2", "pods", {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    )
    done = wait_status(
        apps, "pods", "web", lambda d: conditions(d)["Progressing"][1] == "NewReplicaSetAvailable"
    )
    assert (
        done.status.replicas,
        done.status.updated_replicas,
        done.status.ready_replicas,
        done.status.available_replicas,
    ) == (2, 2, 2, 2)
