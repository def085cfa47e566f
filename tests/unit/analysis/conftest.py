"""A scriptable stand-in for the Prometheus query API, on 127.0.0.1 and a free port.

Each test registers what a path prefix answers (status, body, delay), so one server
covers success, API errors, HTTP errors, broken JSON and slow answers.
"""

import contextlib
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

OPENSSL_SELF_SIGNED = [
    "openssl",
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
]


class FakePrometheus:
    """What the fake answers (``routes``) and what it was asked (``requests``)."""

    def __init__(self, server, scheme):
        self._server = server
        self._scheme = scheme
        self.routes = {}
        self.requests = []

    def respond(self, prefix, body, status=200, delay=0.0, query=None):
        """Answer queries under ``/<prefix>`` (only ``query`` if given) with ``body``.

        A dict body is sent as JSON. Returns the base URL a client should use.
        """
        if not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        self.routes[prefix, query] = (status, body, delay)
        return f"{self._scheme}://127.0.0.1:{self._server.server_address[1]}/{prefix}"

    def respond_vector(self, prefix, *values, query=None):
        """Answer with an instant vector of one series per sample string (``"NaN"``...)."""
        result = [
            {"metric": {"pod": f"pod-{i}"} if len(values) > 1 else {}, "value": [1.0, value]}
            for i, value in enumerate(values)
        ]
        return self.respond(prefix, _success("vector", result), query=query)


def _success(result_type, result):
    return {"status": "success", "data": {"resultType": result_type, "result": result}}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        fake = self.server.fake
        url = urllib.parse.urlsplit(self.path)
        prefix = url.path.strip("/").split("/", 1)[0]
        params = dict(urllib.parse.parse_qsl(url.query))
        fake.requests.append({"path": url.path, **params})
        route = fake.routes.get((prefix, params.get("query"))) or fake.routes.get((prefix, None))
        status, body, delay = route or (404, b"404 page not found", 0.0)
        time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # The client may have given up waiting, which is what slow routes test.
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve(scheme, context=None):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.fake = FakePrometheus(server, scheme)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    return server


@pytest.fixture
def fake_prometheus():
    server = _serve("http")
    yield server.fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_prometheus_tls(tmp_path):
    """The same fake behind HTTPS with a self-signed certificate for 127.0.0.1."""
    if not shutil.which("openssl"):
        pytest.skip("needs openssl to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [*OPENSSL_SELF_SIGNED, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = _serve("https", context)
    yield server.fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def refused_url():
    """A URL on a port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
