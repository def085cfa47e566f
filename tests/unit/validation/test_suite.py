"""The release's validation suite: the spec's section checked, then run at a local app."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ansible.module_utils.validation import suite

SECURE = {
    "Strict-Transport-Security": "max-age=31536000",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'",
}


class _App(BaseHTTPRequestHandler):
    """Answers every path; content fails for the canary when ``server.broken``."""

    def do_GET(self):
        self._answer()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def _answer(self):
        track = "canary" if self.headers.get("X-Canary") == "always" else "stable"
        self.server.seen.append((self.command, self.path, track))
        broken = self.server.broken and track == "canary" and self.path == "/content"
        body = json.dumps({"token": "t0k3n-SECRET", "items": [1]}).encode()
        self.send_response(500 if broken else 200)
        for name, value in SECURE.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def app():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _App)
    server.daemon_threads = True
    server.seen, server.broken = [], False
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


ANALYSIS = {
    "prometheus": {"url": "http://127.0.0.1:9", "timeout": 1, "validate_certs": True},
    "window": "1m",
    "variables": {"canary_namespace": "shop-canary"},
}


def validation(url, **extra):
    return {
        "url": url,
        "validate_certs": True,
        "timeout_seconds": 5.0,
        "canary_header": "X-Canary",
        "health_path": "/health",
        "compare_stable": True,
        "journeys": [
            {
                "name": "shop",
                "steps": [
                    {
                        "name": "login",
                        "method": "POST",
                        "path": "/login",
                        "capture": {"t": "token"},
                    },
                    {"name": "content", "path": "/content", "headers": {"A": "Bearer {t}"}},
                ],
            }
        ],
        "load": {"path": "/content", "requests": 20, "concurrency": 4},
        "security": {"headers": {}},
        **extra,
    }


def test_a_healthy_canary_passes_the_whole_suite(app):
    outcome = suite.run(validation(app.url), ANALYSIS)
    assert outcome["passed"] and outcome["failures"] == []
    assert [(j["target"], j["result"]) for j in outcome["journeys"]] == [
        ("canary", "pass"),
        ("stable", "pass"),
    ]
    assert outcome["load"]["completed"] == 20
    assert outcome["security"]["headers"]["failures"] == []
    loads = [seen for seen in app.seen if seen[1] == "/content"]
    assert {track for _, _, track in loads} == {"canary", "stable"}
    assert ("GET", "/health", "canary") in app.seen
    summary = suite.summary(outcome)
    assert summary["journeys"] == {"shop@canary": "pass", "shop@stable": "pass"}
    assert summary["security"] == {"headers": "pass"}
    assert "req/s" in summary["load"]
    assert "SECRET" not in json.dumps(outcome)


def test_only_the_canary_fails_the_suite(app):
    app.broken = True
    outcome = suite.run(validation(app.url, load=None, security=None), ANALYSIS)
    assert not outcome["passed"]
    assert outcome["failures"] == [
        "journey 'shop': step 2 'content' (GET /content): status 500, expected 200"
        + outcome["failures"][0].split("expected 200", 1)[1]
    ]
    assert outcome["journeys"][1]["result"] == "pass"


def test_load_thresholds_fail_the_suite(app):
    load = {"path": "/content", "requests": 10, "thresholds": {"min_requests_per_second": 1e9}}
    outcome = suite.run(validation(app.url, journeys=[], security=None, load=load), ANALYSIS)
    assert outcome["failures"][0].startswith("load: requests_per_second = ")


def test_check_mode_sends_no_load_and_skips_journeys_that_write(app):
    outcome = suite.run(validation(app.url), ANALYSIS, check_mode=True)
    assert outcome["load"] is None
    assert {j["result"] for j in outcome["journeys"]} == {"skipped"}
    assert not [seen for seen in app.seen if seen[1] != "/health"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"journeys": [{"name": "x", "steps": [{"path": "/a", "status": "2OO"}]}]},
            "canary.validation.journeys[0].steps[0].status",
        ),
        ({"load": {"requests": 0}}, "canary.validation.load: requests must be at least 1"),
        ({"load": {"requests": 5, "rps": 3}}, "canary.validation.load: unknown field(s) rps"),
        (
            {"load": {"requests": 5, "thresholds": {"p95": 1}}},
            "canary.validation.load.thresholds.p95: unknown",
        ),
        ({"load": {"requests": 5, "timeout": "soon"}}, "canary.validation.load: "),
        ({"load": {"requests": 5, "path": "api"}}, "canary.validation.load.path"),
        ({"resources": {"disk": {}}}, "canary.validation.resources.disk: unknown resource"),
        (
            {"resources": {"cpu": {"max": 80}}},
            "canary.validation.resources.cpu.max: 80 is not a share",
        ),
        (
            {"resources": {"memory": {"query": "x{ {{ tier }} }"}}},
            "canary.validation.resources.memory.query: cannot render",
        ),
        (
            {"security": {"headers": {"expect": {"X-Frame-Options": {"matches": "("}}}}},
            "canary.validation.security.headers.expect.X-Frame-Options.matches",
        ),
    ],
)
def test_problems_name_the_field(change, expected):
    errors = suite.problems(validation("http://127.0.0.1:9", **change), ANALYSIS)
    assert any(error.startswith(expected) for error in errors), errors


def test_a_good_suite_has_no_problems():
    assert suite.problems(validation("http://127.0.0.1:9"), ANALYSIS) == []
