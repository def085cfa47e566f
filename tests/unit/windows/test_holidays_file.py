"""Holidays files: the production example's 2026 dates, and errors naming the file and line."""

import datetime as dt

import pytest
from ansible.module_utils.windows import (
    HolidaysFileError,
    Windows,
    parse_moment,
    read_holidays_file,
)

from tests.conftest import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "calendars" / "cn-2026.yml"


def days(entries):
    found = []
    for entry in entries:
        day = entry.first
        while day <= entry.last:
            found.append(day)
            day += dt.timedelta(days=1)
    return found


def test_the_example_lists_chinas_2026_holidays_and_make_up_working_days():
    calendar = read_holidays_file(EXAMPLE)
    holidays = days(calendar["holidays"])
    # New Year 3, Spring Festival 9, Qingming 3, Labour Day 5, Dragon Boat 3,
    # Mid-Autumn 3, National Day 7.
    assert len(holidays) == len(set(holidays)) == 33
    assert {day.year for day in holidays} == {2026}
    assert [
        (entry.first.isoformat(), entry.last.isoformat()) for entry in calendar["holidays"]
    ] == [
        ("2026-01-01", "2026-01-03"),
        ("2026-02-15", "2026-02-23"),
        ("2026-04-04", "2026-04-06"),
        ("2026-05-01", "2026-05-05"),
        ("2026-06-19", "2026-06-21"),
        ("2026-09-25", "2026-09-27"),
        ("2026-10-01", "2026-10-07"),
    ]
    workdays = days(calendar["workdays"])
    assert [day.isoformat() for day in workdays] == [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ]
    # Make-up working days fall on weekends, and none is a holiday.
    assert all(day.weekday() >= 5 for day in workdays)
    assert not set(workdays) & set(holidays)


def test_a_holiday_from_the_file_names_its_line():
    section = {"timezone": "Asia/Shanghai", "allow": [], "deny": [], "holidays": [], "workdays": []}
    windows = Windows.from_section(section, str(EXAMPLE))
    decision = windows.decide(parse_moment("2026-10-03T23:00:00+08:00"))
    assert decision["allowed"] is False
    assert decision["rule"] == {
        "type": "holiday",
        "label": "National Day (国庆节) 2026-10-01 to 2026-10-07",
        "field": f"{EXAMPLE}:20",
    }
    assert decision["next_allowed"] == "2026-10-08T00:00:00+08:00"


def errors_of(tmp_path, text):
    path = tmp_path / "holidays.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HolidaysFileError) as raised:
        read_holidays_file(str(path))
    return [error.replace(str(path), "FILE") for error in raised.value.errors]


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        (
            "holidays:\n  - 2026-10-01\n  - 2026-13-01\n",
            ["FILE:3: holidays: must be a date YYYY-MM-DD, got '2026-13-01'"],
        ),
        (
            "holidays:\n  - {from: 2026-02-23, to: 2026-02-15, name: Spring Festival}\n",
            ["FILE:2: holidays: to (2026-02-15) is before from (2026-02-23)"],
        ),
        (
            "holidays:\n  - {date: 2026-10-01, day: thu}\n",
            [
                "FILE:2: holidays: unknown key day; an entry is a date, {date, name} or "
                "{from, to, name}"
            ],
        ),
        (
            "holidays:\n  - {from: 2026-10-01}\n",
            ["FILE:2: holidays: needs date, or both from and to"],
        ),
        (
            "holidays:\n  - [2026-10-01, 2026-10-02]\n",
            ["FILE:2: an entry is a date, {date, name} or {from, to, name}, not a list"],
        ),
        ("holidays: 2026-10-01\n", ["FILE:1: holidays must be a list"]),
        (
            "# 2026\nholidays: []\nvacation: []\n",
            ["FILE:3: unknown key 'vacation'; use holidays and workdays"],
        ),
        ("workdays: [2026-09-20]\n", ["FILE: no holidays list"]),
        ("- 2026-10-01\n", ["FILE:1: expected a mapping with holidays (and optionally workdays)"]),
        ("", ["FILE: expected a mapping with holidays (and optionally workdays)"]),
        (
            "holidays:\n  - 2026-10-01\n  - {date: 2026-10-02\n",
            ["FILE:4: not valid YAML: expected ',' or '}', but got '<stream end>'"],
        ),
        (
            "holidays:\n  - 2026-01-32\nworkdays:\n  - {date: x}\n",
            [
                "FILE:2: holidays: must be a date YYYY-MM-DD, got '2026-01-32'",
                "FILE:4: workdays: date must be a date YYYY-MM-DD, got 'x'",
            ],
        ),
    ],
    ids=[
        "bad-date",
        "reversed-range",
        "unknown-entry-key",
        "range-without-end",
        "entry-is-a-list",
        "holidays-not-a-list",
        "unknown-top-key",
        "no-holidays",
        "not-a-mapping",
        "empty",
        "broken-yaml",
        "every-error",
    ],
)
def test_holidays_file_errors_name_the_file_and_line(tmp_path, text, errors):
    assert errors_of(tmp_path, text) == errors


def test_a_missing_holidays_file_is_named(tmp_path):
    missing = tmp_path / "nowhere.yml"
    with pytest.raises(HolidaysFileError) as raised:
        read_holidays_file(str(missing))
    assert raised.value.errors == [
        f"{missing}: cannot read the holidays file: No such file or directory"
    ]


def test_a_holidays_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "holidays.yml"
    path.write_bytes("holidays:\n  - {date: 2026-10-01, name: 国庆节}\n".encode("gb18030"))
    with pytest.raises(HolidaysFileError) as raised:
        read_holidays_file(str(path))
    assert raised.value.errors == [f"{path}: the holidays file is not UTF-8 text"]
