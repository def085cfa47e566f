"""The router in every provider's mode, end to end on 127.0.0.1.

The real API server (``real_api``) seeded from sandbox/manifests/ as ``sandbox up``
seeds it, in namespaces of this module's own (``seeded``); two stable "pods" and one
canary "pod" (small HTTP servers named by their EndpointSlices), and the router's proxy
on a free port. Each test writes a provider's object as its provider would, lets the
router read it once, and sends real requests.

The pods listen on 127.0.0.1, which the real API server refuses in an EndpointSlice
("may not be in the loopback range"): the router's client reads everything from the API
server but the EndpointSlices, which this test keeps (``WithSlices``), each one checked
by a server-side dry run with a pod network address in place of 127.0.0.1.
"""

import contextlib
import copy
import json
import logging
import pathlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from sandbox import kubeapi, router
from sandbox.releases import traffic_seeds
from sandbox.routing import bucketing

from .seeded import fresh_namespace, remove_ingresses, renamed, seed

ROUTER_YAML = pathlib.Path(__file__).resolve().parents[3] / "sandbox" / "router.yaml"
# The seed's namespaces, as the objects below name them; ``write``, ``endpoints`` and
# ``proxy`` put them in the module's own.
NS, CANARY_NS = "yyc3-short-drama", "yyc3-short-drama-canary"
SERVICE_NAME = "kubernetes.io/service-name"
# An address of the sandbox's pod network, for the dry run of each EndpointSlice.
POD_ADDRESS = "10.244.0.10"
PROXY = "/api/v1/namespaces/{}/services/{}/proxy"
USERS = [f"user-{n:05d}" for n in range(400)]
SESSION = requests.Session()  # keep-alive: the proxy speaks HTTP/1.1


class Pod(BaseHTTPRequestHandler):
    """A pod of the demo app, reduced to saying which pod it is."""

    protocol_version = "HTTP/1.1"
    name = ""

    def do_GET(self):
        body = json.dumps({"pod": self.name}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        """Quiet."""


@contextlib.contextmanager
def serving(server):
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class WithSlices:
    """The real API server's client, except that the EndpointSlices are kept here."""

    def __init__(self, client):
        self.client = client
        self.slices = {}  # (namespace, service) -> [EndpointSlice]

    def __getattr__(self, name):
        return getattr(self.client, name)

    def list(self, kind, namespace=None, label_selector=None, field_selector=None):
        if kind != "EndpointSlice":
            return self.client.list(kind, namespace, label_selector, field_selector)
        key, _, service = label_selector.partition("=")
        assert (key, field_selector) == (SERVICE_NAME, None), label_selector
        return copy.deepcopy(self.slices.get((namespace, service), []))

    def set_slices(self, namespace, service, slices):
        for endpoint_slice in slices:
            checked = copy.deepcopy(endpoint_slice)
            for endpoint in checked["endpoints"]:
                endpoint["addresses"] = [POD_ADDRESS]
            self.client.request(
                "POST",
                kubeapi.path("EndpointSlice", namespace),
                checked,
                params={"dryRun": "All"},
            )
        self.slices[(namespace, service)] = slices


@pytest.fixture(scope="module")
def cluster(real_api):
    """The seed in fresh namespaces, the canary one too, and the three pods' servers."""
    namespace = fresh_namespace()
    canary_namespace = f"{namespace}-canary"
    client = real_api.client
    seed(client, namespace)
    client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": canary_namespace}})
    pods = {
        name: ThreadingHTTPServer(("127.0.0.1", 0), type(name, (Pod,), {"name": name}))
        for name in ("stable-a", "stable-b", "canary-a")
    }
    with contextlib.ExitStack() as stack:
        for server in pods.values():
            stack.enter_context(serving(server))
        yield {
            "api": real_api,
            "client": WithSlices(client),
            "namespace": namespace,
            "pods": pods,
        }
    remove_ingresses(client, namespace, canary_namespace)


def in_module(cluster, data):
    """``data`` with the seed's namespaces renamed to the module's."""
    return renamed(data, cluster["namespace"])


def proxy(cluster, namespace, service):
    """The service proxy path of a Service of the seed's ``namespace``."""
    return PROXY.format(in_module(cluster, namespace), service)


def endpoints(cluster, namespace, service, *pods):
    """Keep a Service's EndpointSlices: one per ready pod, each pod on its own port.

    With no pod, one slice without endpoints, as the EndpointSlice controller leaves.
    """
    namespace = in_module(cluster, namespace)

    def endpoint_slice(name, endpoints, ports):
        return {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {"namespace": namespace, "name": name, "labels": {SERVICE_NAME: service}},
            "addressType": "IPv4",
            "endpoints": endpoints,
            "ports": ports,
        }

    slices = [
        endpoint_slice(
            f"{service}-{pod}",
            [
                {
                    "addresses": ["127.0.0.1"],
                    "conditions": {"ready": True, "serving": True, "terminating": False},
                    "targetRef": {"kind": "Pod", "namespace": namespace, "name": pod},
                }
            ],
            [
                {
                    "name": "http",
                    "port": cluster["pods"][pod].server_address[1],
                    "protocol": "TCP",
                }
            ],
        )
        for pod in pods
    ] or [endpoint_slice(f"{service}-empty", [], [])]
    cluster["client"].set_slices(namespace, service, slices)


def write(cluster, obj):
    """Create or replace a traffic object (of the seed's namespaces) in the module's."""
    obj = in_module(cluster, obj)
    client = cluster["client"]
    meta = obj["metadata"]
    current = client.get(obj["kind"], meta["namespace"], meta["name"])
    if current is None:
        client.create(obj)
    else:
        obj["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        client.replace(obj)


@pytest.fixture
def routed(cluster):
    """Start a router for a provider; return (Router, proxy URL)."""
    endpoints(cluster, NS, "frontend", "stable-a", "stable-b")
    endpoints(cluster, CANARY_NS, "frontend-canary", "canary-a")
    with contextlib.ExitStack() as stack:

        def start(provider):
            config = router.load_config(
                str(ROUTER_YAML), apiserver=cluster["api"].url, provider=provider
            )
            live = router.Router(in_module(cluster, config), cluster["client"])
            live.refresh()
            proxy = router.serve(router.ProxyHandler, live, {"host": "127.0.0.1", "port": 0})
            stack.enter_context(serving(proxy))
            return live, f"http://127.0.0.1:{proxy.server_address[1]}"

        yield start


def ask(url, headers=None, path="/api/health"):
    answer = SESSION.get(url + path, headers=headers or {}, timeout=5)
    return (
        answer.status_code,
        answer.headers.get("X-Canary-Track"),
        answer.headers.get("X-Backend-Pod"),
    )


def canary_users(url):
    return {user for user in USERS if ask(url, {"X-User-Id": user})[1] == "canary"}


def expected(share):
    return {user for user in USERS if bucketing.in_canary(user, share)}


def seeded(kind):
    return next(obj for obj in traffic_seeds() if obj["kind"] == kind)


# --- the modes with a route table ----------------------------------------------------------


def httproute(weight):
    route = seeded("HTTPRoute")
    rule = route["spec"]["rules"][0]
    rule["backendRefs"][0]["weight"] = 100 - weight
    rule["backendRefs"][1]["weight"] = weight
    for value, ref in (("always", rule["backendRefs"][1]), ("never", rule["backendRefs"][0])):
        match = {**rule["matches"][0], "headers": [{"name": "X-Canary", "value": value}]}
        route["spec"]["rules"].append({"matches": [match], "backendRefs": [{**ref, "weight": 1}]})
    return route


def canary_ingress(weight):
    ingress = seeded("Ingress")
    ingress["metadata"] = {
        "namespace": CANARY_NS,
        "name": "frontend-canary",
        "annotations": {
            "nginx.ingress.kubernetes.io/canary": "true",
            "nginx.ingress.kubernetes.io/canary-by-header": "X-Canary",
            "nginx.ingress.kubernetes.io/canary-weight": str(weight),
        },
    }
    ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = (
        "frontend-canary"
    )
    return ingress


def virtualservice(weight):
    service = seeded("VirtualService")
    weighted = service["spec"]["http"][-1]
    weighted["route"][0]["weight"] = 100 - weight
    weighted["route"][1]["weight"] = weight
    forced = [
        {"match": [{"headers": {"x-canary": {"exact": value}}}], "route": [dest]}
        for value, dest in (("always", weighted["route"][1]), ("never", weighted["route"][0]))
    ]
    service["spec"]["http"] = [*forced, weighted]
    return service


@pytest.mark.parametrize(
    ("provider", "build"),
    [("gateway_api", httproute), ("ingress_nginx", canary_ingress), ("istio", virtualservice)],
)
def test_each_provider_splits_by_the_sticky_bucket_and_honours_the_forcing_header(
    cluster, routed, provider, build
):
    write(cluster, build(20))
    live, url = routed(provider)
    assert live.state() == {
        "provider": provider,
        "mode": "routes",
        "weight": 20,
        "canary_header": "x-canary",
        "problem": "",
        "backends": {"stable": 2, "canary": 1},
    }
    assert canary_users(url) == expected(20)
    assert ask(url, {"X-Canary": "always", "X-User-Id": "user-00001"})[1:] == ("canary", "canary-a")
    never = {ask(url, {"X-Canary": "never", "X-User-Id": u})[1] for u in USERS[:50]}
    assert never == {"stable"}
    write(cluster, build(0))
    live.refresh()
    assert live.state()["weight"] == 0
    assert canary_users(url) == set()


def test_the_configmap_leaves_each_request_to_sandbox_routing(cluster, routed):
    configmap = seeded("ConfigMap")
    configmap["data"]["canary_percentage"] = "20"
    write(cluster, configmap)
    live, url = routed("configmap")
    assert (live.state()["mode"], live.state()["weight"]) == ("weight", 20)
    assert canary_users(url) == expected(20)
    assert ask(url, {"X-Canary": "Always"})[1] == "canary"  # as routing.forced_track reads it
    write(cluster, seeded("ConfigMap"))


def test_ids_in_any_script_are_split_as_their_utf8_bytes_by_header_and_cookie(cluster, routed):
    configmap = seeded("ConfigMap")
    configmap["data"]["canary_percentage"] = "50"
    write(cluster, configmap)
    _, url = routed("configmap")
    for n in range(40):
        user = f"{'用户ユーザーمستخدمχρήστης🎬'[n % 20]}-{n}"
        track = "canary" if bucketing.in_canary(user, 50) else "stable"
        assert ask(url, {"X-User-Id": user.encode()})[1] == track, user
        assert ask(url, {"Cookie": f"user_id={user}".encode()})[1] == track, user
    write(cluster, seeded("ConfigMap"))


def test_openshift_route_splits_by_weight_and_forces_nothing(cluster, routed):
    # A Route reaches its own namespace only: the router config puts the canary there.
    endpoints(cluster, NS, "frontend-canary", "canary-a")
    route = seeded("Route")
    route["spec"]["to"]["weight"] = 192
    route["spec"]["alternateBackends"][0]["weight"] = 64
    write(cluster, route)
    live, url = routed("openshift_route")
    assert (live.state()["weight"], live.state()["canary_header"]) == (25, "")
    assert canary_users(url) == expected(25)
    forced = {u for u in USERS if ask(url, {"X-Canary": "always", "X-User-Id": u})[1] == "canary"}
    assert forced == expected(25)
    # The validation reaches each track by its Service's own URL.
    assert ask(url, path=proxy(cluster, NS, "frontend-canary") + "/api/health")[:3] == (
        200,
        "canary",
        "canary-a",
    )
    assert {ask(url, path=proxy(cluster, NS, "frontend:80") + "/")[1] for _ in range(4)} == {
        "stable"
    }


def test_forced_canary_without_a_ready_backend_is_503_weighted_falls_back(cluster, routed):
    write(cluster, httproute(100))
    endpoints(cluster, CANARY_NS, "frontend-canary")
    live, url = routed("gateway_api")
    assert live.state()["backends"]["canary"] == 0
    assert ask(url, {"X-Canary": "always"})[:2] == (503, "canary")
    assert ask(url, {"X-User-Id": "user-00001"})[:2] == (200, "stable")
    assert ask(url, path=proxy(cluster, CANARY_NS, "frontend-canary") + "/api/health")[:2] == (
        503,
        "canary",
    )


def test_a_request_no_route_matches_gets_404(cluster, routed):
    route = httproute(0)
    route["spec"]["rules"] = [
        {
            "matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
            "backendRefs": [route["spec"]["rules"][0]["backendRefs"][0]],
        }
    ]
    write(cluster, route)
    _, url = routed("gateway_api")
    assert ask(url, path="/api/health")[0] == 200
    assert ask(url, path="/metrics")[0] == 404


# --- replicas ------------------------------------------------------------------------------


def test_replicas_mode_spreads_requests_over_the_pods_its_service_selects(cluster, routed):
    endpoints(cluster, NS, "frontend-canary", "canary-a")
    endpoints(cluster, NS, "frontend-all", "stable-a", "stable-b", "canary-a")
    live, url = routed("replicas")
    assert (live.state()["mode"], live.state()["weight"]) == ("replicas", 33.33)
    seen = [ask(url, {"X-User-Id": "same-user"})[1:] for _ in range(300)]
    counts = {pod: seen.count(pod) for pod in set(seen)}
    assert counts == {
        ("stable", "stable-a"): 100,
        ("stable", "stable-b"): 100,
        ("canary", "canary-a"): 100,
    }
    never = [ask(url, {"X-Canary": "never"})[1] for _ in range(6)]
    assert never.count("canary") == 2  # nothing forces a track
    assert {ask(url, path=proxy(cluster, NS, "frontend") + "/")[1] for _ in range(6)} == {"stable"}
    # A Service that does not select the canary's pods sends it nothing.
    endpoints(cluster, NS, "frontend-all", "stable-a", "stable-b")
    live.refresh()
    assert live.state()["weight"] == 0
    assert {ask(url)[1] for _ in range(6)} == {"stable"}


# --- fail closed, logged once --------------------------------------------------------------


def test_a_problem_is_logged_once_and_everything_goes_to_stable(cluster, routed, caplog):
    broken = httproute(50)
    broken["spec"]["parentRefs"] = [{"name": "another-gateway"}]
    write(cluster, broken)
    live, url = routed("gateway_api")
    with caplog.at_level(logging.WARNING, logger="sandbox.router"):
        for _ in range(3):
            live.refresh()
        assert "does not name Gateway" in live.state()["problem"]
        assert {ask(url, {"X-Canary": "always", "X-User-Id": u})[1] for u in USERS[:40]} == {
            "stable"
        }
        write(cluster, httproute(50))
        live.refresh()
        live.refresh()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "frontend-gateway" in warnings[0]
    assert live.state()["problem"] == ""
