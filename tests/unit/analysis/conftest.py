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
        fake.requests.append(
            {"path": url.path, "authorization": self.headers.get("Authorization"), **params}
        )
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
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    _self_signed("/CN=127.0.0.1", key, cert, "-addext", "subjectAltName=IP:127.0.0.1")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = _serve("https", context)
    yield server.fake
    server.shutdown()
    server.server_close()


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _self_signed(subject, key, cert, *extra):
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", subject,
        "-keyout", key, "-out", cert, *extra,
    )  # fmt: skip


@pytest.fixture
def pki(tmp_path):
    """A private CA with a server certificate for 127.0.0.1 and a client certificate."""
    if not shutil.which("openssl"):
        pytest.skip("needs openssl to make certificates")
    files = {name: str(tmp_path / f"{name}.pem") for name in ("ca", "ca_key")}
    _self_signed("/CN=test CA", files["ca_key"], files["ca"])
    for name, extension in (
        ("server", "subjectAltName=IP:127.0.0.1"),
        ("client", "extendedKeyUsage=clientAuth"),
    ):
        key, csr, cert = (
            str(tmp_path / f"{name}{suffix}") for suffix in ("-key.pem", ".csr", ".pem")
        )
        ext = tmp_path / f"{name}.ext"
        ext.write_text(extension + "\n")
        _openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            f"/CN={name}",
            "-keyout",
            key,
            "-out",
            csr,
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            files["ca"],
            "-CAkey",
            files["ca_key"],
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            str(ext),
            "-out",
            cert,
        )
        files[name], files[f"{name}_key"] = cert, key
    return files


@pytest.fixture
def fake_prometheus_mtls(pki):
    """The fake behind HTTPS signed by ``pki``'s CA, requiring a client certificate from it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["server"], pki["server_key"])
    context.load_verify_locations(pki["ca"])
    context.verify_mode = ssl.CERT_REQUIRED
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
