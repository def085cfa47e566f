"""The canary_notify module: results, warnings instead of failures, check mode, no secret shown."""

import json

import canary_notify
import pytest
from ansible.module_utils.spec import validate_release
from ansible.module_utils.testing import patch_module_args

from tests.bad_specs import merged
from tests.receiver import Receiver, closed_port_url

SECRET_PATH = "/services/T000/B000/SECRET-slack-token"
SECRET_HEADER = "Bearer SECRET-header-token"


def run_module(capsys, args):
    """Run the module's main() with ``args``; return (exit code, raw output, parsed output)."""
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        canary_notify.main()
    out = capsys.readouterr().out
    return exited.value.code, out, json.loads(out)


def arguments(section, event="rolled_back", **extra):
    """The module's arguments for a spec with ``section``: the public spec and its secrets."""
    spec, errors = validate_release(merged({"notifications": section}))
    assert errors == []
    public = json.loads(json.dumps(spec))
    notifications = public["notifications"]
    secrets = {}
    for channel, fields in (("slack", ("url",)), ("webhook", ("url", "headers"))):
        for field in fields:
            if notifications.get(channel) and field in notifications[channel]:
                secrets[f"notifications.{channel}.{field}"] = notifications[channel].pop(field)
    return {"release": public, "secrets": secrets, "event": event, **extra}


def test_sends_to_every_channel_and_returns_their_results(capsys):
    with Receiver() as receiver:
        section = {
            "slack": {"url": receiver.url + SECRET_PATH},
            "webhook": {"url": receiver.url + "/hook", "headers": {"Authorization": SECRET_HEADER}},
            "alertmanager": {"url": receiver.url},
        }
        code, out, result = run_module(
            capsys, arguments(section, stage=2, reason="error_rate", image="app:2")
        )
    assert code == 0
    assert result["changed"] is True
    assert (
        result["text"] == "[frontend] rolled_back: app:2 rolled back at stage 2/4 (20%): error_rate"
    )
    assert [(r["channel"], r["sent"], r["status"], r["error"]) for r in result["results"]] == [
        ("slack", True, 200, None),
        ("webhook", True, 200, None),
        ("alertmanager", True, 200, None),
    ]
    assert [r["path"] for r in receiver.received] == [SECRET_PATH, "/hook", "/api/v2/alerts"]
    assert receiver.received[1]["headers"]["Authorization"] == SECRET_HEADER
    assert "SECRET" not in out


def test_a_receiver_that_is_down_warns_naming_the_channel_and_does_not_fail(capsys):
    code, out, result = run_module(
        capsys, arguments({"slack": {"url": closed_port_url() + SECRET_PATH}}, stage=1)
    )
    assert code == 0
    assert result.get("failed") is not True
    assert result["changed"] is False
    (warning,) = result["warnings"]  # a WarningSummary since ansible-core 2.19
    assert warning["event"]["msg"] == (
        "The slack notification of rolled_back was not delivered: connection refused"
    )
    assert "SECRET" not in out


def test_check_mode_sends_nothing_and_reports_what_would_be_sent(capsys):
    with Receiver() as receiver:
        args = arguments({"webhook": {"url": receiver.url + "/hook"}}, "promoted", stage=4)
        code, _, result = run_module(capsys, {**args, "_ansible_check_mode": True})
    assert code == 0
    assert receiver.received == []
    (sent,) = result["results"]
    assert (sent["channel"], sent["sent"], sent["status"]) == ("webhook", False, None)
    assert sent["payload"]["event"] == "promoted"
    assert sent["payload"]["text"] == result["text"]


def test_no_channel_for_the_event_sends_nothing(capsys):
    args = arguments({"alertmanager": {"url": "http://127.0.0.1:1", "events": ["rolled_back"]}})
    code, _, result = run_module(capsys, {**args, "event": "stage_passed"})
    assert code == 0
    assert (result["changed"], result["results"]) == (False, [])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"event": "exploded"}, "event"),
        ({"secrets": {"notifications.slack.token": "SECRET-x"}}, "secrets: unknown field"),
        ({"stage": "second"}, "stage"),
    ],
)
def test_bad_arguments_fail(capsys, change, message):
    args = {**arguments({}), **change}
    code, out, result = run_module(capsys, args)
    assert code == 1
    assert result["failed"] is True
    assert message in result["msg"]
    assert "SECRET" not in out
