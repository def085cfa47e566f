"""The kubelet's reconcile loop against an in-memory API and fake processes.

Checks the ordering a real Deployment controller guarantees: new pods first, old ones
only as new ones turn ready; hold stops a rollout; scale, delete and crash handling.
"""

import copy
import itertools
import json

import pytest

from sandbox import kubeapi, kubelet
from sandbox.podtemplate import template_hash

NS = "yyc3-short-drama"


class FakeClient:
    """Just enough of the API server: objects by (kind, namespace, name)."""

    def __init__(self):
        self.objects = {}
        self.uids = itertools.count(1)

    def list(self, kind, namespace=None, label_selector=None):
        return [
            copy.deepcopy(o)
            for (k, ns, _), o in sorted(self.objects.items())
            if k == kind and namespace in (None, ns)
        ]

    def get(self, kind, namespace, name):
        return copy.deepcopy(self.objects.get((kind, namespace, name)))

    def create(self, obj):
        meta = obj["metadata"]
        key = (obj["kind"], meta.get("namespace"), meta["name"])
        if key in self.objects:
            raise kubeapi.ApiError(409, "exists")
        obj = copy.deepcopy(obj)
        obj["metadata"]["uid"] = f"uid-{next(self.uids)}"
        self.objects[key] = obj
        return copy.deepcopy(obj)

    def replace(self, obj):
        meta = obj["metadata"]
        self.objects[(obj["kind"], meta.get("namespace"), meta["name"])] = copy.deepcopy(obj)

    def merge_patch(self, kind, namespace, name, patch, subresource=None):
        obj = self.objects[(kind, namespace, name)]
        for key, value in patch.items():
            if isinstance(value, dict) and isinstance(obj.get(key), dict):
                obj[key].update(value)
            else:
                obj[key] = value

    def delete(self, kind, namespace, name):
        self.objects.pop((kind, namespace, name), None)

    def pods(self):
        return [o for (k, _, _), o in sorted(self.objects.items()) if k == "Pod"]


class FakeProcess:
    pids = itertools.count(100000)

    def __init__(self):
        self.pid = next(self.pids)
        self.returncode = None

    def poll(self):
        return self.returncode

    def terminate(self):
        self.returncode = -15

    def kill(self):
        self.returncode = -9


class OfflineKubelet(kubelet.Kubelet):
    def launch(self, replica):
        replica.process = FakeProcess()
        replica.started_at = next(self.clock)
        replica.ready = False
        replica.probed_at = 0.0


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    client = FakeClient()
    client.create({"kind": "Namespace", "metadata": {"name": NS}})
    client.create(
        {
            "kind": "Deployment",
            "metadata": {"name": "frontend-deployment", "namespace": NS},
            "spec": {
                "replicas": 2,
                "template": {
                    "metadata": {"labels": {"app": "frontend", "track": "stable"}},
                    "spec": {"containers": [{"name": "frontend", "image": "yyc3/f:1.0.0"}]},
                },
            },
        }
    )
    client.create(
        {
            "kind": "Service",
            "metadata": {"name": "frontend", "namespace": NS},
            "spec": {"selector": {"app": "frontend", "track": "stable"}},
        }
    )
    monkeypatch.setattr(kubelet, "healthy", lambda port: True)
    monkeypatch.setattr(kubelet, "MAX_BACKOFF_SECONDS", 0.0)
    monkeypatch.setattr(kubelet, "DRAIN_SECONDS", 0.0)
    images = {"yyc3/f:1.2.0-errors": {"FAULT_ERROR_RATIO": "0.03", "FAULT_START_AT": "1"}}
    node = OfflineKubelet(client, str(tmp_path), images=images)
    node.clock = itertools.count(1)
    node.tmp_path = tmp_path
    return client, node


def deployment(client):
    return client.objects[("Deployment", NS, "frontend-deployment")]


def ready(pod):
    return next(c["status"] for c in pod["status"]["conditions"] if c["type"] == "Ready")


def test_replicas_become_ready_pods_endpoints_and_targets(cluster):
    client, node = cluster
    node.tick()
    pods = client.pods()
    assert len(pods) == 2
    current = template_hash(deployment(client)["spec"]["template"])
    for pod in pods:
        assert pod["metadata"]["labels"]["pod-template-hash"] == current
        assert pod["metadata"]["name"].startswith(f"frontend-deployment-{current}-")
        assert ready(pod) == "True"
    subsets = client.objects[("Endpoints", NS, "frontend")]["subsets"]
    assert len(subsets) == 2
    targets = json.loads((node.tmp_path / "file_sd" / "pods.json").read_text())
    assert {t["labels"]["version"] for t in targets} == {"1.0.0"}


def test_rollout_starts_new_pods_and_stops_old_only_when_new_are_ready(cluster):
    client, node = cluster
    node.tick()
    old = {p["metadata"]["name"] for p in client.pods()}
    deployment(client)["spec"]["template"]["spec"]["containers"][0]["image"] = "yyc3/f:1.1.0"
    node.tick()
    assert len(client.pods()) == 4
    node.tick()
    names = {p["metadata"]["name"] for p in client.pods()}
    assert len(names) == 2
    assert not names & old


def test_unready_new_pods_keep_the_old_ones_serving(cluster, monkeypatch):
    client, node = cluster
    node.tick()
    old = {p["metadata"]["name"] for p in client.pods()}
    monkeypatch.setattr(kubelet, "healthy", lambda port: False)
    deployment(client)["spec"]["template"]["spec"]["containers"][0]["image"] = "yyc3/f:1.1.0"
    for _ in range(3):
        node.tick()
    names = {p["metadata"]["name"] for p in client.pods()}
    assert old < names
    assert len(names) == 4


def test_hold_annotation_blocks_new_template_pods(cluster):
    client, node = cluster
    node.tick()
    old = {p["metadata"]["name"] for p in client.pods()}
    deployment(client)["metadata"]["annotations"] = {"sandbox.canary.io/hold-rollout": "true"}
    deployment(client)["spec"]["template"]["spec"]["containers"][0]["image"] = "yyc3/f:1.1.0"
    for _ in range(3):
        node.tick()
    assert {p["metadata"]["name"] for p in client.pods()} == old


def test_scale_down_then_delete_stops_processes_and_pod_objects(cluster):
    client, node = cluster
    node.tick()
    processes = [r.process for r in node.replicas.values()]
    deployment(client)["spec"]["replicas"] = 1
    node.tick()
    assert len(client.pods()) == 1
    assert sum(p.returncode is None for p in processes) == 1
    client.delete("Deployment", NS, "frontend-deployment")
    node.tick()
    assert client.pods() == []
    assert all(p.returncode is not None for p in processes)
    assert client.objects[("Endpoints", NS, "frontend")]["subsets"] == []


def test_pod_deleted_through_the_api_is_replaced(cluster):
    client, node = cluster
    node.tick()
    victim = client.pods()[0]["metadata"]["name"]
    client.delete("Pod", NS, victim)
    node.tick()
    names = {p["metadata"]["name"] for p in client.pods()}
    assert len(names) == 2
    assert victim not in names


def test_exited_process_is_restarted_and_counted(cluster):
    client, node = cluster
    node.tick()
    replica = next(iter(node.replicas.values()))
    replica.process.returncode = 1
    for _ in range(3):  # notice the exit, restart after the back-off, probe
        node.tick()
    pod = client.objects[("Pod", NS, replica.name)]
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 1
    assert ready(pod) == "True"
    assert pod["metadata"]["annotations"]["sandbox.canary.io/port"] == str(replica.port)


def test_stopped_pod_leaves_endpoints_before_its_process_is_signalled(cluster, monkeypatch):
    client, node = cluster
    monkeypatch.setattr(kubelet, "DRAIN_SECONDS", 60.0)
    node.tick()
    processes = [r.process for r in node.replicas.values()]
    deployment(client)["spec"]["replicas"] = 1
    node.tick()
    assert len(client.objects[("Endpoints", NS, "frontend")]["subsets"]) == 1
    assert all(p.returncode is None for p in processes)
    node.shutdown()
    assert all(p.returncode is not None for p in processes)


def test_image_catalog_env_applies_and_the_container_env_wins(cluster):
    client, node = cluster
    container = deployment(client)["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "yyc3/f:1.2.0-errors"
    container["env"] = [{"name": "FAULT_START_AT", "value": "7"}]
    node.tick()
    node.tick()
    envs = [r.env for r in node.replicas.values()]
    assert envs == [{"FAULT_ERROR_RATIO": "0.03", "FAULT_START_AT": "7"}] * 2
    assert {r.version for r in node.replicas.values()} == {"1.2.0-errors"}
