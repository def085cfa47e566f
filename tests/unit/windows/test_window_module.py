"""The canary_window module with a fixed clock: verdicts, failures, overrides, bad input."""

import json

import canary_window
import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

from tests.conftest import PROJECT_ROOT

HOLIDAYS = str(PROJECT_ROOT / "calendars" / "cn-2026.yml")
WINDOWS = {
    "timezone": "Asia/Shanghai",
    "allow": [
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "22:00",
            "end": "06:00",
        }
    ],
    "deny": [
        {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "09:00",
            "end": "18:00",
            "name": "peak hours",
        }
    ],
    "holidays_file": HOLIDAYS,
}
PEAK = "2026-03-10T10:30:00+08:00"
NIGHT = "2026-03-10T23:00:00+08:00"


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    """Ansible keeps module warnings for the process; each test runs a module of its own."""
    monkeypatch.setattr(ansible_warnings, "_global_warnings", {})


def run_module(capsys, **args):
    """Run main() with ``args``; return (exit code, parsed output)."""
    with patch_module_args({"windows": WINDOWS, **args}), pytest.raises(SystemExit) as exited:
        canary_window.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def warnings(result):
    return [warning["event"]["msg"] for warning in result.get("warnings", [])]


def test_a_blocked_moment_fails_naming_the_rule_and_the_next_allowed_time(capsys):
    code, result = run_module(capsys, now=PEAK, user="alice")
    assert code == 1
    assert result["failed"] is True
    assert result["msg"] == (
        "Outside the release windows: Tuesday 2026-03-10 10:30 Asia/Shanghai is inside the "
        "blocked window peak hours (weekdays 09:00-18:00); next allowed "
        "2026-03-10T22:00:00+08:00 until 2026-03-11T06:00:00+08:00. To release anyway, give a "
        "reason: -e canary_window_override='...' (recorded in the ledger)"
    )
    assert result["rule"]["field"] == "windows.deny[0]"
    assert (result["allowed"], result["override_used"]) == (False, False)


def test_an_allowed_moment_passes_without_change(capsys):
    code, result = run_module(capsys, now=NIGHT)
    assert code == 0
    assert (result["allowed"], result["changed"], result["override_used"]) == (True, False, False)
    assert result["next_allowed"] == NIGHT
    assert result["allowed_until"] == "2026-03-11T06:00:00+08:00"


def test_an_override_lets_a_blocked_moment_pass_and_reports_who_and_why(capsys):
    code, result = run_module(capsys, now=PEAK, override="  fix for INC-1234 ", user="alice")
    assert code == 0
    assert result["allowed"] is False
    assert result["override_used"] is True
    assert result["override_reason"] == "fix for INC-1234"
    assert result["user"] == "alice"
    assert result["rule"]["label"] == "peak hours (weekdays 09:00-18:00)"
    assert result["reason"].endswith("; overridden by alice: fix for INC-1234")
    assert warnings(result) == [f"Outside the release windows, going ahead: {result['reason']}"]


def test_a_blank_override_is_no_override(capsys):
    code, result = run_module(capsys, now=PEAK, override="   ")
    assert code == 1
    assert result["override_used"] is False


def test_an_override_in_an_allowed_moment_is_not_used(capsys):
    code, result = run_module(capsys, now=NIGHT, override="just in case")
    assert code == 0
    assert (result["override_used"], result["override_reason"]) == (False, "")
    assert warnings(result) == [f"The override was not used: {result['reason']}"]


def test_check_mode_gives_the_same_verdict(capsys):
    code, result = run_module(capsys, now=PEAK, _ansible_check_mode=True)
    assert code == 1
    assert result["rule"]["field"] == "windows.deny[0]"


def test_a_holiday_from_the_file_blocks_and_names_the_file_and_line(capsys):
    code, result = run_module(capsys, now="2026-10-01T23:00:00+08:00", override="national day fix")
    assert code == 0
    assert result["rule"]["field"] == f"{HOLIDAYS}:20"
    assert result["override_used"] is True


def test_the_holidays_file_argument_wins_over_the_section(capsys, tmp_path):
    other = tmp_path / "holidays.yml"
    other.write_text("holidays:\n  - {date: 2026-03-10, name: company day}\n")
    code, result = run_module(capsys, now=NIGHT, holidays_file=str(other))
    assert code == 1
    assert result["rule"] == {
        "type": "holiday",
        "label": "company day 2026-03-10",
        "field": f"{other}:2",
    }


def test_a_year_without_holidays_warns(capsys):
    code, result = run_module(capsys, now="2027-03-10T23:00:00+08:00")
    assert code == 0
    assert warnings(result) == [
        f"The holidays ({HOLIDAYS}) list none in 2027: add that year's, or every day of it "
        "counts as a working day"
    ]


def test_the_user_defaults_to_the_controllers(capsys, monkeypatch):
    monkeypatch.setattr(canary_window.getpass, "getuser", lambda: "operator")
    code, result = run_module(capsys, now=PEAK, override="hotfix")
    assert (code, result["user"]) == (0, "operator")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"now": "2026-03-10T10:30:00"}, "now: must include a UTC offset"),
        (
            {
                "windows": {
                    **WINDOWS,
                    "allow": [{"days": ["monday"], "start": "22:00", "end": "06:00"}],
                }
            },
            "Invalid release windows: windows.allow[0].days: unknown day 'monday'; use mon, tue, "
            "wed, thu, fri, sat, sun",
        ),
        (
            {"windows": {**WINDOWS, "timezone": "China/Beijing"}},
            "Invalid release windows: windows.timezone: unknown time zone 'China/Beijing'",
        ),
        (
            {"holidays_file": str(PROJECT_ROOT / "no-such-holidays.yml")},
            f"Invalid holidays file: {PROJECT_ROOT / 'no-such-holidays.yml'}: cannot read",
        ),
    ],
    ids=["naive-now", "bad-day", "bad-zone", "missing-file"],
)
def test_bad_input_fails_naming_the_field(capsys, args, message):
    code, result = run_module(capsys, **{"now": PEAK, "override": "anyway", **args})
    assert code == 1
    assert result["msg"].startswith(message), result["msg"]
    assert result["override_used"] is False
