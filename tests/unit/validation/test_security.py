"""Security checks of a canary endpoint against real local servers on 127.0.0.1.

TLS servers are Python ``ssl`` servers with certificates from a private CA made here
(valid, expired, for another host, TLS 1.0 only, TLS 1.0 besides 1.2); headers come from
a local HTTP server; ports are real listening sockets scanned with the connect fallback
and with nmap when it is installed; ZAP runs as a stand-in script writing a fixture report.
"""

import contextlib
import datetime
import ipaddress
import json
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import canary_security
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible.module_utils.validation import headers, ports, tls, zap
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "canary.test"

# --- certificates -------------------------------------------------------------------


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, key, issuer, issuer_key, days, san=None, ca=False, past=False):
    now = datetime.datetime.now(datetime.UTC)
    start = now - datetime.timedelta(days=days + 10) if past else now - datetime.timedelta(hours=1)
    end = now - datetime.timedelta(days=1) if past else now + datetime.timedelta(days=days)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def tls_pki(tmp_path_factory):
    """A private CA and server certificates: valid, short-lived, expired, other host."""
    directory = tmp_path_factory.mktemp("tls_pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("security test CA", ca_key, "security test CA", ca_key, 30, ca=True)
    files = {"ca": directory / "ca.pem"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    local = [x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    variants = {
        "valid": {"days": 90, "san": local},
        "short": {"days": 5, "san": local},
        "expired": {"days": 30, "san": local, "past": True},
        "other_host": {"days": 90, "san": [x509.DNSName("elsewhere.test")]},
    }
    for name, options in variants.items():
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(name, key, "security test CA", ca_key, **options)
        path = directory / f"{name}.pem"
        path.write_bytes(
            cert.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        files[name] = path
    return {name: str(path) for name, path in files.items()}


# --- TLS servers ----------------------------------------------------------------------


class _TLSServer:
    """Accepts connections on 127.0.0.1, completes the handshake, closes."""

    def __init__(self, context):
        self.context = context
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(2)
            # A refused or failed handshake is what several tests are about.
            with contextlib.suppress(OSError), self.context.wrap_socket(conn, server_side=True):
                pass
            conn.close()

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self.sock.close()
        self.thread.join(2)


def _server_context(certfile, versions=None):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile)
    if versions:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1 is the point here
            context.set_ciphers(tls.LEGACY_CIPHERS)
            context.minimum_version, context.maximum_version = versions
    return context


@pytest.fixture
def tls_server(tls_pki):
    """Start TLS servers by certificate name (and protocol versions); stop them after."""
    servers = []

    def start(name, versions=None):
        server = _TLSServer(_server_context(tls_pki[name], versions))
        servers.append(server)
        return server.port

    yield start
    for server in servers:
        server.close()


def _check_tls(port, **options):
    return tls.check_tls(tls.prepare({"host": "127.0.0.1", "port": port, **options}))


def _skip_without_tls10(result):
    if not str(result.get("probes", {}).get("TLSv1", "")).startswith(("accepted", "refused")):
        pytest.skip(f"this OpenSSL cannot do TLS 1.0 at all: {result.get('probes')}")


def test_valid_certificate_from_the_private_ca_passes(tls_server, tls_pki):
    port = tls_server("valid")
    result = _check_tls(port, server_name=HOST, ca_path=tls_pki["ca"])
    assert result["failures"] == []
    assert result["version"] in ("TLSv1.2", "TLSv1.3")
    assert result["verified"] is True and result["hostname_matches"] is True
    assert result["subject"] == "CN=valid" and result["issuer"] == "CN=security test CA"
    assert result["san"] == [f"DNS:{HOST}", "IP:127.0.0.1"]
    assert 88 <= result["days_left"] <= 90
    assert set(result["probes"]) == {"TLSv1", "TLSv1.1"}
    assert all(outcome != "accepted" for outcome in result["probes"].values())


def test_ip_address_matches_ip_san(tls_server, tls_pki):
    result = _check_tls(tls_server("valid"), ca_path=tls_pki["ca"], probe=False)
    assert result["failures"] == [] and "probes" not in result


def test_system_store_does_not_trust_the_private_ca(tls_server):
    result = _check_tls(tls_server("valid"), server_name=HOST, probe=False)
    assert result["verified"] is False
    assert result["failures"] == [
        f"tls.verify: chain does not verify against the system store: {result['verify_error']}"
    ]
    assert _check_tls(tls_server("valid"), verify=False, probe=False)["failures"] == []


def test_expired_certificate_fails_min_days_and_verify(tls_server, tls_pki):
    result = _check_tls(tls_server("expired"), ca_path=tls_pki["ca"], probe=False)
    assert result["days_left"] < 0
    reasons = result["failures"]
    assert len(reasons) == 2
    assert reasons[0].startswith(f"tls.min_days: certificate expires in {result['days_left']} days")
    assert reasons[0].endswith("below min 14")
    assert reasons[1].startswith(f"tls.verify: chain does not verify against {tls_pki['ca']}")
    assert "expired" in reasons[1]


def test_certificate_expiring_within_min_days_fails_only_min_days(tls_server, tls_pki):
    port = tls_server("short")
    result = _check_tls(port, ca_path=tls_pki["ca"], probe=False, min_days=7)
    assert [r.split(":")[0] for r in result["failures"]] == ["tls.min_days"]
    assert _check_tls(port, ca_path=tls_pki["ca"], probe=False, min_days=3)["failures"] == []


def test_wrong_host_fails_hostname(tls_server, tls_pki):
    result = _check_tls(tls_server("other_host"), server_name=HOST, ca_path=tls_pki["ca"])
    assert result["verified"] is True and result["hostname_matches"] is False
    assert result["failures"] == [
        "tls.hostname: 'canary.test' is not among the certificate's names [DNS:elsewhere.test]"
    ]


def test_server_speaking_only_tls10_fails_min_version(tls_server, tls_pki):
    port = tls_server("valid", (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1))
    result = _check_tls(port, server_name=HOST, ca_path=tls_pki["ca"])
    _skip_without_tls10(result)
    assert result["version"] == "TLSv1"
    assert result["failures"] == ["tls.min_version: negotiated TLSv1 is below min TLSv1.2"]
    assert result["probes"] == {"TLSv1": "accepted", "TLSv1.1": "refused"}


def test_server_accepting_tls10_besides_tls12_is_flagged_by_the_probe(tls_server, tls_pki):
    port = tls_server("valid", (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_2))
    result = _check_tls(port, server_name=HOST, ca_path=tls_pki["ca"])
    _skip_without_tls10(result)
    assert result["version"] == "TLSv1.2"
    assert result["probes"] == {"TLSv1": "accepted", "TLSv1.1": "accepted"}
    assert result["failures"] == [
        "tls.min_version: server accepts TLSv1, below min TLSv1.2",
        "tls.min_version: server accepts TLSv1.1, below min TLSv1.2",
    ]
    assert _check_tls(port, server_name=HOST, ca_path=tls_pki["ca"], probe=False)["failures"] == []


@pytest.fixture
def s_server(tls_pki):
    """Start ``openssl s_server`` processes (a real TLS server) by certificate name."""
    if not shutil.which("openssl"):
        pytest.skip("needs openssl")
    processes = []

    def start(name, *options):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        command = ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", tls_pki[name]]
        process = subprocess.Popen(
            [*command, "-naccept", "20", "-quiet", *options],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                return port
            time.sleep(0.05)
        raise RuntimeError("openssl s_server did not start")

    yield start
    for process in processes:
        process.terminate()
        process.wait(5)


def test_openssl_s_server_with_a_valid_certificate_passes(s_server, tls_pki):
    port = s_server("valid")
    result = _check_tls(port, server_name=HOST, ca_path=tls_pki["ca"])
    assert result["failures"] == [], result
    assert result["version"] in ("TLSv1.2", "TLSv1.3")


def test_openssl_s_server_with_an_expired_certificate_fails(s_server, tls_pki):
    port = s_server("expired")
    failures = _check_tls(port, server_name=HOST, ca_path=tls_pki["ca"])["failures"]
    assert any(failure.startswith("tls.min_days: ") for failure in failures), failures
    assert any(failure.startswith("tls.verify: ") for failure in failures), failures


def test_openssl_s_server_for_another_host_fails_the_hostname(s_server, tls_pki):
    port = s_server("other_host")
    failures = _check_tls(port, server_name=HOST, ca_path=tls_pki["ca"])["failures"]
    assert any(failure.startswith("tls.hostname: ") for failure in failures), failures


def test_openssl_s_server_speaking_only_tls10_fails_min_version(s_server, tls_pki):
    port = s_server("valid", "-tls1", "-cipher", "DEFAULT@SECLEVEL=0")
    result = _check_tls(port, server_name=HOST, ca_path=tls_pki["ca"])
    _skip_without_tls10(result)
    assert "tls.min_version: negotiated TLSv1 is below min TLSv1.2" in result["failures"]


def test_probe_says_when_this_openssl_cannot_complete_a_version(tls_server, monkeypatch):
    port = tls_server("valid", (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_2))
    _skip_without_tls10(_check_tls(port, verify=False, check_hostname=False))
    # At OpenSSL's default security level the client offers TLS 1.0 but cannot finish it.
    monkeypatch.setattr(tls, "LEGACY_CIPHERS", "DEFAULT@SECLEVEL=2")
    result = _check_tls(port, verify=False, check_hostname=False)
    assert result["probes"]["TLSv1"] == (
        "unavailable: this OpenSSL cannot complete a TLSv1 handshake "
        "(LEGACY_SIGALG_DISALLOWED_OR_UNSUPPORTED)"
    )
    assert result["failures"] == []


def test_nothing_listening_fails_connect(free_port):
    result = _check_tls(free_port)
    assert result["failures"][0].startswith(
        f"tls.connect: no TLS handshake with 127.0.0.1:{free_port}"
    )


@pytest.mark.parametrize(
    ("name", "san", "expected"),
    [
        ("a.example.com", ["DNS:*.example.com"], True),
        ("a.b.example.com", ["DNS:*.example.com"], False),
        ("example.com", ["DNS:*.com"], False),
        ("Canary.Test.", ["DNS:canary.test"], True),
        ("::1", ["IP:0:0:0:0:0:0:0:1"], True),
        ("127.0.0.1", ["DNS:127.0.0.1"], False),
    ],
)
def test_hostname_matching(name, san, expected):
    assert tls.hostname_matches(name, san) is expected


# --- headers --------------------------------------------------------------------------

SECURE = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'",
}


class _HeaderHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.seen = dict(self.headers)
        self.send_response(int(self.server.answer.get("status", 200)))
        for name, value in self.server.answer["headers"].items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def header_server():
    """A local HTTP server; set ``server.answer`` to choose the headers it sends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HeaderHandler)
    server.daemon_threads = True
    server.answer = {"headers": dict(SECURE)}
    server.url = f"http://127.0.0.1:{server.server_address[1]}/"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _check_headers(url, **options):
    return headers.check_headers(headers.prepare({"url": url, **options}))


def test_all_default_headers_pass(header_server):
    result = _check_headers(header_server.url)
    assert result["failures"] == []
    assert result["status"] == 200 and result["headers"]["X-Frame-Options"] == "DENY"


def test_request_headers_are_sent_to_reach_the_canary(header_server):
    result = _check_headers(header_server.url, request_headers={"X-Canary": "always"})
    assert result["failures"] == []
    assert header_server.seen["X-Canary"] == "always"


@pytest.mark.parametrize("missing", sorted(SECURE))
def test_each_missing_header_fails_naming_it(header_server, missing):
    header_server.answer["headers"].pop(missing)
    assert _check_headers(header_server.url)["failures"] == [f"headers.{missing}: missing"]


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        (
            "Strict-Transport-Security",
            "max-age=300",
            "headers.Strict-Transport-Security: max-age 300 is below min 15768000",
        ),
        (
            "Strict-Transport-Security",
            "includeSubDomains",
            "headers.Strict-Transport-Security: 'includeSubDomains' has no max-age, min 15768000",
        ),
        (
            "X-Content-Type-Options",
            "sniff",
            "headers.X-Content-Type-Options: 'sniff' does not equal 'nosniff'",
        ),
        (
            "X-Frame-Options",
            "ALLOW-FROM https://x.test",
            "headers.X-Frame-Options: 'ALLOW-FROM https://x.test' does not match '^(DENY|SAMEORIGIN)$'",
        ),
    ],
)
def test_wrong_header_values_fail_naming_the_header_and_bound(header_server, name, value, reason):
    header_server.answer["headers"][name] = value
    assert _check_headers(header_server.url)["failures"] == [reason]


def test_values_compare_ignoring_case_and_error_pages_are_judged(header_server):
    header_server.answer = {"status": 503, "headers": {**SECURE, "X-Frame-Options": "sameorigin"}}
    result = _check_headers(header_server.url)
    assert result["status"] == 503 and result["failures"] == []


def test_custom_expectations_replace_the_defaults(header_server):
    header_server.answer["headers"]["X-Powered-By"] = "canary/1.2"
    expect = {"X-Powered-By": {"present": False}, "Cache-Control": {}, "X-Frame-Options": None}
    assert _check_headers(header_server.url, expect=expect)["failures"] == [
        "headers.X-Powered-By: present ('canary/1.2') but expected absent",
        "headers.Cache-Control: missing",
    ]


def test_https_is_verified_by_default(tls_pki):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_pki["valid"])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HeaderHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.answer = {"headers": SECURE}
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}/"
    try:
        untrusted = _check_headers(url)["failures"]
        assert len(untrusted) == 1 and untrusted[0].startswith(f"headers.fetch: {url}: ")
        assert _check_headers(url, ca_path=tls_pki["ca"])["failures"] == []
    finally:
        server.shutdown()
        server.server_close()


# --- ports ----------------------------------------------------------------------------


@pytest.fixture
def free_port():
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def listening():
    """Two sockets listening on 127.0.0.1: (allowed port, unexpected port)."""
    sockets = [socket.create_server(("127.0.0.1", 0)) for _ in range(2)]
    yield [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()


def _scanners():
    return [
        "connect",
        pytest.param(
            "nmap", marks=pytest.mark.skipif(not shutil.which("nmap"), reason="nmap not installed")
        ),
    ]


@pytest.mark.parametrize("scanner", _scanners())
def test_open_port_outside_the_allow_list_fails(listening, free_port, scanner):
    allowed, unexpected = listening
    options = {"host": "127.0.0.1", "scanner": scanner, "timeout": 0.5}
    options["ports"] = [allowed, unexpected, free_port]
    result = ports.check_ports(ports.prepare({**options, "allow": [allowed]}))
    assert result["scanner"] == scanner and result["scanned"] == 3
    assert result["open"] == sorted(listening)
    assert result["unexpected"] == [unexpected]
    assert result["failures"] == [
        f"ports.allow: 127.0.0.1 has open ports [{unexpected}] not in the allow-list [{allowed}]"
    ]
    passing = ports.check_ports(ports.prepare({**options, "allow": f"{allowed},{unexpected}"}))
    assert passing["failures"] == []


@pytest.mark.parametrize("scanner", _scanners())
def test_require_allowed_fails_for_a_closed_allowed_port(listening, free_port, scanner):
    options = {"host": "localhost", "ports": listening, "scanner": scanner, "timeout": 0.5}
    result = ports.check_ports(
        ports.prepare({**options, "allow": [*listening, free_port], "require_allowed": True})
    )
    assert result["scanned"] == 3 and result["closed_allowed"] == [free_port]
    assert result["failures"] == [
        f"ports.require_allowed: allowed ports [{free_port}] are closed on localhost"
    ]


@pytest.mark.parametrize(
    "host", ["127.0.0.0/24", "127.0.0.1-5", "*", "-sS", "a b", "10.0.0.1,10.0.0.2", "", "1.2.3"]
)
def test_networks_ranges_and_options_are_never_scanned(host):
    with pytest.raises(ValueError, match=r"^host: .* networks and ranges are never scanned"):
        ports.prepare({"host": host, "ports": [80]})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("80,http", "ports: 'http' is not a port or a range"),
        ("0-10", "ports: '0-10' is not within 1-65535"),
        ("90-80", "ports: '90-80' is not within 1-65535 in increasing order"),
        ([], "ports: no ports given"),
    ],
)
def test_bad_port_specs_name_the_field(spec, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        ports.prepare({"host": "127.0.0.1", "ports": spec})


def test_connect_scan_is_bounded():
    with pytest.raises(ValueError, match="ports: 5001 ports exceed the connect scan's limit"):
        ports.prepare({"host": "127.0.0.1", "ports": "1000-6000", "scanner": "connect"})


# --- ZAP ------------------------------------------------------------------------------

REPORT = {
    "@version": "2.14.0",
    "site": [
        {
            "@name": "http://127.0.0.1:18080",
            "alerts": [
                {"pluginid": "10021", "name": "X-Content-Type-Options Header Missing", "riskcode": "1", "count": "4"},
                {"pluginid": "10038", "name": "Content Security Policy (CSP) Header Not Set", "riskcode": "2", "count": "2"},
                {"pluginid": "10096", "name": "Timestamp Disclosure", "riskcode": "0", "instances": [{}]},
                {"pluginid": "40012", "name": "Cross Site Scripting (Reflected)", "riskcode": "3", "count": "1"},
            ],
        }
    ],
}  # fmt: skip


def test_zap_report_alerts_at_or_above_the_risk_fail_worst_first():
    judged = zap.judge_report(REPORT, "medium")
    assert [alert["plugin"] for alert in judged["alerts"]] == ["40012", "10038"]
    assert judged["failures"][0] == (
        "zap.min_risk: Cross Site Scripting (Reflected) (high, 1 instances on "
        "http://127.0.0.1:18080) is at or above medium"
    )
    assert len(zap.alerts_at_or_above(REPORT, "informational")) == 4
    assert zap.alerts_at_or_above(REPORT, "informational")[-1]["count"] == 1
    assert zap.judge_report({"site": []}, "low")["failures"] == []


def test_zap_is_skipped_when_not_installed_or_disabled(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    result = zap.check_zap(zap.prepare({"url": "http://127.0.0.1:1/"}))
    assert result == {
        "url": "http://127.0.0.1:1/",
        "failures": [],
        "skipped": "ZAP baseline scan skipped: zap-baseline.py not installed",
    }
    disabled = zap.check_zap(zap.prepare({"url": "http://127.0.0.1:1/", "enabled": False}))
    assert disabled["skipped"] == "ZAP baseline scan skipped: disabled"


def test_zap_stand_in_script_report_is_judged(tmp_path, monkeypatch):
    script = tmp_path / "zap-baseline.py"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "args = sys.argv[1:]\n"
        f"json.dump({json.dumps(REPORT)}, open(args[args.index('-J') + 1], 'w'))\n"
        "sys.exit(2)\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    result = zap.check_zap(zap.prepare({"url": "http://127.0.0.1:1/", "min_risk": "high"}))
    assert result["exit_code"] == 2 and len(result["failures"]) == 1
    assert result["failures"][0].startswith("zap.min_risk: Cross Site Scripting (Reflected)")


# --- the module -----------------------------------------------------------------------


def run_module(capsys, args):
    """Run the module's main() with ``args``; return (exit code, parsed JSON output)."""
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        canary_security.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "one of the following is required: tls, headers, ports, zap"),
        ({"tls": {"host": "x", "port": 70000}}, "invalid arguments: tls.port: 70000"),
        ({"tls": {"host": "x", "min_version": "SSLv3"}}, "min_version"),
        ({"tls": {"host": "x", "min_days": -1}}, "invalid arguments: tls.min_days: -1"),
        ({"tls": {"port": 443}}, "host"),
        ({"headers": {"url": "ftp://x"}}, "invalid arguments: headers.url: 'ftp://x'"),
        (
            {"headers": {"url": "http://x", "expect": {"X-Frame-Options": {"matches": "("}}}},
            "invalid arguments: headers.expect.X-Frame-Options.matches: invalid regular expression",
        ),
        (
            {"headers": {"url": "http://x", "expect": {"Server": {"absent": True}}}},
            "invalid arguments: headers.expect.Server: unknown keys ['absent']",
        ),
        (
            {"ports": {"host": "10.0.0.0/8", "ports": [22]}},
            "invalid arguments: ports.host: '10.0.0.0/8' is neither one IP address",
        ),
        ({"ports": {"host": "127.0.0.1", "ports": "22", "allow": "ssh"}}, "ports.allow: 'ssh'"),
        ({"zap": {"url": "http://x", "min_risk": "severe"}}, "min_risk"),
    ],
)
def test_bad_arguments_fail_naming_the_field(capsys, arguments, message):
    code, output = run_module(capsys, arguments)
    assert code == 1 and output["failed"] is True
    assert message in output["msg"]


def test_module_passes_in_check_mode_and_fails_naming_the_check(
    capsys, header_server, tls_server, tls_pki, listening, monkeypatch
):
    monkeypatch.setenv("PATH", "/nonexistent")  # no nmap, no ZAP: the fallbacks
    port = tls_server("valid")
    arguments = {
        "tls": {"host": "127.0.0.1", "port": port, "server_name": HOST, "ca_path": tls_pki["ca"]},
        "headers": {"url": header_server.url},
        "ports": {"host": "127.0.0.1", "ports": listening, "allow": listening},
        "zap": {"url": header_server.url},
        "_ansible_check_mode": True,
    }
    code, output = run_module(capsys, arguments)
    assert code == 0, output
    assert output["failures"] == [] and output["changed"] is False
    assert output["tls"]["verified"] is True and output["ports"]["scanner"] == "connect"
    assert output["zap"]["skipped"].endswith("not installed")

    header_server.answer["headers"].pop("Content-Security-Policy")
    arguments["ports"]["allow"] = listening[:1]
    code, output = run_module(capsys, arguments)
    assert code == 1 and output["failed_sections"] == ["headers", "ports"]
    assert output["msg"].startswith(
        "security checks failed: headers.Content-Security-Policy: missing; ports.allow: "
    )
