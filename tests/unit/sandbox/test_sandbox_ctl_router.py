"""``python -m sandbox router --traffic P``: the router alone restarted with another provider.

The sandbox's state dir is the real API server's (``real_api``: etcd and kube-apiserver
of that state dir, seeded here as ``sandbox up`` seeds it), with the router as its own
ServiceAccount (``sandbox/kube/identities.yaml``) on free ports. The router is stopped
by PID at the end; the API server is the session's and keeps running.

No pod runs: the stable Service's EndpointSlice names an address of TEST-NET-1, which
nothing connects to (the real API server refuses the 127.0.0.1 a pod of this test would
listen on). So "the router answers" is what its admin port reports, the stable backend
read from the API server, rather than a request proxied through to stable
(``Sandbox.router_answers``), which tests/integration/sandbox covers with real pods.
"""

import json
import os
import socket

import pytest
import requests

from sandbox import ctl, procs
from sandbox.kube import controlplane

from .seeded import router_token

STABLE_NAMESPACE = "yyc3-short-drama"
# TEST-NET-1 (RFC 5737): never routed, never connected to.
UNREACHABLE = "192.0.2.10"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def router_reads_stable(sandbox):
    """The router's admin port answers and counts the stable backend it read."""
    answer = requests.get(sandbox.admin_url("/state"), timeout=2).json()
    return answer["backends"]["stable"] == 1, f"router state {answer}"


def write_router_kubeconfig(sandbox):
    """The router's kubeconfig as ``sandbox up`` writes it: its ServiceAccount's token."""
    controlplane.write_yaml(
        sandbox.path("kubeconfigs", "router"),
        controlplane.kubeconfig(
            sandbox.api,
            sandbox.control_plane.ca_path,
            {"token": router_token(sandbox.admin())},
        ),
    )


@pytest.fixture
def sandbox(real_api, monkeypatch):
    """The seeded API server and the router with the configmap provider, running."""
    for setting in ctl.PORTS.values():
        monkeypatch.delenv(setting[1], raising=False)
    monkeypatch.setattr(ctl.Sandbox, "router_answers", router_reads_stable)
    ports = {setting: free_port() for setting in ctl.PORTS}
    ports.update(real_api.control_plane.ports)
    running = ctl.Sandbox(real_api.control_plane.state_dir, ports)
    for sub in ("pids/apps", "logs/apps"):
        os.makedirs(running.path(sub), exist_ok=True)
    running.write_state()
    try:
        write_router_kubeconfig(running)
        running.seed()
        admin = running.admin()
        admin.delete("EndpointSlice", STABLE_NAMESPACE, "frontend-unreachable")
        admin.create(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "namespace": STABLE_NAMESPACE,
                    "name": "frontend-unreachable",
                    "labels": {"kubernetes.io/service-name": "frontend"},
                },
                "addressType": "IPv4",
                "endpoints": [
                    {
                        "addresses": [UNREACHABLE],
                        "conditions": {"ready": True},
                        "targetRef": {"kind": "Pod", "name": "stable-a"},
                    }
                ],
                "ports": [{"name": "http", "port": 8080}],
            }
        )
        running.start_router()
        running.wait("router", running.router_answers, 20)
        yield running
    finally:
        procs.stop([(running.pid("router"), running.marker("router"))], grace=5.0)
        router_pid = running.path("pids", "router.pid")
        if os.path.exists(router_pid):
            os.unlink(router_pid)


def test_router_command_restarts_only_the_router_with_the_new_provider(sandbox, capsys):
    state_dir = sandbox.state_dir
    control_plane = {name: sandbox.control_plane.pid(name) for name in ("etcd", "kube-apiserver")}
    before = sandbox.pid("router")
    assert requests.get(sandbox.admin_url("/state"), timeout=2).json()["provider"] == "configmap"

    assert ctl.main(["router", "--traffic", "gateway_api", "--state-dir", state_dir]) == 0
    assert capsys.readouterr().out == "router restarted with gateway_api: weight 0\n"
    assert {name: sandbox.control_plane.pid(name) for name in control_plane} == control_plane
    assert all(sandbox.control_plane.running(name) for name in control_plane)
    assert sandbox.pid("router") != before
    assert not procs.running(before, "sandbox.router")
    answer = requests.get(sandbox.admin_url("/state"), timeout=2).json()
    assert (answer["provider"], answer["mode"], answer["problem"]) == ("gateway_api", "routes", "")
    assert answer["backends"]["stable"] == 1
    with open(sandbox.path("state.json")) as handle:
        assert json.load(handle)["traffic"] == "gateway_api"

    # Later commands find the provider in state.json.
    assert ctl.main(["status", "--state-dir", state_dir]) == 0
    assert "'provider': 'gateway_api'" in capsys.readouterr().out


def test_router_command_needs_a_provider_and_a_running_sandbox(tmp_path, capsys):
    with pytest.raises(SystemExit):
        ctl.main(["router", "--state-dir", str(tmp_path)])
    assert "router needs --traffic PROVIDER" in capsys.readouterr().err
    assert ctl.main(["router", "--traffic", "istio", "--state-dir", str(tmp_path)]) == 1
    assert "no sandbox runs from" in capsys.readouterr().err
