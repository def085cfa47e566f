"""Release windows with a fixed clock: every moment is given, nothing reads the real time.

Asia/Shanghai has no daylight saving time; Europe/Berlin does (2026: clocks go forward
on 29 March at 02:00 CET, back on 25 October at 03:00 CEST).
"""

import datetime as dt

import pytest
from ansible.module_utils.windows import (
    Calendar,
    Entry,
    Rule,
    Windows,
    parse_moment,
    validate_section,
)

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
PEAK = {"days": WEEKDAYS, "start": "09:00", "end": "18:00", "name": "peak hours"}
NIGHTS = {"start": "22:00", "end": "06:00"}
PLAN = {"timezone": "Asia/Shanghai", "allow": [NIGHTS], "deny": [PEAK]}


def windows(section, holidays=(), workdays=()):
    completed, errors = validate_section(section)
    assert errors == []
    calendar = Calendar(
        [Entry(*day, source="test") for day in holidays],
        [Entry(*day, source="test") for day in workdays],
    )
    return Windows(completed, calendar)


def at(text):
    return parse_moment(text)


def day(text, name=None):
    date = dt.date.fromisoformat(text)
    return date, date, name


def test_a_weekday_in_peak_hours_is_blocked_naming_the_rule_and_the_next_allowed_time():
    decision = windows(PLAN).decide(at("2026-03-10T10:30:00+08:00"))
    assert decision == {
        "allowed": False,
        "reason": "Tuesday 2026-03-10 10:30 Asia/Shanghai is inside the blocked window "
        "peak hours (weekdays 09:00-18:00)",
        "rule": {
            "type": "deny",
            "label": "peak hours (weekdays 09:00-18:00)",
            "field": "windows.deny[0]",
        },
        "now": "2026-03-10T10:30:00+08:00",
        "next_allowed": "2026-03-10T22:00:00+08:00",
        "allowed_until": "2026-03-11T06:00:00+08:00",
    }


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        ("2026-03-10T08:59:59+08:00", True),
        ("2026-03-10T09:00:00+08:00", False),  # start inclusive
        ("2026-03-10T17:59:59+08:00", False),
        ("2026-03-10T18:00:00+08:00", True),  # end exclusive
        ("2026-03-14T10:30:00+08:00", True),  # Saturday: not a weekday
    ],
)
def test_peak_hours_start_inclusive_end_exclusive_on_weekdays_only(moment, allowed):
    deny_only = {"timezone": "Asia/Shanghai", "deny": [PEAK]}
    assert windows(deny_only).verdict(at(moment)).allowed is allowed


def test_the_preferred_night_is_allowed_until_it_ends():
    decision = windows(PLAN).decide(at("2026-03-10T23:00:00+08:00"))
    assert decision["allowed"] is True
    assert decision["reason"] == (
        "Tuesday 2026-03-10 23:00 Asia/Shanghai is inside the allowed window every day 22:00-06:00"
    )
    assert decision["rule"]["field"] == "windows.allow[0]"
    assert decision["next_allowed"] == decision["now"] == "2026-03-10T23:00:00+08:00"
    assert decision["allowed_until"] == "2026-03-11T06:00:00+08:00"


def test_outside_every_allowed_window_is_blocked_even_where_nothing_is_denied():
    decision = windows(PLAN).decide(at("2026-03-14T12:00:00+08:00"))
    assert decision["allowed"] is False
    assert decision["reason"] == (
        "Saturday 2026-03-14 12:00 Asia/Shanghai is outside every allowed window "
        "(every day 22:00-06:00)"
    )
    assert decision["rule"]["type"] == "outside"
    assert decision["next_allowed"] == "2026-03-14T22:00:00+08:00"


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        ("2026-03-13T22:00:00+08:00", True),  # Friday night
        ("2026-03-14T00:00:00+08:00", True),  # past midnight: still Friday's window
        ("2026-03-14T05:59:59+08:00", True),
        ("2026-03-14T06:00:00+08:00", False),
        ("2026-03-13T05:00:00+08:00", False),  # Friday early: Thursday's night
        ("2026-03-14T23:00:00+08:00", False),  # Saturday night
    ],
)
def test_a_window_across_midnight_belongs_to_the_day_it_starts(moment, allowed):
    friday_night = {"timezone": "Asia/Shanghai", "allow": [{**NIGHTS, "days": ["fri"]}]}
    assert windows(friday_night).verdict(at(moment)).allowed is allowed


def test_the_next_allowed_time_of_a_weekly_night_is_next_week():
    friday_night = {"timezone": "Asia/Shanghai", "allow": [{**NIGHTS, "days": ["fri"]}]}
    decision = windows(friday_night).decide(at("2026-03-14T06:00:00+08:00"))
    assert decision["next_allowed"] == "2026-03-20T22:00:00+08:00"
    assert decision["allowed_until"] == "2026-03-21T06:00:00+08:00"


def test_the_moment_is_judged_in_the_spec_time_zone_whatever_offset_it_is_given_in():
    moment = at("2026-03-10T02:30:00Z")
    shanghai = windows(PLAN).decide(moment)
    assert shanghai["allowed"] is False
    assert shanghai["reason"].startswith("Tuesday 2026-03-10 10:30 Asia/Shanghai")
    assert shanghai["now"] == "2026-03-10T10:30:00+08:00"
    berlin = windows({**PLAN, "timezone": "Europe/Berlin"}).decide(moment)
    assert berlin["allowed"] is True
    assert berlin["reason"].startswith("Tuesday 2026-03-10 03:30 Europe/Berlin")


def test_a_night_window_is_seven_hours_when_the_clocks_go_forward():
    berlin = windows({"timezone": "Europe/Berlin", "allow": [NIGHTS]})
    decision = berlin.decide(at("2026-03-28T22:00:00+01:00"))
    assert decision["allowed"] is True
    assert decision["allowed_until"] == "2026-03-29T06:00:00+02:00"
    length = at(decision["allowed_until"]) - at(decision["now"])
    assert length == dt.timedelta(hours=7)


def test_a_night_window_is_nine_hours_when_the_clocks_go_back():
    berlin = windows({"timezone": "Europe/Berlin", "allow": [NIGHTS]})
    decision = berlin.decide(at("2026-10-24T22:00:00+02:00"))
    assert decision["allowed_until"] == "2026-10-25T06:00:00+01:00"
    assert at(decision["allowed_until"]) - at(decision["now"]) == dt.timedelta(hours=9)


def test_a_window_starting_in_the_skipped_hour_starts_when_the_clock_jumps():
    # 02:30 never shows on 29 March: at 02:00 CET the clock jumps to 03:00 CEST,
    # already inside the window.
    berlin = windows({"timezone": "Europe/Berlin", "deny": [{"start": "02:30", "end": "04:00"}]})
    decision = berlin.decide(at("2026-03-29T01:30:00+01:00"))
    assert decision["allowed"] is True
    assert decision["allowed_until"] == "2026-03-29T03:00:00+02:00"
    after_jump = berlin.decide(at("2026-03-29T03:00:00+02:00"))
    assert after_jump["allowed"] is False
    assert after_jump["next_allowed"] == "2026-03-29T04:00:00+02:00"


def test_a_window_in_the_repeated_hour_blocks_both_passes():
    berlin = windows({"timezone": "Europe/Berlin", "deny": [{"start": "02:00", "end": "02:30"}]})
    first = berlin.decide(at("2026-10-25T02:10:00+02:00"))
    assert first["allowed"] is False
    assert first["next_allowed"] == "2026-10-25T02:30:00+02:00"
    # Allowed from 02:30 CEST until the clock goes back to 02:00 CET, half an hour later.
    assert first["allowed_until"] == "2026-10-25T02:00:00+01:00"
    second = berlin.decide(at("2026-10-25T02:10:00+01:00"))
    assert second["allowed"] is False
    assert second["next_allowed"] == "2026-10-25T02:30:00+01:00"


def test_a_holiday_is_blocked_all_day_in_the_spec_time_zone():
    plan = windows(PLAN, holidays=[day("2026-10-01", "National Day")])
    # 23:59:59 on 30 September in Shanghai: the night window, not yet the holiday.
    assert plan.verdict(at("2026-09-30T15:59:59Z")).allowed is True
    midnight = plan.decide(at("2026-09-30T16:00:00Z"))
    assert midnight["allowed"] is False
    assert midnight["reason"] == (
        "Thursday 2026-10-01 00:00 Asia/Shanghai is on the holiday National Day 2026-10-01 "
        "(test), blocked all day"
    )
    assert midnight["rule"] == {
        "type": "holiday",
        "label": "National Day 2026-10-01",
        "field": "test",
    }
    # Its night window resumes at midnight, once the holiday is over.
    assert midnight["next_allowed"] == "2026-10-02T00:00:00+08:00"
    assert plan.verdict(at("2026-10-01T23:00:00+08:00")).allowed is False
    # The same instant is still 30 September in Berlin.
    berlin = windows({**PLAN, "timezone": "Europe/Berlin"}, holidays=[day("2026-10-01")])
    assert berlin.verdict(at("2026-09-30T16:00:00Z")).rule["type"] != "holiday"


def test_a_holiday_overrides_an_allow_rule_and_a_long_holiday_is_waited_out():
    plan = windows(PLAN, holidays=[(dt.date(2026, 2, 15), dt.date(2026, 2, 23), "Spring Festival")])
    decision = plan.decide(at("2026-02-16T23:00:00+08:00"))
    assert decision["allowed"] is False
    assert decision["rule"]["label"] == "Spring Festival 2026-02-15 to 2026-02-23"
    assert decision["next_allowed"] == "2026-02-24T00:00:00+08:00"
    assert decision["allowed_until"] == "2026-02-24T06:00:00+08:00"


def test_a_make_up_working_day_gets_the_weekday_rules():
    # Sunday 20 September 2026 is a working day in China.
    sunday = at("2026-09-20T10:30:00+08:00")
    deny_only = {
        "timezone": "Asia/Shanghai",
        "deny": [PEAK, {"days": ["sun"], "start": "20:00", "end": "21:00"}],
    }
    assert windows(deny_only).verdict(sunday).allowed is True
    working = windows(deny_only, workdays=[day("2026-09-20")])
    assert working.verdict(sunday).rule["label"] == "peak hours (weekdays 09:00-18:00)"
    # Its own weekday's rules still apply.
    assert working.verdict(at("2026-09-20T20:30:00+08:00")).allowed is False
    # A rule for some weekdays only is not a working-day rule.
    mondays = {"timezone": "Asia/Shanghai", "deny": [{**PEAK, "days": ["mon"]}]}
    assert windows(mondays, workdays=[day("2026-09-20")]).verdict(sunday).allowed is True


def test_no_allowed_time_within_a_year_is_reported_as_none():
    never = {
        "timezone": "Asia/Shanghai",
        "allow": [{"start": "10:00", "end": "11:00"}],
        "deny": [{"start": "00:00", "end": "24:00"}],
    }
    decision = windows(never).decide(at("2026-03-10T10:30:00+08:00"))
    assert (decision["allowed"], decision["next_allowed"], decision["allowed_until"]) == (
        False,
        None,
        None,
    )


def test_without_rules_or_holidays_every_moment_is_allowed():
    decision = windows({"timezone": "Asia/Shanghai"}).decide(at("2026-03-10T10:30:00+08:00"))
    assert decision["allowed"] is True
    assert decision["rule"] is None
    assert decision["reason"] == (
        "Tuesday 2026-03-10 10:30 Asia/Shanghai is in no blocked window and on no holiday"
    )
    assert decision["allowed_until"] is None


@pytest.mark.parametrize(
    ("days", "label"),
    [
        (["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "every day"),
        (WEEKDAYS, "weekdays"),
        (["sat", "sun"], "weekends"),
        (["mon", "wed", "thu", "fri", "sun"], "mon, wed-fri, sun"),
        (["tue", "wed"], "tue, wed"),
    ],
)
def test_a_rule_names_its_days(days, label):
    rule = Rule("deny", 0, {"days": days, "start": "09:00", "end": "24:00", "name": None})
    assert rule.label == f"{label} 09:00-24:00"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-03-10T10:30:00", "must include a UTC offset"),
        ("next tuesday", "must be an ISO 8601 date and time"),
    ],
)
def test_a_moment_needs_an_offset(text, message):
    with pytest.raises(ValueError, match=message):
        parse_moment(text)
