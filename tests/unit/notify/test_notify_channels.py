"""What each channel sends, and what reaches a local receiver: the exact JSON, path and headers."""

import pytest
from ansible.module_utils.notify import alertmanager, delivery, dispatch, message, slack, webhook

from tests.receiver import Receiver, closed_port_url

RELEASE = {
    "service": "frontend",
    "namespace": "yyc3-short-drama",
    "image": "yyc3/short-drama-frontend:1.2.0",
    "stages": [{"weight": 5}, {"weight": 20}, {"weight": 50}, {"weight": 100}],
}
NOW = 1795000000  # 2026-11-18T11:06:40Z
SECRET_PATH = "/services/T000/B000/SECRET-slack-token"
SECRET_HEADER = "Bearer SECRET-header-token"


def event(name, **details):
    values = message.context(RELEASE, name, now=NOW, **details)
    return {**values, "text": message.render(message.DEFAULT_TEMPLATE, values)}


ROLLED_BACK = event("rolled_back", stage=2, reason="error_rate = 0.031 > max 0.01")
ROLLED_BACK_TEXT = (
    "[frontend] rolled_back: yyc3/short-drama-frontend:1.2.0 rolled back at stage 2/4 (20%): "
    "error_rate = 0.031 > max 0.01"
)


def test_slack_payload():
    assert slack.payload({"url": "x"}, ROLLED_BACK) == {"text": ROLLED_BACK_TEXT}
    settings = {"url": "x", "channel": "#releases", "username": "canary"}
    assert slack.payload(settings, ROLLED_BACK) == {
        "text": ROLLED_BACK_TEXT,
        "channel": "#releases",
        "username": "canary",
    }


def test_webhook_payload_carries_the_whole_context():
    assert webhook.payload({"url": "x"}, ROLLED_BACK) == {
        "event": "rolled_back",
        "severity": "critical",
        "service": "frontend",
        "namespace": "yyc3-short-drama",
        "stage": 2,
        "stages": 4,
        "weight": 20,
        "image": "yyc3/short-drama-frontend:1.2.0",
        "reason": "error_rate = 0.031 > max 0.01",
        "summary": "yyc3/short-drama-frontend:1.2.0 rolled back at stage 2/4 (20%): "
        "error_rate = 0.031 > max 0.01",
        "text": ROLLED_BACK_TEXT,
        "time": "2026-11-18T11:06:40Z",
    }


def test_alertmanager_alert_of_a_rollback_stays_firing():
    assert alertmanager.payload({"url": "x"}, ROLLED_BACK) == [
        {
            "labels": {
                "alertname": "CanaryRolledBack",
                "service": "frontend",
                "namespace": "yyc3-short-drama",
                "severity": "critical",
            },
            "annotations": {
                "summary": ROLLED_BACK_TEXT,
                "description": "error_rate = 0.031 > max 0.01",
            },
            "startsAt": "2026-11-18T11:06:40Z",
        }
    ]


def test_alertmanager_alert_of_progress_resolves_on_its_own():
    (alert,) = alertmanager.payload({"url": "x"}, event("stage_passed", stage=1))
    assert alert["labels"]["alertname"] == "CanaryStagePassed"
    assert alert["labels"]["severity"] == "info"
    assert alert["annotations"]["description"] == (
        "yyc3/short-drama-frontend:1.2.0 passed at stage 1/4 (5%)"
    )
    assert (alert["startsAt"], alert["endsAt"]) == ("2026-11-18T11:06:40Z", "2026-11-18T11:11:40Z")


@pytest.mark.parametrize(
    ("name", "alertname", "severity"),
    [
        ("stage_started", "CanaryStageStarted", "info"),
        ("held", "CanaryHeld", "warning"),
        ("promoted", "CanaryPromoted", "info"),
        ("not_ready", "CanaryNotReady", "critical"),
        ("failed", "CanaryFailed", "critical"),
    ],
)
def test_alertmanager_names_and_severities(name, alertname, severity):
    (alert,) = alertmanager.payload({"url": "x"}, event(name))
    assert (alert["labels"]["alertname"], alert["labels"]["severity"]) == (alertname, severity)
    assert ("endsAt" in alert) is (severity == "info")


def test_slack_receiver_gets_the_exact_json():
    with Receiver() as receiver:
        request = slack.request({"url": receiver.url + SECRET_PATH, "channel": "#rel"}, ROLLED_BACK)
        assert delivery.post(request, timeout=5) == (200, None)
    (got,) = receiver.received
    assert got["path"] == SECRET_PATH
    assert got["headers"]["Content-Type"] == "application/json"
    assert got["json"] == {"text": ROLLED_BACK_TEXT, "channel": "#rel"}


def test_webhook_receiver_gets_the_headers_and_the_exact_json():
    with Receiver(status=204) as receiver:
        settings = {
            "url": receiver.url + "/hook?key=SECRET",
            "headers": {"Authorization": SECRET_HEADER},
        }
        assert delivery.post(webhook.request(settings, ROLLED_BACK), timeout=5) == (204, None)
    (got,) = receiver.received
    assert got["path"] == "/hook?key=SECRET"
    assert got["headers"]["Authorization"] == SECRET_HEADER
    assert got["json"] == webhook.payload(settings, ROLLED_BACK)
    assert got["json"]["event"] == "rolled_back"


def test_alertmanager_receiver_gets_the_exact_json_on_the_v2_path():
    with Receiver() as receiver:
        request = alertmanager.request({"url": receiver.url + "/"}, ROLLED_BACK)
        assert delivery.post(request, timeout=5) == (200, None)
    (got,) = receiver.received
    assert got["path"] == "/api/v2/alerts"
    # The payload itself is pinned by test_alertmanager_alert_of_a_rollback_stays_firing.
    assert got["json"] == alertmanager.payload({"url": "x"}, ROLLED_BACK)


def test_an_error_answer_is_reported_with_secrets_masked():
    body = f"no_service: {SECRET_PATH} and {SECRET_HEADER}".encode()
    with Receiver(status=404, body=body) as receiver:
        url = receiver.url + SECRET_PATH
        settings = {"url": url, "headers": {"Authorization": SECRET_HEADER}}
        status, error = delivery.post(webhook.request(settings, ROLLED_BACK), timeout=5)
    assert status == 404
    assert error.startswith("HTTP 404 Not Found: no_service: ")
    assert "SECRET" not in error


def test_a_receiver_that_is_down_is_an_error_not_an_exception():
    url = closed_port_url() + SECRET_PATH
    status, error = delivery.post(slack.request({"url": url}, ROLLED_BACK), timeout=5)
    assert status is None
    assert "refused" in error.lower()
    assert "SECRET" not in error


def test_a_slow_receiver_times_out():
    with Receiver(delay=3) as receiver:
        request = slack.request({"url": receiver.url + SECRET_PATH}, ROLLED_BACK)
        assert delivery.post(request, timeout=0.3) == (None, "timed out")


def test_dispatch_sends_each_channel_the_events_it_wants():
    with Receiver() as hooks, Receiver() as am:
        section = {
            "template": "{service}: {summary}",
            "timeout_seconds": 5,
            "slack": {"url": hooks.url + SECRET_PATH, "events": ["promoted", "rolled_back"]},
            "webhook": {"url": hooks.url + "/hook", "headers": {}, "events": ["rolled_back"]},
            "alertmanager": {"url": am.url, "events": ["rolled_back", "held"]},
        }
        text, results = dispatch.notify(section, RELEASE, "promoted", stage=4)
        assert text == "frontend: yyc3/short-drama-frontend:1.2.0 promoted to stable"
        assert [(r["channel"], r["sent"], r["status"], r["error"]) for r in results] == [
            ("slack", True, 200, None)
        ]
        _, results = dispatch.notify(section, RELEASE, "rolled_back", stage=1, reason="errors")
        assert [r["channel"] for r in results] == ["slack", "webhook", "alertmanager"]
        assert all(r["sent"] for r in results)
        _, results = dispatch.notify(section, RELEASE, "stage_started", stage=1)
        assert results == []
    assert [r["path"] for r in hooks.received] == [SECRET_PATH, SECRET_PATH, "/hook"]
    assert am.events() == ["CanaryRolledBack"]


def test_dispatch_in_check_mode_sends_nothing_and_shows_what_it_would_send():
    with Receiver() as receiver:
        section = {"slack": {"url": receiver.url + SECRET_PATH}, "events": ["held"]}
        text, results = dispatch.notify(section, RELEASE, "held", check_mode=True, stage=2)
    assert receiver.received == []
    assert results == [
        {
            "channel": "slack",
            "sent": False,
            "status": None,
            "error": None,
            "payload": {"text": text},
        }
    ]
    assert text == "[frontend] held: yyc3/short-drama-frontend:1.2.0 held at stage 2/4 (20%)"


def test_dispatch_reports_a_channel_that_is_down_and_sends_to_the_others():
    with Receiver() as am:
        section = {
            "slack": {"url": closed_port_url() + SECRET_PATH},
            "alertmanager": {"url": am.url},
        }
        _, results = dispatch.notify(section, RELEASE, "not_ready", stage=0)
    assert [(r["channel"], r["sent"]) for r in results] == [
        ("slack", False),
        ("alertmanager", True),
    ]
    assert "refused" in results[0]["error"].lower()
    assert am.events() == ["CanaryNotReady"]
