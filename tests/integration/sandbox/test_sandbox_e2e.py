"""The whole sandbox, end to end: the real control plane, real processes, real Prometheus.

One ``python -m sandbox up`` per module, on free non-default ports in a temporary state
dir and a pod network of its own, with a light load running. The tests run in file
order and share that sandbox; the last one takes it down and checks that no process is
left behind.
"""

import glob
import json
import os
import random
import subprocess
import sys
import threading
import time

import pytest
import requests

from sandbox import ctl as sandbox_ctl
from sandbox import kubeapi, procs
from sandbox.routing import bucketing

pytestmark = pytest.mark.sandbox

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
STABLE_NS, CANARY_NS = "yyc3-short-drama", "yyc3-short-drama-canary"
CANARY_WEIGHT = 20
# Apart from the default sandbox's, which may run at the same time.
POD_CIDR = "10.244.200.0/24"


def free_ports(count):
    """Free ports below the ephemeral range, so app processes never take them first."""
    ports = []
    while len(ports) < count:
        port = random.randint(21000, 31000)
        if port not in ports and procs.port_free(port):
            ports.append(port)
    return ports


def ctl(state_dir, *args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args, "--state-dir", str(state_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def eventually(check, timeout=15.0, interval=0.2):
    """Return check()'s first truthy value, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s: {check.__doc__ or check}")
        time.sleep(interval)


class Sandbox:
    def __init__(self, state_dir, ports):
        self.state_dir = state_dir
        self.client = kubeapi.Client.from_kubeconfig(os.path.join(state_dir, "admin.kubeconfig"))
        self.router = f"http://127.0.0.1:{ports['router_port']}"
        self.admin = f"http://127.0.0.1:{ports['router_admin_port']}"
        self.prometheus = f"http://127.0.0.1:{ports['prometheus_port']}"

    def pid(self, name):
        return procs.read_pid(os.path.join(self.state_dir, "pids", name + ".pid"))

    def pod_pid(self, pod):
        return procs.read_pid(
            os.path.join(self.state_dir, "pids", "apps", pod["metadata"]["uid"] + ".pid")
        )

    def app_processes(self):
        """Live demo-app processes whose parent is the node agent."""
        kubelet = self.pid("node")
        found = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                with open(stat) as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid = int(stat.split("/")[2])
            if fields[0] != "Z" and int(fields[1]) == kubelet and procs.running(pid, "sandbox.app"):
                found.append(pid)
        return found

    def router_state(self):
        return requests.get(self.admin + "/state", timeout=2).json()

    def query(self, promql):
        response = requests.get(
            self.prometheus + "/api/v1/query", params={"query": promql}, timeout=2
        )
        return response.json()["data"]["result"]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("sandbox-state")
    ports = dict(zip(sandbox_ctl.PORTS, free_ports(len(sandbox_ctl.PORTS)), strict=True))
    flags = [
        arg for setting, port in ports.items() for arg in (sandbox_ctl.PORTS[setting][0], str(port))
    ]
    up = ctl(
        state_dir,
        "up",
        *flags,
        *("--pod-cidr", POD_CIDR),
        *("--load-rate", "10", "--load-users", "300", "--load-duration", "300"),
    )
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield Sandbox(str(state_dir), ports)
    finally:
        ctl(state_dir, "down")


def canary_objects(fault_error_ratio):
    labels = {"app": "frontend", "track": "canary"}
    env = [
        {"name": "TRACK", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['track']"}}},
        {"name": "FAULT_ERROR_RATIO", "value": fault_error_ratio},
    ]
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CANARY_NS}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "frontend-canary", "namespace": CANARY_NS, "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {
                                "name": "frontend",
                                "image": "yyc3/short-drama-frontend:1.1.0",
                                "env": env,
                                "ports": [{"name": "http", "containerPort": 8080}],
                                "readinessProbe": {
                                    "httpGet": {"path": "/api/health", "port": "http"},
                                    "periodSeconds": 1,
                                },
                            }
                        ]
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "frontend-canary", "namespace": CANARY_NS},
            "spec": {
                "selector": labels,
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
        },
    ]


def test_the_server_is_a_real_kube_apiserver(sandbox):
    version = sandbox.client.request("GET", "/version")
    assert version["gitVersion"] == "v1.37.2"
    (node,) = sandbox.client.list("Node")
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert (node["metadata"]["name"], ready["status"]) == ("sandbox", "True")
    assert node["spec"]["podCIDR"] == POD_CIDR


def test_stable_pods_run_ready_on_their_own_addresses(sandbox):
    pods = sandbox.client.list("Pod", STABLE_NS, "app=frontend,track=stable")
    assert len(pods) == 2
    addresses = set()
    for pod in pods:
        assert pod["status"]["phase"] == "Running"
        assert pod["spec"]["nodeName"] == "sandbox"
        ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True"
        address = pod["status"]["podIP"]
        addresses.add(address)
        health = requests.get(f"http://{address}:8080/api/health", timeout=2).json()
        assert health == {"status": "ok", "version": "1.0.0", "track": "stable"}
    assert len(addresses) == 2
    (owner,) = {p["metadata"]["ownerReferences"][0]["kind"] for p in pods}
    assert owner == "ReplicaSet"
    slices = sandbox.client.list(
        "EndpointSlice", STABLE_NS, label_selector="kubernetes.io/service-name=frontend"
    )
    published = {a for s in slices for e in s["endpoints"] for a in e["addresses"]}
    assert published == addresses
    assert len(sandbox.app_processes()) == 2


def test_load_generator_drives_traffic_through_the_router(sandbox):
    stats_file = os.path.join(sandbox.state_dir, "loadgen-stats.json")

    def stable_requests():
        """the load generator has sent requests answered by stable"""
        if not os.path.exists(stats_file):
            return 0
        with open(stats_file) as handle:
            return json.load(handle)["tracks"].get("stable", {}).get("requests", 0)

    assert eventually(stable_requests, timeout=10) > 0


def test_traffic_splits_per_the_configmap_weight(sandbox):
    for obj in canary_objects("0.5"):
        sandbox.client.create(obj)
    sandbox.client.merge_patch(
        "ConfigMap",
        STABLE_NS,
        "traffic-config",
        {"data": {"canary_percentage": str(CANARY_WEIGHT)}},
    )

    def router_sees_canary():
        """the router applies the weight and has a ready canary backend"""
        state = sandbox.router_state()
        return state["weight"] == CANARY_WEIGHT and state["backends"]["canary"] == 1

    eventually(router_sees_canary)
    session = requests.Session()
    users = [f"split-{n:04d}" for n in range(400)]
    tracks = {}
    for user in users:
        response = session.get(sandbox.router + "/api/health", headers={"X-User-Id": user})
        assert response.status_code == 200
        tracks[user] = response.headers["X-Canary-Track"]
    expected = {u: "canary" if bucketing.in_canary(u, CANARY_WEIGHT) else "stable" for u in users}
    assert tracks == expected
    share = sum(t == "canary" for t in tracks.values()) / len(users)
    assert 0.12 < share < 0.28


def test_forced_header_routes_regardless_of_weight(sandbox):
    session = requests.Session()
    always = session.get(sandbox.router + "/api/health", headers={"X-Canary": "always"})
    never = session.get(sandbox.router + "/api/health", headers={"X-Canary": "never"})
    assert (always.headers["X-Canary-Track"], always.json()["version"]) == ("canary", "1.1.0")
    assert (never.headers["X-Canary-Track"], never.json()["version"]) == ("stable", "1.0.0")
    assert always.headers["X-Backend-Pod"].startswith("frontend-canary-")


def test_canary_fault_shows_as_5xx_rate_in_prometheus(sandbox):
    stop = threading.Event()

    def canary_traffic():
        session = requests.Session()
        deadline = time.monotonic() + 30
        while not stop.is_set() and time.monotonic() < deadline:
            session.get(sandbox.router + "/api/content/list", headers={"X-Canary": "always"})
            stop.wait(0.05)

    sender = threading.Thread(target=canary_traffic, daemon=True)
    sender.start()
    try:

        def canary_errors():
            """rate(http_requests_total{track="canary",code=~"5.."}[5s]) > 0"""
            result = sandbox.query('sum(rate(http_requests_total{track="canary",code=~"5.."}[5s]))')
            return result and float(result[0]["value"][1]) > 0

        eventually(canary_errors, timeout=25, interval=0.5)
    finally:
        stop.set()
        sender.join()
    assert sandbox.query('sum(rate(http_requests_total{track="stable",code=~"5.."}[5s])) > 0') == []


def test_scaling_changes_the_process_count(sandbox):
    before = len(sandbox.app_processes())
    sandbox.client.merge_patch(
        "Deployment", STABLE_NS, "frontend-deployment", {"spec": {"replicas": 3}}
    )

    def grown():
        """one more app process and three ready stable pods"""
        deployment = sandbox.client.get("Deployment", STABLE_NS, "frontend-deployment")
        ready = (deployment.get("status") or {}).get("readyReplicas")
        return len(sandbox.app_processes()) == before + 1 and ready == 3

    eventually(grown)
    sandbox.client.merge_patch(
        "Deployment", STABLE_NS, "frontend-deployment", {"spec": {"replicas": 2}}
    )
    eventually(lambda: len(sandbox.app_processes()) == before)
    assert len(sandbox.client.list("Pod", STABLE_NS, "app=frontend,track=stable")) == 2


def test_a_paused_rollout_waits_and_the_image_catalog_applies(sandbox):
    def canary_versions():
        pods = sandbox.client.list("Pod", CANARY_NS, "app=frontend,track=canary")
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        return sorted(p["spec"]["containers"][0]["image"].rsplit(":", 1)[1] for p in live)

    image = "yyc3/short-drama-frontend:1.2.0-slow"  # in sandbox/images.yaml
    patch = {
        "spec": {
            "paused": True,
            "template": {"spec": {"containers": [{"name": "frontend", "image": image}]}},
        },
    }
    sandbox.client.strategic_merge_patch("Deployment", CANARY_NS, "frontend-canary", patch)
    time.sleep(1.5)
    assert canary_versions() == ["1.1.0"]
    resume = {"spec": {"paused": False}}
    sandbox.client.merge_patch("Deployment", CANARY_NS, "frontend-canary", resume)
    eventually(lambda: canary_versions() == ["1.2.0-slow"], timeout=30)

    def router_serves_new_version():
        """the router sends forced canary traffic to the new version"""
        response = requests.get(sandbox.router + "/api/health", headers={"X-Canary": "always"})
        return response.status_code == 200 and response.json()["version"] == "1.2.0-slow"

    eventually(router_serves_new_version)
    (pod,) = eventually(
        lambda: (
            sandbox.client.list("Pod", CANARY_NS, "app=frontend,track=canary")
            if len(sandbox.client.list("Pod", CANARY_NS, "app=frontend,track=canary")) == 1
            else None
        )
    )
    with open(f"/proc/{sandbox.pod_pid(pod)}/environ", "rb") as handle:
        environ = handle.read().split(b"\0")
    assert b"FAULT_LATENCY_SECONDS=2.5" in environ


def test_killed_app_process_is_restarted(sandbox):
    pod = sandbox.client.list("Pod", STABLE_NS, "app=frontend,track=stable")[0]
    name = pod["metadata"]["name"]
    os.kill(sandbox.pod_pid(pod), 9)

    def restarted():
        """the pod reports one restart and is Ready again"""
        current = sandbox.client.get("Pod", STABLE_NS, name)
        status = current["status"]
        ready = next(c for c in status["conditions"] if c["type"] == "Ready")["status"]
        return status["containerStatuses"][0]["restartCount"] == 1 and ready == "True"

    eventually(restarted)


INVALID_TRAFFIC_OBJECTS = [
    # The schema: a backendRef weight is at least 0.
    (
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": "bad-weight", "namespace": STABLE_NS},
            "spec": {"rules": [{"backendRefs": [{"name": "frontend", "port": 80, "weight": -1}]}]},
        },
        "should be greater than or equal to 0",
    ),
    # A CEL rule of the CRD: a PathPrefix value must start with "/".
    (
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": "bad-path", "namespace": STABLE_NS},
            "spec": {
                "rules": [
                    {
                        "matches": [{"path": {"type": "PathPrefix", "value": "api"}}],
                        "backendRefs": [{"name": "frontend", "port": 80}],
                    }
                ]
            },
        },
        "must be an absolute path",
    ),
    (
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": {"name": "bad-route", "namespace": STABLE_NS},
            "spec": {"http": [{"route": [{"destination": {"host": "frontend"}, "weight": "x"}]}]},
        },
        "weight",
    ),
    (
        {
            "apiVersion": "route.openshift.io/v1",
            "kind": "Route",
            "metadata": {"name": "bad-weight", "namespace": STABLE_NS},
            "spec": {"to": {"kind": "Service", "name": "frontend", "weight": 300}},
        },
        "weight",
    ),
    (
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": "bad-rule", "namespace": STABLE_NS},
            "spec": {"groups": [{"name": "g", "rules": [{"alert": "A"}]}]},
        },
        "expr",
    ),
]


@pytest.mark.parametrize(
    ("obj", "reason"),
    INVALID_TRAFFIC_OBJECTS,
    ids=[f"{obj['kind']}-{obj['metadata']['name']}" for obj, _ in INVALID_TRAFFIC_OBJECTS],
)
def test_the_providers_crds_refuse_invalid_objects(sandbox, obj, reason):
    with pytest.raises(kubeapi.ApiError) as refused:
        sandbox.client.create(obj)
    assert refused.value.status == 422
    assert reason in str(refused.value)


def test_down_leaves_no_process_behind(sandbox):
    components = [
        sandbox.pid(n)
        for n in (
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "node",
            "router",
            "prometheus",
            "loadgen",
        )
    ]
    apps = sandbox.app_processes()
    assert all(components) and apps
    down = ctl(sandbox.state_dir, "down")
    assert down.returncode == 0, down.stderr
    alive = [pid for pid in components + apps if procs.running(pid, "")]
    assert alive == []
    again = ctl(sandbox.state_dir, "down")
    assert again.returncode == 0
    assert "nothing was running" in again.stdout
    assert not os.path.exists(f"/run/netns/{sandbox_ctl.netns_name(sandbox.state_dir)}")
