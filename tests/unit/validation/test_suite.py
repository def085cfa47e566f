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
        forced = self.headers.get("X-Canary") == "always"
        forced = forced or "canary=always" in (self.headers.get("Cookie") or "")
        track = "canary" if forced or self.server.canary_only else "stable"
        self.server.seen.append((self.command, self.path, track))
        self.server.seen_headers.append((self.path, dict(self.headers)))
        broken = self.server.broken and track == "canary" and self.path == "/content"
        sick = self.server.sick and track == "canary" and self.path == "/health"
        body = json.dumps({"token": "t0k3n-SECRET", "items": [1]}).encode()
        self.send_response(500 if broken or sick else 200)
        for name, value in SECURE.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve(canary_only=False):
    """A local app; with ``canary_only`` every request counts as the canary's (its Service)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _App)
    server.daemon_threads = True
    server.seen, server.seen_headers = [], []
    server.broken = server.sick = False
    server.canary_only = canary_only
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


@pytest.fixture
def app():
    server = _serve()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def canary_service():
    server = _serve(canary_only=True)
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
    assert summary["health"] == "pass"
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


def test_an_unhealthy_canary_fails_the_suite_even_with_nothing_else_configured(app):
    app.sick = True
    bare = validation(app.url, journeys=[], load=None, security=None)
    outcome = suite.run(bare, ANALYSIS)
    assert outcome["failures"] == [
        "health: GET /health: status 500, expected 200"
        + outcome["failures"][0].split("expected 200", 1)[1]
    ]
    assert suite.summary(outcome) == {"health": "fail"}


def test_a_cookie_route_reaches_the_canary_without_the_header(app):
    route = {"canary": {"cookie": {"canary": "always"}}, "stable": {"cookie": {"canary": "never"}}}
    load = {"path": "/content", "requests": 8, "concurrency": 2, "compare_stable": True}
    outcome = suite.run(validation(app.url, route=route, load=load), ANALYSIS)
    assert outcome["passed"], outcome["failures"]
    assert not [h for _, h in app.seen_headers if "X-Canary" in h]
    tracks = {(method, path): set() for method, path, _ in app.seen}
    for method, path, track in app.seen:
        tracks[(method, path)].add(track)
    assert tracks[("GET", "/health")] == {"canary"}
    assert tracks[("GET", "/content")] == {"canary", "stable"}


def test_a_url_route_sends_the_canary_s_share_to_its_service(app, canary_service):
    route = {"canary": {"url": canary_service.url}}
    outcome = suite.run(validation(app.url, route=route), ANALYSIS)
    assert outcome["passed"], outcome["failures"]
    assert {path for _, path, _ in canary_service.seen} == {"/health", "/login", "/content"}
    assert len([p for _, p, _ in canary_service.seen if p == "/content"]) == 1 + 20
    assert {track for _, _, track in app.seen} == {"stable"}
    assert not [h for _, h in canary_service.seen_headers if "X-Canary" in h]


def test_the_stable_load_keeps_the_load_s_own_headers(app):
    load = {
        "path": "/content",
        "requests": 4,
        "headers": {"X-Tenant": "t1"},
        "compare_stable": True,
    }
    suite.run(validation(app.url, journeys=[], security=None, load=load), ANALYSIS)
    loaded = [headers for path, headers in app.seen_headers if path == "/content"]
    assert len(loaded) == 8
    assert all(h["X-Tenant"] == "t1" for h in loaded)
    assert sorted(h["X-Canary"] for h in loaded) == ["always"] * 4 + ["never"] * 4


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
        (
            {"load": {"duration": "5s", "tool": "hey"}},
            "canary.validation.load: duration is not supported with tool hey",
        ),
        (
            {"load": {"requests": 5, "tool": "wrk"}},
            "canary.validation.load: requests is not supported with tool wrk",
        ),
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
