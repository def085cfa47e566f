"""``python -m sandbox router --traffic P``: the router alone restarted with another provider.

A sandbox of two processes (the API server and the router) on free ports with its own
state dir, one stable "pod" served by this test, everything stopped by PID at the end.
"""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from sandbox import ctl, kubeapi, procs


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Pod(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        """Quiet."""


@pytest.fixture
def pod():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Pod)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def sandbox(tmp_path, monkeypatch, pod):
    """The API server (seeded) and the router with the configmap provider, running."""
    for setting in ctl.PORTS.values():
        monkeypatch.delenv(setting[1], raising=False)
    ports = {setting: free_port() for setting in ctl.PORTS}
    running = ctl.Sandbox(str(tmp_path / "state"), ports)
    for sub in ("pids/apps", "logs/apps"):
        (tmp_path / "state" / sub).mkdir(parents=True)
    running.write_state()
    try:
        running.start_module("apiserver", "--port", ports["api_port"], "--pods-from-kubelet")
        running.wait("API server", running.api_answers, 20)
        running.seed()
        kubeapi.Client(running.api).create(
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"namespace": "yyc3-short-drama", "name": "frontend"},
                "subsets": [
                    {
                        "addresses": [{"ip": "127.0.0.1", "targetRef": {"name": "stable-a"}}],
                        "ports": [{"port": pod}],
                    }
                ],
            }
        )
        running.start_router()
        running.wait("router", running.router_answers, 20)
        yield running
    finally:
        running.down()


def test_router_command_restarts_only_the_router_with_the_new_provider(sandbox, capsys):
    state_dir = sandbox.state_dir
    before = (sandbox.pid("apiserver"), sandbox.pid("router"))
    assert requests.get(sandbox.admin_url("/state"), timeout=2).json()["provider"] == "configmap"

    assert ctl.main(["router", "--traffic", "gateway_api", "--state-dir", state_dir]) == 0
    assert capsys.readouterr().out == "router restarted with gateway_api: weight 0\n"
    assert sandbox.pid("apiserver") == before[0]
    assert sandbox.pid("router") != before[1]
    assert not procs.running(before[1], "sandbox.router")
    state = requests.get(sandbox.admin_url("/state"), timeout=2).json()
    assert (state["provider"], state["mode"], state["problem"]) == ("gateway_api", "routes", "")
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
