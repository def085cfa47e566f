"""The sandbox's API client in a real cluster: TLS to the cluster's API server with the
pod's service account token, as the router of the kind scenario runs. The API server
here is a local HTTPS server with a self-signed certificate."""

import json
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from sandbox import kubeapi, router


class ApiServer(BaseHTTPRequestHandler):
    """Answers every GET with a ConfigMap and remembers the Authorization headers."""

    seen: list

    def do_GET(self):
        self.seen.append(self.headers.get("Authorization"))
        body = json.dumps({"kind": "ConfigMap", "data": {"canary_percentage": "5"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        """Quiet: the test reads ``seen``."""


@pytest.fixture
def cluster(tmp_path):
    """An HTTPS API server on 127.0.0.1 and a service account directory trusting it."""
    account = tmp_path / "serviceaccount"
    account.mkdir()
    cert, key = account / "ca.crt", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    (account / "token").write_text("first-token\n")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    handler = type("Handler", (ApiServer,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    environ = {
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(server.server_port),
    }
    yield {"environ": environ, "account": account, "seen": handler.seen}
    server.shutdown()
    server.server_close()


def test_in_cluster_client_sends_the_token_it_reads_at_each_call(cluster):
    client = kubeapi.Client.in_cluster(environ=cluster["environ"], account_dir=cluster["account"])
    assert client.server == f"https://127.0.0.1:{cluster['environ']['KUBERNETES_SERVICE_PORT']}"
    first = client.get("ConfigMap", "yyc3-short-drama", "traffic-config")
    (cluster["account"] / "token").write_text("rotated-token\n")
    client.get("ConfigMap", "yyc3-short-drama", "traffic-config")
    assert first["data"]["canary_percentage"] == "5"
    assert cluster["seen"] == ["Bearer first-token", "Bearer rotated-token"]


def test_in_cluster_client_trusts_only_the_cluster_ca(cluster):
    port = cluster["environ"]["KUBERNETES_SERVICE_PORT"]
    stranger = kubeapi.Client(f"https://127.0.0.1:{port}", token_path=cluster["account"] / "token")
    with pytest.raises(requests.exceptions.SSLError):
        stranger.get("ConfigMap", "yyc3-short-drama", "traffic-config")
    assert cluster["seen"] == []


def test_in_cluster_client_without_the_pod_environment_is_refused():
    with pytest.raises(ValueError, match="KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT"):
        kubeapi.Client.in_cluster(environ={"KUBERNETES_SERVICE_PORT": "443"})


def test_in_cluster_client_brackets_an_ipv6_service_address(tmp_path):
    environ = {"KUBERNETES_SERVICE_HOST": "fd00:10:96::1", "KUBERNETES_SERVICE_PORT": "443"}
    client = kubeapi.Client.in_cluster(environ=environ, account_dir=tmp_path)
    assert client.server == "https://[fd00:10:96::1]:443"
    assert (client.token_path, client.verify) == (
        str(tmp_path / "token"),
        str(tmp_path / "ca.crt"),
    )


def test_router_reads_in_cluster_or_the_configured_url(cluster, monkeypatch):
    for name, value in cluster["environ"].items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(kubeapi, "SERVICE_ACCOUNT_DIR", str(cluster["account"]))
    in_cluster = router.make_client("in-cluster")
    assert in_cluster.server.startswith("https://127.0.0.1:")
    assert in_cluster.timeout == 2.0
    plain = router.make_client("http://127.0.0.1:16443")
    assert (plain.server, plain.token_path, plain.verify) == ("http://127.0.0.1:16443", None, True)


def test_a_router_without_its_token_keeps_polling(cluster):
    (cluster["account"] / "token").unlink()
    client = kubeapi.Client.in_cluster(environ=cluster["environ"], account_dir=cluster["account"])
    config = router.load_config()
    stop = threading.Event()
    poller = threading.Thread(target=router.Router(config, client).poll, args=(stop,))
    poller.start()
    stop.wait(0.5)
    alive = poller.is_alive()
    stop.set()
    poller.join(timeout=5)
    assert alive
    assert cluster["seen"] == []
