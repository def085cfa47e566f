import datetime

import pytest
from ansible.module_utils.spec import validate_release

from tests.bad_specs import BAD_SPECS, GOOD_SPEC, merged


def test_good_spec_is_completed_with_defaults():
    spec, errors = validate_release(merged({}))
    assert errors == []
    assert spec["canary_namespace"] == "yyc3-short-drama-canary"
    assert spec["workload"]["canary_name"] == "frontend-deployment-canary"
    assert spec["workload"]["service"] == "frontend"
    assert spec["traffic"]["options"] == {
        "name": "traffic-config",
        "key": "canary_percentage",
        "namespace": "yyc3-short-drama",
        "targeting_key": "targeting",
    }
    assert [s["bake_seconds"] for s in spec["stages"]] == [10.0] * 4
    assert spec["analysis"]["interval_seconds"] == 2.0
    assert spec["analysis"]["selector"] == 'namespace="yyc3-short-drama-canary",track="canary"'
    # The plan's three tiers.
    assert [
        (c["name"], c["severity"], c["max"] or c["min"]) for c in spec["analysis"]["checks"]
    ] == [
        ("error_rate", "critical", 0.01),
        ("latency_p99", "critical", 2.0),
        ("availability", "critical", 0.99),
        ("error_rate_important", "important", 0.005),
        ("latency_p99_important", "important", 1.5),
        ("error_rate_general", "general", 0.001),
        ("latency_p99_general", "general", 1.0),
    ]
    assert spec["analysis"]["variables"] == {
        "service": "frontend",
        "namespace": "yyc3-short-drama",
        "canary_namespace": "yyc3-short-drama-canary",
    }
    assert (spec["analysis"]["no_data"], spec["analysis"]["min_requests"]) == ("fail", 0)
    assert spec["analysis"]["error_limit"] == 4
    assert spec["analysis"]["success_limit"] == 1
    assert spec["analysis"]["hold_timeout_seconds"] == 600.0
    assert spec["analysis"]["baseline"] is None
    assert spec["ledger"] == {
        "name": "frontend-canary-ledger",
        "namespace": "yyc3-short-drama",
        "lock": "frontend-canary-lock",
    }
    assert spec["lock_ttl_seconds"] == 600.0


def test_replicas_carry_over_from_the_previous_stage():
    spec, _ = validate_release(
        merged({"stages": [{"weight": 5, "replicas": 3}, {"weight": 50}]}), "release"
    )
    assert [s["replicas"] for s in spec["stages"]] == [3, 3]
    assert [s["name"] for s in spec["stages"]] == ["5%", "50%"]


@pytest.mark.parametrize(
    ("change", "field"), [c[1:] for c in BAD_SPECS], ids=[c[0] for c in BAD_SPECS]
)
def test_bad_spec_names_the_field(change, field):
    spec, errors = validate_release(merged(change))
    assert spec is None
    assert any(field in error for error in errors), errors


def test_image_is_optional_the_ledger_decides_whether_one_is_needed():
    spec, errors = validate_release(merged({"image": ""}))
    assert errors == [] and spec["image"] == ""


def test_image_argument_overrides_the_spec():
    spec, _ = validate_release(merged({}), image="yyc3/short-drama-frontend:2.0.0")
    assert spec["image"] == "yyc3/short-drama-frontend:2.0.0"


def test_every_problem_is_reported_at_once():
    change = {"stages": [{"weight": 150}], "analysis": {"failure_limit": 0}}
    _, errors = validate_release(merged(change))
    assert len(errors) == 2


def test_good_spec_is_not_modified():
    before = merged({})
    validate_release(before)
    assert before == merged({}) and GOOD_SPEC["stages"][0] == {
        "weight": 5,
        "replicas": 1,
        "bake": "10s",
    }


def test_the_retired_functional_request_names_its_replacement():
    change = {"validation": {"functional": {"path": "/api/auth/login"}}}
    spec, errors = validate_release(merged(change))
    assert spec is None
    assert errors == [
        "canary.validation.functional: replaced by validation.journeys; write it as a journey "
        "of one step (the same method, path, body and status, its expect as an assert), see "
        "the README's validation section"
    ]


@pytest.mark.parametrize(
    ("route", "field"),
    [
        ({"canary": {"url": "frontend-canary:8080"}}, "canary.validation.route.canary.url"),
        ({"stable": {"cookie": ["canary"]}}, "canary -> validation -> route -> stable"),
        ({"canary": {"path": "/x"}}, "canary.validation.route.canary.path"),
    ],
)
def test_a_bad_route_names_the_field(route, field):
    spec, errors = validate_release(merged({"validation": {"route": route}}))
    assert spec is None
    assert any(field in error for error in errors), errors


def test_a_route_replaces_the_forcing_header_for_its_track():
    route = {"canary": {"url": "http://frontend.yyc3-short-drama-canary:8080"}}
    spec, errors = validate_release(merged({"validation": {"route": route}}))
    assert errors == []
    assert spec["validation"]["route"]["canary"]["url"] == route["canary"]["url"]
    assert spec["validation"]["route"]["stable"] is None


WINDOWS = {
    "timezone": "Asia/Shanghai",
    "allow": [{"start": "22:00", "end": "06:00"}],
    "deny": [{"days": ["Mon", "tue", "wed", "thu", "fri"], "start": "9:00", "end": "18:00"}],
    "holidays_file": "calendars/cn-2026.yml",
    "holidays": [datetime.date(2026, 12, 24), {"date": "2026-12-31", "name": "year end"}],
}


def test_no_windows_means_no_gate():
    spec, errors = validate_release(merged({}))
    assert errors == []
    assert spec["windows"] is None


def test_windows_are_completed():
    spec, errors = validate_release(merged({"windows": WINDOWS}))
    assert errors == []
    windows = spec["windows"]
    assert windows["allow"] == [
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "22:00",
            "end": "06:00",
            "name": None,
        }
    ]
    assert windows["deny"][0]["days"] == ["mon", "tue", "wed", "thu", "fri"]
    assert windows["deny"][0]["start"] == "09:00"
    assert windows["holidays"] == [
        {"from": "2026-12-24", "to": "2026-12-24", "name": None},
        {"from": "2026-12-31", "to": "2026-12-31", "name": "year end"},
    ]
    assert windows["workdays"] == []
    assert windows["holidays_file"] == "calendars/cn-2026.yml"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            {"allow": [{"days": ["mon", "funday"], "start": "22:00", "end": "06:00"}]},
            "canary.windows.allow[0].days: unknown day 'funday'; use mon, tue, wed, thu, fri, sat, sun",
        ),
        (
            {"allow": [{"days": [], "start": "22:00", "end": "06:00"}]},
            "canary.windows.allow[0].days: must name at least one day",
        ),
        (
            {"deny": [{"start": "09:00", "end": "18:00"}, {"start": "25:00", "end": "23:00"}]},
            'canary.windows.deny[1].start: must be a time "HH:MM" from "00:00" to "23:59", got \'25:00\'',
        ),
        (
            # YAML 1.1 reads an unquoted 22:00 as 22 * 60.
            {"allow": [{"start": 1320, "end": "06:00"}]},
            "canary.windows.allow[0].start: got the number 1320: YAML reads an unquoted 22:00 as a "
            'number; quote it: "22:00"',
        ),
        (
            {"allow": [{"start": "24:00", "end": "06:00"}]},
            'canary.windows.allow[0].start: must be a time "HH:MM" from "00:00" to "23:59", got \'24:00\'',
        ),
        (
            {"allow": [{"start": "06:00", "end": "06:00"}]},
            'canary.windows.allow[0].end: must differ from start (06:00); a whole day is "00:00" to "24:00"',
        ),
        (
            {"timezone": "Asia/Beijing"},
            "canary.windows.timezone: unknown time zone 'Asia/Beijing'; use an IANA name such as "
            "Asia/Shanghai or Europe/Berlin",
        ),
        (
            {"holidays": ["2026-10-01", "2026-10-32"]},
            "canary.windows.holidays[1]: must be a date YYYY-MM-DD, got '2026-10-32'",
        ),
        (
            {"workdays": [{"from": "2026-10-10", "to": "2026-10-09"}]},
            "canary.windows.workdays[0]: to (2026-10-09) is before from (2026-10-10)",
        ),
        (
            {"holidays_file": " "},
            "canary.windows.holidays_file: must be a path, got an empty string",
        ),
    ],
)
def test_bad_windows_name_the_field(change, error):
    spec, errors = validate_release(merged({"windows": {**WINDOWS, **change}}))
    assert spec is None
    assert errors == [error]


@pytest.mark.parametrize(
    ("windows", "field"),
    [
        ({"allow": []}, "timezone"),
        ({**WINDOWS, "allow": [{"start": "22:00"}]}, "end"),
        ({**WINDOWS, "deny": [{"start": "09:00", "end": "18:00", "weekdays": True}]}, "weekdays"),
        ({**WINDOWS, "zone": "UTC"}, "zone"),
    ],
    ids=["no-timezone", "no-end", "unknown-rule-key", "unknown-key"],
)
def test_a_malformed_windows_section_is_refused(windows, field):
    spec, errors = validate_release(merged({"windows": windows}))
    assert spec is None
    assert any(field in error and "windows" in error for error in errors), errors
