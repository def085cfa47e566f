"""The demo app: tokens any replica can verify, the API surface, metrics and faults.

The HTTP tests run the app's handler in a thread of the test process (no subprocess).
"""

import threading
from http.server import ThreadingHTTPServer

import pytest
import requests

from sandbox import app


@pytest.fixture
def serve():
    servers = []

    def start(env):
        handler = type("Handler", (app.Handler,), {"app": app.App(env)})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_token_round_trips_and_any_replica_can_verify_it():
    token = app.make_token("user-000001@demo.yyc3")
    assert app.token_email(token) == "user-000001@demo.yyc3"


def test_app_listens_on_loopback_unless_told_otherwise():
    assert app.listen_address({}) == ("127.0.0.1", 8080)
    assert app.listen_address({"LISTEN_HOST": "0.0.0.0", "PORT": "9000"}) == ("0.0.0.0", 9000)


def test_tampered_or_garbage_tokens_are_refused():
    token = app.make_token("a@b.c")
    other = app.make_token("x@y.z")
    assert app.token_email(token[:-1] + ("0" if token[-1] != "0" else "1")) is None
    assert app.token_email(other.split(".")[0] + "." + token.split(".")[1]) is None
    assert app.token_email("not a token") is None
    assert app.token_email("") is None


def test_app_records_requests_with_track_and_version_labels():
    demo = app.App({"APP_VERSION": "1.1.0", "TRACK": "canary"})
    demo.record("GET", "/api/content/list", 500, 0.3)
    text = demo.registry.render().decode()
    assert (
        'http_requests_total{method="GET",path="/api/content/list",code="500",'
        'track="canary",version="1.1.0"} 1'
    ) in text
    assert (
        'http_request_duration_seconds_bucket{path="/api/content/list",track="canary",'
        'version="1.1.0",le="0.5"} 1'
    ) in text


def test_api_journey_login_then_list_and_generate(serve):
    url = serve({"APP_VERSION": "1.0.0", "TRACK": "stable"})
    assert requests.get(url + "/api/health").json() == {
        "status": "ok",
        "version": "1.0.0",
        "track": "stable",
    }
    assert requests.post(url + "/api/auth/login", json={"email": "a@b.c"}).status_code == 400
    token = requests.post(
        url + "/api/auth/login", json={"email": "a@b.c", "password": "pw"}
    ).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert requests.get(url + "/api/content/list").status_code == 401
    assert requests.get(url + "/api/content/list", headers=auth).json()["items"]
    generated = requests.post(url + "/api/ai/generate", json={"prompt": "a twist"}, headers=auth)
    assert generated.status_code == 200
    assert "a twist" in generated.json()["script"]
    assert requests.post(url + "/api/ai/generate", json={"prompt": "x"}).status_code == 401


def test_faults_spare_health_and_metrics_count_only_api_requests(serve):
    url = serve({"TRACK": "canary", "APP_VERSION": "1.1.0", "FAULT_ERROR_RATIO": "1"})
    assert requests.get(url + "/api/health").status_code == 200
    assert requests.get(url + "/api/content/list").status_code == 500
    assert requests.post(url + "/api/auth/login", json={}).status_code == 500
    requests.get(url + "/metrics")
    metrics = requests.get(url + "/metrics").text
    assert 'path="/api/health",code="200",track="canary",version="1.1.0"} 1' in metrics
    assert 'path="/api/content/list",code="500"' in metrics
    assert 'path="/metrics"' not in metrics


def test_a_never_ready_build_fails_its_health_check(serve):
    url = serve({"TRACK": "canary", "APP_VERSION": "1.2.0-never-ready", "FAULT_NEVER_READY": "1"})
    assert requests.get(url + "/api/health").status_code == 503
    token = requests.post(url + "/api/auth/login", json={"email": "a@b.c", "password": "pw"})
    assert token.status_code == 200


def test_answers_carry_the_security_headers_a_build_may_drop(serve):
    healthy = requests.get(serve({}) + "/api/health").headers
    assert healthy["X-Frame-Options"] == "DENY"
    assert healthy["X-Content-Type-Options"] == "nosniff"
    assert healthy["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "default-src 'none'" in healthy["Content-Security-Policy"]
    dropped = requests.get(serve({"FAULT_DROP_HEADERS": "x-frame-options"}) + "/api/health")
    assert "X-Frame-Options" not in dropped.headers
    assert dropped.headers["X-Content-Type-Options"] == "nosniff"


def test_content_list_can_break_for_signed_in_users_only(serve):
    url = serve({"FAULT_CONTENT_ERRORS_WITH_TOKEN": "1"})
    token = requests.post(url + "/api/auth/login", json={"email": "a@b.c", "password": "pw"})
    auth = {"Authorization": f"Bearer {token.json()['token']}"}
    assert requests.get(url + "/api/content/list").status_code == 401
    assert requests.get(url + "/api/content/list", headers=auth).status_code == 500
    assert requests.post(url + "/api/ai/generate", json={"prompt": "x"}, headers=auth).ok
