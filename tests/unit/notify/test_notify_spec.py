"""The notifications section of the spec: defaults, and every bad field named, no secret shown."""

import pytest
from ansible.module_utils.spec import validate_release

from tests.bad_specs import merged

SLACK_URL = "https://hooks.slack.com/services/T000/B000/SECRET-slack-token"
WEBHOOK_URL = "https://hooks.example.com/canary?key=SECRET-webhook-key"
HEADERS = {"Authorization": "Bearer SECRET-header-token"}


def notifications(**section):
    return merged({"notifications": section})


def test_no_section_means_no_channel_and_every_event():
    spec, errors = validate_release(merged({}))
    assert errors == []
    section = spec["notifications"]
    assert (section["slack"], section["webhook"], section["alertmanager"]) == (None, None, None)
    assert section["events"] == [
        "stage_started",
        "stage_passed",
        "held",
        "rolled_back",
        "promoted",
        "not_ready",
        "failed",
    ]
    assert section["template"] == "[{service}] {event}: {summary}"
    assert section["timeout_seconds"] == 5.0


def test_channels_take_the_section_events_unless_they_name_their_own():
    spec, errors = validate_release(
        notifications(
            events=["rolled_back", "promoted"],
            timeout="2s",
            slack={"url": SLACK_URL, "channel": "#releases"},
            webhook={"url": WEBHOOK_URL, "headers": HEADERS},
            alertmanager={"url": "http://alertmanager:9093", "events": ["rolled_back"]},
        )
    )
    assert errors == []
    section = spec["notifications"]
    assert section["slack"]["events"] == ["rolled_back", "promoted"]
    assert section["webhook"]["events"] == ["rolled_back", "promoted"]
    assert section["webhook"]["validate_certs"] is True
    assert section["alertmanager"]["events"] == ["rolled_back"]
    assert section["timeout_seconds"] == 2.0


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ({"events": ["rolled_back", "exploded"]}, "events"),
        (
            {"template": "{service} {user}"},
            "canary.notifications.template: unknown placeholder {user}",
        ),
        ({"template": "{service.__class__}"}, "canary.notifications.template: unknown placeholder"),
        ({"template": "{}"}, "canary.notifications.template: unknown placeholder {}"),
        ({"template": "{service"}, "canary.notifications.template"),
        (
            {"template": "{weight:%}x{service:d}"},
            "canary.notifications.template: cannot be rendered",
        ),
        ({"timeout": "soon"}, "canary.notifications.timeout"),
        ({"timeout": 0}, "canary.notifications.timeout: must be greater than zero"),
        ({"slack": {"channel": "#releases"}}, "missing required arguments: url"),
        ({"slack": {"url": SLACK_URL, "colour": "red"}}, "canary.notifications.slack.colour"),
        (
            {"slack": {"url": "hooks.slack.com/SECRET-slack-token"}},
            "canary.notifications.slack.url",
        ),
        ({"slack": {"url": ""}}, "canary.notifications.slack.url"),
        ({"webhook": {"url": "ftp://SECRET-webhook-host/x"}}, "canary.notifications.webhook.url"),
        (
            {"webhook": {"url": WEBHOOK_URL, "headers": ["SECRET-header-token"]}},
            "'headers'",
        ),
        (
            {"webhook": {"url": WEBHOOK_URL, "headers": {"Authorization": ["SECRET-x"]}}},
            "canary.notifications.webhook.headers: header Authorization",
        ),
        (
            {"webhook": {"url": WEBHOOK_URL, "headers": {"X-Token": "SECRET-a\nSECRET-b"}}},
            "canary.notifications.webhook.headers: header X-Token: its value must be one line",
        ),
        (
            {"webhook": {"url": WEBHOOK_URL, "headers": {"Bad Name SECRET": "x"}}},
            "canary.notifications.webhook.headers: has a header whose name",
        ),
        ({"alertmanager": {"url": "alertmanager:9093"}}, "canary.notifications.alertmanager.url"),
        (
            {"alertmanager": {"url": "http://alertmanager:9093", "events": ["rolled"]}},
            "events",
        ),
    ],
)
def test_bad_field_is_named_and_no_secret_is_shown(section, field):
    spec, errors = validate_release(notifications(**section))
    assert spec is None
    assert any(field in error for error in errors), errors
    assert not any("SECRET" in error for error in errors), errors


def test_alertmanager_url_with_credentials_is_not_shown():
    _, errors = validate_release(notifications(alertmanager={"url": "am:SECRET-pw@host:9093"}))
    assert any("canary.notifications.alertmanager.url" in error for error in errors)
    assert not any("SECRET" in error for error in errors), errors


def test_the_top_level_alertmanager_section_moved_into_notifications():
    _, errors = validate_release(merged({"alertmanager": {"url": "http://alertmanager:9093"}}))
    assert any("canary.alertmanager" in error for error in errors), errors


def test_a_webhook_url_may_carry_its_key_in_the_query():
    spec, errors = validate_release(notifications(webhook={"url": WEBHOOK_URL}))
    assert errors == []
    assert spec["notifications"]["webhook"]["headers"] == {}


def test_format_specs_are_checked_against_the_placeholder_types():
    _, errors = validate_release(notifications(template="{stage:>3} {weight:d}% {time}"))
    assert errors == []
