"""Functional journeys against a tiny local YYC3 API: steps, captures, retries, routing, secrets.

The server implements the plan's journey (login, generate a script about Heluo culture,
list content) on 127.0.0.1 and records every request, so the tests see what was sent:
the captured token, the forcing header or cookie. Every secret carries ``SECRET`` so a
single substring check proves it never reaches a result or the module's output.
"""

import http.server
import json
import os
import subprocess
import sys
import threading

import canary_probe
import pytest
import yaml
from ansible.module_utils.testing import patch_module_args
from ansible.module_utils.validation import journey

from tests.conftest import PROJECT_ROOT
from tests.receiver import closed_port_url

PASSWORD = "SECRET-pw-2718"


class App:
    """The short-drama API surface a journey walks, with switchable faults.

    ``content_error``: the content list answers 500 (echoing the token) when a token is sent.
    ``flaky``: the generate endpoint answers 503 this many times before it works.
    """

    def __init__(self, content_error=False, flaky=0):
        self.content_error = content_error
        self.flaky = flaky
        self.requests = []
        self.tokens = []
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def answer(self, method, path, headers, body):
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        if (method, path) == ("POST", "/api/auth/login"):
            if body.get("password") != PASSWORD:
                return 401, {"error": "bad credentials"}
            self.tokens.append(f"tok-SECRET-{len(self.tokens) + 1}")
            return 200, {"token": self.tokens[-1], "user": body.get("username")}
        if (method, path) == ("POST", "/api/ai/generate"):
            if token not in self.tokens:
                return 401, {"error": "login first"}
            if self.flaky:
                self.flaky -= 1
                return 503, {"error": "model warming up"}
            if "Heluo" not in body.get("prompt", ""):
                return 400, {"error": "the prompt must be about Heluo culture"}
            return 200, {"script": f"Scene 1. {body['prompt']}", "id": 7}
        if (method, path) == ("GET", "/api/content/list"):
            if self.content_error and token:
                return 500, {"error": f"database error for {token}"}
            return 200, {"items": [{"id": 7, "title": "Heluo"}], "owner": token}
        if method in ("GET", "HEAD") and path == "/api/health":
            return 200, {"status": "ok"}
        return 404, {"error": "not found"}

    def _handler(self):
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _serve(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw) if raw else {}
                app.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "json": body,
                    }
                )
                status, document = app.answer(self.command, self.path, self.headers, body)
                data = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_HEAD = do_POST = _serve

            def log_message(self, *args):
                pass

        return Handler


def yyc3_steps(password=PASSWORD, **generate):
    """The plan's journey: log in, generate a script with the token, list content."""
    return [
        {
            "name": "login",
            "method": "POST",
            "path": "/api/auth/login",
            "body": {"username": "canary-tester", "password": password},
            "capture": {"token": "token"},
        },
        {
            "name": "generate",
            "method": "POST",
            "path": "/api/ai/generate",
            "headers": {"Authorization": "Bearer {token}"},
            "body": {"prompt": "A short drama about Heluo culture"},
            "assert": ["length(script) > `0`"],
            **generate,
        },
        {
            "name": "list",
            "path": "/api/content/list",
            "headers": {"Authorization": "Bearer {token}"},
            "assert": ["length(items) > `0`", "items[0].title == 'Heluo'"],
        },
    ]


def run(app, steps, target="canary", route=None, **settings):
    (checked,) = journey.validate_journeys([{"name": "yyc3", "steps": steps}])
    routes = journey.build_routes(app.url if app else closed_port_url(), route)
    return journey.run_journey(checked, target, routes[target], **settings)


def secret_free(value):
    return "SECRET" not in json.dumps(value)


# --- the journey runner ---------------------------------------------------------------


def test_the_journey_passes_with_the_captured_token_and_returns_no_secret():
    with App() as app:
        result = run(app, yyc3_steps())
    assert result["result"] == "pass", result
    assert result["reason"] == "all 3 steps passed"
    assert (result["name"], result["target"], result["url"]) == ("yyc3", "canary", app.url)
    assert [
        (s["name"], s["method"], s["path"], s["status"], s["result"]) for s in result["steps"]
    ] == [
        ("login", "POST", "/api/auth/login", 200, "pass"),
        ("generate", "POST", "/api/ai/generate", 200, "pass"),
        ("list", "GET", "/api/content/list", 200, "pass"),
    ]
    assert [r["headers"].get("Authorization") for r in app.requests] == [
        None,
        "Bearer tok-SECRET-1",
        "Bearer tok-SECRET-1",
    ]
    assert app.requests[0]["headers"]["Content-Type"] == "application/json"
    assert secret_free(result)


def test_a_wrong_status_names_the_step_and_masks_the_echoed_token():
    with App(content_error=True) as app:
        result = run(app, yyc3_steps())
    assert result["result"] == "fail"
    assert result["reason"].startswith(
        "step 3 'list' (GET /api/content/list): status 500, expected 200: "
    )
    assert "database error for ********" in result["reason"]
    assert [s["result"] for s in result["steps"]] == ["pass", "pass", "fail"]
    assert secret_free(result)


def test_a_failing_step_skips_the_rest_and_a_bad_login_is_a_status_failure():
    with App() as app:
        result = run(app, yyc3_steps(password="SECRET-wrong"))
    assert result["reason"] == (
        "step 1 'login' (POST /api/auth/login): status 401, expected 200: "
        '{"error": "bad credentials"}'
    )
    assert [s["result"] for s in result["steps"]] == ["fail", "skipped", "skipped"]
    assert len(app.requests) == 1
    assert secret_free(result)


def test_failed_assertions_are_all_reported_with_what_they_evaluated_to():
    steps = yyc3_steps()
    steps[2]["assert"] = ["length(items) > `5`", "items[0].title == 'Heluo'", "missing", "`0`"]
    with App() as app:
        result = run(app, steps)
    assert result["steps"][2]["reason"] == (
        "assert 'length(items) > `5`' evaluated to false; assert 'missing' evaluated to null"
    )
    assert secret_free(result)


def test_a_capture_that_finds_nothing_fails_the_step():
    steps = yyc3_steps()
    steps[0]["capture"] = {"token": "access_token"}
    with App() as app:
        result = run(app, steps)
    assert result["reason"] == (
        "step 1 'login' (POST /api/auth/login): capture token ('access_token') found nothing"
    )


def test_captures_fill_paths_and_keep_their_json_type_in_a_body():
    steps = [
        *yyc3_steps()[:2],
        {"name": "generate again", "method": "POST", "path": "/api/ai/generate?after={id}"},
    ]
    steps[1]["capture"] = {"id": "id"}
    steps[2]["headers"] = {"Authorization": "Bearer {token}"}
    steps[2]["body"] = {"prompt": "Heluo, part {id}", "previous": "{id}"}
    with App() as app:
        result = run(app, steps, target="stable")
    assert result["result"] == "fail"  # the app knows no query string
    assert app.requests[2]["path"] == "/api/ai/generate?after=7"
    assert app.requests[2]["json"] == {"prompt": "Heluo, part 7", "previous": 7}
    assert result["steps"][2]["path"] == "/api/ai/generate?after={id}"


def test_retries_cover_5xx_and_stop_when_the_step_passes():
    with App(flaky=2) as app:
        result = run(app, yyc3_steps(retries=2, retry_delay=0))
    assert result["result"] == "pass", result
    assert result["steps"][1]["attempts"] == 3
    with App(flaky=2) as app:
        result = run(app, yyc3_steps(retries=1, retry_delay=0))
    assert result["reason"] == (
        "step 2 'generate' (POST /api/ai/generate): status 503, expected 200: "
        '{"error": "model warming up"} (after 2 attempts)'
    )


def test_a_4xx_or_an_accepted_5xx_is_not_retried():
    with App() as app:
        result = run(app, yyc3_steps(body={"prompt": "anything"}, retries=3, retry_delay=0))
    assert result["steps"][1]["attempts"] == 1
    assert result["steps"][1]["status"] == 400
    with App(flaky=1) as app:
        result = run(app, yyc3_steps(status=[503], retries=3, retry_delay=0, **{"assert": []}))
    assert result["steps"][1]["attempts"] == 1
    assert result["steps"][1]["result"] == "pass"


def test_no_answer_is_retried_and_reported():
    steps = [{"name": "health", "path": "/api/health", "retries": 1, "retry_delay": 0}]
    result = run(None, steps, timeout=2)
    assert result["reason"] == (
        "step 1 'health' (GET /api/health): no answer: connection refused (after 2 attempts)"
    )
    assert result["steps"][0]["status"] is None


def test_default_routes_force_the_track_with_the_canary_header():
    steps = [{"path": "/api/health", "headers": {"X-Canary": "never"}}]
    with App() as app:
        canary = run(app, steps, target="canary")
        stable = run(app, steps, target="stable")
    assert (canary["result"], stable["result"]) == ("pass", "pass")
    assert canary["steps"][0]["name"] == "GET /api/health"
    # The route wins over a step's own header: a canary journey stays on the canary.
    assert [r["headers"]["X-Canary"] for r in app.requests] == ["always", "never"]


def test_a_route_can_use_a_cookie_a_custom_header_or_another_url():
    steps = [{"path": "/api/health", "headers": {"Cookie": "session=s1"}}]
    with App() as front, App() as direct:
        route = {
            "canary": {"url": direct.url, "header": {"X-Track": "canary"}},
            "stable": {"cookie": {"canary": "never", "region": "cn"}},
        }
        canary = run(front, steps, target="canary", route=route)
        stable = run(front, steps, target="stable", route=route)
    assert canary["url"] == direct.url and stable["url"] == front.url
    (to_canary,) = direct.requests
    (to_stable,) = front.requests
    assert to_canary["headers"]["X-Track"] == "canary"
    assert "X-Canary" not in to_canary["headers"] and "X-Canary" not in to_stable["headers"]
    assert to_stable["headers"]["Cookie"] == "session=s1; canary=never; region=cn"


def test_urls_are_shown_without_credentials():
    assert journey.shown_url("https://bot:SECRET@drama.example.com:8443/x") == (
        "https://drama.example.com:8443/x"
    )


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            {"status": "ok"},
            "journeys[0].steps[1].status: 'ok' is not an HTTP status (100-599) or a list of them",
        ),
        ({"status": [200, 700]}, "journeys[0].steps[1].status: [200, 700] is not an HTTP status"),
        ({"method": "FETCH"}, "journeys[0].steps[1].method: 'FETCH' is not one of GET, HEAD"),
        ({"path": "api/ai"}, "journeys[0].steps[1].path: must be a string starting with '/'"),
        (
            {"headers": {"Authorization": "Bearer {tokn}"}},
            "journeys[0].steps[1].headers.Authorization: unknown placeholder {tokn}; "
            "captured before this step: token",
        ),
        (
            {"body": {"prompt": ["{token.upper}"]}},
            "journeys[0].steps[1].body.prompt[0]: placeholder {token.upper} must be a plain name",
        ),
        ({"path": "/api/{"}, "journeys[0].steps[1].path: Single '{' encountered"),
        ({"assert": ["length(("]}, "journeys[0].steps[1].assert[0]: invalid JMESPath 'length(('"),
        ({"capture": {"a-b": "id"}}, "journeys[0].steps[1].capture: 'a-b' is not a plain name"),
        ({"retries": -1}, "journeys[0].steps[1].retries: must be an integer of at least 0"),
        ({"timeout": 0}, "journeys[0].steps[1].timeout: must be greater than 0"),
        ({"assert": "items"}, "journeys[0].steps[1].assert: must be a list"),
        ({"capture": ["id"]}, "journeys[0].steps[1].capture: must be a mapping"),
        ({"colour": "red"}, "journeys[0].steps[1]: unknown field(s) colour"),
    ],
)
def test_bad_steps_are_refused_naming_the_field(change, error):
    steps = yyc3_steps()
    steps[1].update(change)
    with pytest.raises(journey.JourneySpecError) as raised:
        journey.validate_journeys([{"name": "yyc3", "steps": steps}])
    assert any(e.startswith(error) for e in raised.value.errors), raised.value.errors


def test_a_placeholder_needs_an_earlier_capture_and_journey_names_are_unique():
    steps = yyc3_steps()
    steps[0]["path"] = "/api/auth/login?as={token}"
    with pytest.raises(journey.JourneySpecError) as raised:
        journey.validate_journeys(
            [{"name": "a", "steps": steps}, {"name": "a", "steps": [{"path": "/"}]}, {"name": "b"}]
        )
    assert raised.value.errors == [
        "journeys[0].steps[0].path: unknown placeholder {token}; captured before this step: nothing",
        "journeys[1].name: 'a' is used by an earlier journey",
        "journeys[2].steps: must be a non-empty list of steps",
    ]


# --- the module -----------------------------------------------------------------------


def run_module(capsys, args, check_mode=False):
    """Run canary_probe's main() with ``args``; return (exit code, raw output, parsed output)."""
    if check_mode:
        args = {**args, "_ansible_check_mode": True}
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        canary_probe.main()
    out = capsys.readouterr().out
    return exited.value.code, out, json.loads(out)


def test_module_passes_and_reports_every_journey_on_both_targets(capsys):
    with App() as app:
        code, out, result = run_module(
            capsys,
            {
                "url": app.url,
                "journeys": [
                    {"name": "yyc3", "steps": yyc3_steps()},
                    {"name": "health", "steps": [{"path": "/api/health"}]},
                ],
            },
        )
    assert code == 0, out
    assert result["passed"] is True and result["failed_journeys"] == []
    assert [(r["name"], r["target"], r["result"]) for r in result["results"]] == [
        ("yyc3", "canary", "pass"),
        ("yyc3", "stable", "pass"),
        ("health", "canary", "pass"),
        ("health", "stable", "pass"),
    ]
    assert result["changed"] is False
    assert "SECRET" not in out


def test_module_fails_on_a_broken_canary_naming_journey_target_and_step(capsys):
    with App(content_error=True) as canary, App() as stable:
        code, out, result = run_module(
            capsys,
            {
                "url": stable.url,
                "route": {"canary": {"url": canary.url}},
                "journeys": [{"name": "yyc3", "steps": yyc3_steps()}],
            },
        )
    assert code == 1
    assert result["failed"] is True and result["passed"] is False
    assert result["msg"].startswith(
        "journey 'yyc3' failed on canary: step 3 'list' (GET /api/content/list): status 500, expected 200"
    )
    assert result["failed_journeys"] == [{"name": "yyc3", "target": "canary"}]
    assert "SECRET" not in out


def test_module_only_warns_when_stable_fails(capsys):
    with App() as canary, App(content_error=True) as stable:
        code, out, result = run_module(
            capsys,
            {
                "url": stable.url,
                "route": {"canary": {"url": canary.url}},
                "journeys": [{"name": "yyc3", "steps": yyc3_steps()}],
            },
        )
    assert code == 0, out
    assert result["passed"] is True
    assert result["failed_journeys"] == [{"name": "yyc3", "target": "stable"}]
    # In-process runs share Ansible's warning list; look for this test's warning.
    assert any(
        warning["event"]["msg"].startswith(
            "journey 'yyc3' failed on stable (not what is released, compare with the canary): "
            "step 3 'list' (GET /api/content/list): status 500"
        )
        for warning in result["warnings"]
    )
    assert "SECRET" not in out


def test_module_in_check_mode_runs_only_read_only_journeys(capsys):
    with App() as app:
        code, out, result = run_module(
            capsys,
            {
                "url": app.url,
                "targets": ["canary"],
                "journeys": [
                    {"name": "yyc3", "steps": yyc3_steps()},
                    {"name": "health", "steps": [{"path": "/api/health", "method": "head"}]},
                ],
            },
            check_mode=True,
        )
    assert code == 0, out
    skipped, health = result["results"]
    assert skipped["result"] == "skipped"
    assert (
        skipped["reason"] == "check mode: not sent, the journey has steps other than GET and HEAD"
    )
    assert [(s["method"], s["path"]) for s in skipped["steps"]] == [
        ("POST", "/api/auth/login"),
        ("POST", "/api/ai/generate"),
        ("GET", "/api/content/list"),
    ]
    assert health["result"] == "pass"
    assert [(r["method"], r["path"]) for r in app.requests] == [("HEAD", "/api/health")]
    assert "SECRET" not in out


def test_module_refuses_bad_journeys_naming_the_field(capsys):
    steps = yyc3_steps()
    steps[1]["status"] = "2OO"
    code, out, result = run_module(
        capsys, {"url": "http://127.0.0.1:1", "journeys": [{"name": "yyc3", "steps": steps}]}
    )
    assert code == 1
    assert result["msg"] == (
        "invalid journeys: journeys[0].steps[1].status: '2OO' is not an HTTP status "
        "(100-599) or a list of them"
    )
    assert "SECRET" not in out


# --- a real playbook run --------------------------------------------------------------


@pytest.mark.slow
def test_playbook_at_vvv_shows_no_secret(tmp_path):
    with App(content_error=True) as stable, App() as canary:
        playbook = [
            {
                "name": "Probe",
                "hosts": "localhost",
                "gather_facts": False,
                "vars": {"probe_password": PASSWORD},
                "tasks": [
                    {
                        "name": "Walk the journey",
                        "canary_probe": {
                            "url": stable.url,
                            "route": {"canary": {"url": canary.url}},
                            "journeys": [
                                {
                                    "name": "yyc3",
                                    "steps": yyc3_steps(password="{{ probe_password }}"),
                                }
                            ],
                        },
                    }
                ],
            }
        ]
        (tmp_path / "playbook.yml").write_text(yaml.safe_dump(playbook, sort_keys=False))
        (tmp_path / "hosts.yml").write_text(
            yaml.safe_dump(
                {
                    "all": {
                        "hosts": {
                            "localhost": {
                                "ansible_connection": "local",
                                "ansible_python_interpreter": sys.executable,
                            }
                        }
                    }
                }
            )
        )
        completed = subprocess.run(
            [
                os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                str(tmp_path / "playbook.yml"),
                "-i",
                str(tmp_path / "hosts.yml"),
                "-vvv",
            ],
            cwd=PROJECT_ROOT,
            env={
                **os.environ,
                "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
                "NO_COLOR": "1",
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert canary.tokens == ["tok-SECRET-1"] and stable.tokens == ["tok-SECRET-1"]
    assert "journey 'yyc3' failed on stable" in output
    assert "passed: true" in output, output
    assert "SECRET" not in output
