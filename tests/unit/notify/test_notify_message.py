"""Events to context to text: default summaries, placeholders, custom templates."""

import pytest
from ansible.module_utils.notify import message

RELEASE = {
    "service": "frontend",
    "namespace": "yyc3-short-drama",
    "image": "",
    "stages": [{"weight": 5}, {"weight": 20}, {"weight": 50}, {"weight": 100}],
}
IMAGE = "yyc3/short-drama-frontend:1.2.0"
NOW = 1795000000  # 2026-11-18T11:06:40Z


def context(event, **details):
    return message.context(RELEASE, event, **{"image": IMAGE, "now": NOW, **details})


def test_context_has_every_placeholder():
    values = context("rolled_back", stage=2, reason="error_rate = 0.031 > max 0.01")
    assert set(values) == set(message.PLACEHOLDERS)
    assert values == {
        "service": "frontend",
        "namespace": "yyc3-short-drama",
        "event": "rolled_back",
        "stage": 2,
        "stages": 4,
        "weight": 20,
        "image": IMAGE,
        "reason": "error_rate = 0.031 > max 0.01",
        "summary": f"{IMAGE} rolled back at stage 2/4 (20%): error_rate = 0.031 > max 0.01",
        "time": "2026-11-18T11:06:40Z",
    }


@pytest.mark.parametrize(
    ("event", "details", "summary"),
    [
        ("stage_started", {"stage": 1}, f"{IMAGE} started at stage 1/4 (5%)"),
        ("stage_passed", {"stage": 3}, f"{IMAGE} passed at stage 3/4 (50%)"),
        (
            "held",
            {"stage": 2, "reason": "2 failed checks"},
            f"{IMAGE} held at stage 2/4 (20%): 2 failed checks",
        ),
        ("rolled_back", {}, f"{IMAGE} rolled back"),
        (
            "promoted",
            {"stage": 4, "reason": "every stage passed"},
            f"{IMAGE} promoted to stable: every stage passed",
        ),
        (
            "not_ready",
            {"stage": 0, "reason": "0 of 1 replicas ready"},
            f"{IMAGE} did not become ready before the first stage: 0 of 1 replicas ready",
        ),
        (
            "failed",
            {"stage": 2, "reason": "stable not verified"},
            f"{IMAGE} failed at stage 2/4 (20%): stable not verified",
        ),
    ],
)
def test_default_summary_of_each_event(event, details, summary):
    assert context(event, **details)["summary"] == summary


def test_every_event_has_a_summary_and_a_severity():
    for event in message.EVENTS:
        assert context(event)["summary"]
    assert [message.severity(event) for event in message.EVENTS] == [
        "info",
        "info",
        "warning",
        "critical",
        "info",
        "critical",
        "critical",
    ]


def test_image_defaults_to_the_spec_and_reason_goes_on_one_line():
    values = message.context({**RELEASE, "image": "app:2"}, "held", reason="a\n  b\tc ", now=NOW)
    assert values["image"] == "app:2"
    assert values["reason"] == "a b c"
    assert (
        message.context(RELEASE, "promoted", now=NOW)["summary"] == "the canary promoted to stable"
    )


def test_default_template():
    values = context("stage_passed", stage=1)
    assert message.render(message.DEFAULT_TEMPLATE, values) == (
        f"[frontend] stage_passed: {IMAGE} passed at stage 1/4 (5%)"
    )


def test_custom_template_with_format_specs():
    values = context("held", stage=2, reason="latency")
    template = (
        "{time} {service}@{namespace} {event:>12} {stage}/{stages} {weight:3d}% {image} - {reason}"
    )
    assert message.render(template, values) == (
        f"2026-11-18T11:06:40Z frontend@yyc3-short-drama         held 2/4  20% {IMAGE} - latency"
    )


def test_values_that_do_not_apply_render_as_nothing_whatever_their_format():
    values = message.context(RELEASE, "promoted", now=NOW)
    assert message.render("<{stage:d}|{weight:3d}|{reason!r}|{image}>", values) == "<|||>"
