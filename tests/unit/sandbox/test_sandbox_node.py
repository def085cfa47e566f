"""The node agent's pieces: the pod network's addresses, probes, the objects it writes."""

import http.server
import ipaddress
import threading

import pytest

from sandbox.node import agent, objects, podnet, probes

CONTAINER = {
    "name": "frontend",
    "image": "yyc3/short-drama-frontend:1.1.0",
    "ports": [{"name": "http", "containerPort": 8080}],
}


def test_the_pod_network_hands_out_its_addresses_after_the_host_end():
    network = podnet.PodNetwork("canary-sbx-test", "10.244.7.0/24")
    assert network.host_ip == "10.244.7.1"
    assert network.allocate(set()) == "10.244.7.2"
    assert network.allocate({"10.244.7.2"}) == "10.244.7.3"
    # A Pod keeps its address across a restart of the agent when it is still free.
    assert network.allocate({"10.244.7.2"}, wanted="10.244.7.9") == "10.244.7.9"
    assert network.allocate(set(), wanted="192.0.2.1") == "10.244.7.2"
    assert len(network.host_link) <= 15
    assert network.command(["app"]) == ["ip", "netns", "exec", "canary-sbx-test", "app"]
    small = podnet.PodNetwork("n", "10.244.8.0/30")
    with pytest.raises(podnet.PodNetworkError, match="no free pod address"):
        small.allocate({"10.244.8.2"})


def test_a_pod_network_routed_on_the_host_already_is_seen_and_skipped(monkeypatch):
    route_table = (
        "default via 192.0.2.1 dev eth0\n"
        "192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2\n"
        "10.244.0.0/24 dev vdeadbeef proto kernel scope link src 10.244.0.1\n"
        "unreachable 10.9.0.0/16\n"
        "10.244.1.7 dev vother scope link\n"
    )
    monkeypatch.setattr(podnet, "_ip", lambda *args: route_table)
    routes = podnet.host_routes()
    assert [str(net) for net, _ in routes] == ["192.0.2.0/24", "10.244.0.0/24", "10.244.1.7/32"]
    network = ipaddress.ip_network("10.244.0.0/24")
    # A sandbox's own link is no conflict; a killed sandbox's link with the same CIDR is.
    assert podnet.overlaps(network, routes, own_link="vdeadbeef") == []
    assert [dev for _, dev in podnet.overlaps(network, routes, own_link="vmine")] == ["vdeadbeef"]
    assert podnet.first_free("10.244.0.0/16", routes) == "10.244.2.0/24"
    with pytest.raises(podnet.PodNetworkError, match=r"every /24 of 10\.244\.0\.0/23"):
        podnet.first_free("10.244.0.0/23", routes)


def test_creating_a_pod_network_over_a_routed_one_is_refused_before_anything_changes(
    monkeypatch,
):
    calls = []

    def fake_ip(*args):
        calls.append(args)
        return "10.244.0.0/24 dev vdeadbeef proto kernel scope link src 10.244.0.1\n"

    monkeypatch.setattr(podnet, "_ip", fake_ip)
    monkeypatch.setattr(podnet.os, "geteuid", lambda: 0)
    network = podnet.PodNetwork("canary-sbx-12345678", "10.244.0.0/24")
    with pytest.raises(podnet.PodNetworkError, match=r"10.244.0.0/24 on vdeadbeef.*--pod-cidr"):
        network.create()
    assert calls == [("-o", "-4", "route", "show")]


def test_probe_specs_take_kubernetes_defaults_and_named_ports():
    probe = probes.Probe.parse({"httpGet": {"path": "/api/health", "port": "http"}}, CONTAINER)
    assert (probe.kind, probe.port, probe.path, probe.period, probe.failure_threshold) == (
        "httpGet",
        8080,
        "/api/health",
        10.0,
        3,
    )
    assert probes.Probe.parse(None, CONTAINER) is None
    with pytest.raises(probes.UnsupportedProbe, match="exec"):
        probes.Probe.parse({"exec": {"command": ["true"]}}, CONTAINER)
    with pytest.raises(probes.UnsupportedProbe, match="metrics"):
        probes.Probe.parse({"tcpSocket": {"port": "metrics"}}, CONTAINER)


def test_probe_thresholds_count_results_in_a_row():
    probe = probes.Probe.parse(
        {"tcpSocket": {"port": 1}, "failureThreshold": 3, "successThreshold": 2}, CONTAINER
    )
    state = probes.ProbeState(probe, passing=False)
    assert [state.record(r) for r in (True, False, True, True)] == [False, False, False, True]
    assert state.passing
    assert [state.record(r) for r in (False, False, True, False, False, False)] == [
        False,
        False,
        False,
        False,
        False,
        True,
    ]
    assert not state.passing


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/ok" else 503)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_http_and_tcp_probes_against_a_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        ok = probes.Probe.parse({"httpGet": {"path": "/ok", "port": port}}, CONTAINER)
        failing = probes.Probe.parse({"httpGet": {"path": "/no", "port": port}}, CONTAINER)
        tcp = probes.Probe.parse({"tcpSocket": {"port": port}}, CONTAINER)
        assert ok.attempt("127.0.0.1") and tcp.attempt("127.0.0.1")
        assert not failing.attempt("127.0.0.1")
    finally:
        server.shutdown()
        server.server_close()
    assert not tcp.attempt("127.0.0.1")


def test_pod_status_as_a_kubelet_writes_it():
    status = objects.pod_status(
        "Running",
        "10.244.0.1",
        "10.244.0.5",
        0.0,
        [objects.container_status(CONTAINER, {"running": {"startedAt": "x"}}, True, 2)],
        5.0,
        True,
    )
    assert (status["podIP"], status["podIPs"], status["hostIP"]) == (
        "10.244.0.5",
        [{"ip": "10.244.0.5"}],
        "10.244.0.1",
    )
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == {
        "PodReadyToStartContainers": "True",
        "Initialized": "True",
        "ContainersReady": "True",
        "Ready": "True",
    }
    (container,) = status["containerStatuses"]
    assert (container["ready"], container["started"], container["restartCount"]) == (True, True, 2)
    pending = objects.pod_status("Pending", "10.244.0.1", None, 0.0, [], 0.0, False)
    assert "podIP" not in pending


def test_node_and_lease_shapes():
    node = objects.node("sandbox", "10.244.0.0/24")
    assert node["spec"]["podCIDRs"] == ["10.244.0.0/24"]
    status = objects.node_status("sandbox", "10.244.0.1", "v1.37.2", 0.0, 10.0, agent.CAPACITY)
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
    assert status["nodeInfo"]["kubeletVersion"] == "v1.37.2+sandbox"
    lease = objects.lease("sandbox", 1.5)
    assert lease["metadata"]["namespace"] == "kube-node-lease"
    assert lease["spec"]["renewTime"] == "1970-01-01T00:00:01.500000Z"


def test_what_the_node_cannot_run_is_named():
    pod = {"spec": {"containers": [CONTAINER, {**CONTAINER, "name": "sidecar"}]}}
    with pytest.raises(agent.PodSpecError, match="exactly one container"):
        agent.check_runnable(pod)
    with pytest.raises(agent.PodSpecError, match="envFrom"):
        agent.check_runnable({"spec": {"containers": [{**CONTAINER, "envFrom": [{}]}]}})
    assert agent.check_runnable({"spec": {"containers": [CONTAINER]}}) == CONTAINER
    assert agent.container_port(CONTAINER) == 8080
    assert agent.container_port({"name": "x"}) == agent.DEFAULT_PORT
    # SIGTERM and SIGKILL read as the kubelet reports them.
    assert (agent.exit_status(-15), agent.exit_status(-9), agent.exit_status(1)) == (143, 137, 1)
