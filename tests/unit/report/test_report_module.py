"""The canary_report module: four files, written only when they change, check mode, diffs,
errors that name the field and leave the files alone."""

import json
import stat

import canary_report
import pytest
from ansible.module_utils.testing import patch_module_args

from . import ledgers

NAMES = [
    "frontend-20250101T120000Z.json",
    "frontend-20250101T120000Z.html",
    "frontend-latest.json",
    "frontend-latest.html",
]


def run(capsys, dest, spec, state, check=False, diff=False):
    """Run the module; return (exit code, parsed JSON output)."""
    args = {
        "release": spec,
        "ledger": state,
        "dest": str(dest),
        "_ansible_check_mode": check,
        "_ansible_diff": diff,
    }
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        canary_report.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def test_writes_the_release_and_latest_files_then_changes_nothing(capsys, tmp_path):
    dest = tmp_path / "reports"
    spec, state = ledgers.rolled_back()
    code, result = run(capsys, dest, spec, state)
    assert code == 0, result
    assert result["changed"] is True and result["changed_files"] == NAMES
    assert sorted(p.name for p in dest.iterdir()) == sorted(NAMES)
    assert result["files"] == {
        "json": str(dest / NAMES[0]),
        "html": str(dest / NAMES[1]),
        "latest_json": str(dest / NAMES[2]),
        "latest_html": str(dest / NAMES[3]),
    }
    assert json.loads((dest / NAMES[0]).read_text()) == result["report"]
    assert result["report"]["outcome"] == "rolled_back"
    assert (dest / NAMES[1]).read_text() == (dest / NAMES[3]).read_text()
    assert {stat.S_IMODE(p.stat().st_mode) for p in dest.iterdir()} == {0o644}

    code, again = run(capsys, dest, spec, state)
    assert (code, again["changed"], again["changed_files"]) == (0, False, [])
    assert "diff" not in again


def test_a_later_release_gets_its_own_files_and_the_latest(capsys, tmp_path):
    first_spec, first = ledgers.rolled_back()
    run(capsys, tmp_path, first_spec, first)
    spec, state = ledgers.second_release()
    code, result = run(capsys, tmp_path, spec, state)
    assert code == 0, result
    assert result["changed_files"] == [
        "frontend-20250101T130009Z.json",
        "frontend-20250101T130009Z.html",
        "frontend-latest.json",
        "frontend-latest.html",
    ]
    assert len(list(tmp_path.iterdir())) == 6
    latest = json.loads((tmp_path / "frontend-latest.json").read_text())
    assert latest["release_id"] == "20250101T130009Z" and latest["outcome"] == "promoted"
    kept = json.loads((tmp_path / "frontend-20250101T120000Z.json").read_text())
    assert kept["outcome"] == "rolled_back"


def test_check_mode_writes_nothing_and_diffs_each_file(capsys, tmp_path):
    dest = tmp_path / "reports"
    spec, state = ledgers.held()
    code, result = run(capsys, dest, spec, state, check=True, diff=True)
    assert code == 0, result
    assert result["changed"] is True and not dest.exists()
    assert [d["after_header"] for d in result["diff"]] == [str(dest / n) for n in NAMES]
    assert result["diff"][0]["before_header"].endswith("(absent)")
    assert json.loads(result["diff"][0]["after"]) == result["report"]


def test_a_new_measurement_changes_the_release_and_latest_files(capsys, tmp_path):
    spec, state = ledgers.resumed()
    run(capsys, tmp_path, spec, state)
    state["history"].append({**state["history"][-2], "at": "2025-01-01T12:10:00.000Z"})
    code, result = run(capsys, tmp_path, spec, state, diff=True)
    assert code == 0, result
    assert result["changed_files"] == NAMES
    assert '"at": "2025-01-01T12:10:00.000Z"' in result["diff"][0]["after"]
    assert '"at": "2025-01-01T12:10:00.000Z"' not in result["diff"][0]["before"]


def test_bad_input_fails_naming_the_field_and_writes_nothing(capsys, tmp_path):
    spec, state = ledgers.held()
    state["history"][2]["at"] = "not a time"
    code, result = run(capsys, tmp_path, spec, state)
    assert code == 1
    assert result["msg"] == (
        "Cannot report on the release: ledger.history[2].at: not a timestamp: 'not a time'"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_ledger_without_a_release_is_an_error(capsys, tmp_path):
    spec, _ = ledgers.held()
    empty = {"service": "frontend", "status": "", "history": []}
    code, result = run(capsys, tmp_path, spec, empty)
    assert code == 1
    assert "ledger: no release of frontend is recorded (status none)" in result["msg"]


def test_an_unwritable_directory_is_reported(capsys, tmp_path):
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the directory should be")
    spec, state = ledgers.held()
    code, result = run(capsys, blocker, spec, state)
    assert code == 1
    assert result["msg"].startswith(f"Cannot write the release report into {blocker}: ")
