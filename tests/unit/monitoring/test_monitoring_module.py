"""The canary_monitoring module: writes only what changed, check mode, diffs, errors."""

import json
import stat

import canary_monitoring
import pytest
from ansible.module_utils.testing import patch_module_args

from tests.monitoring_settings import RELEASE, settings

FILES = ["rules.yml", "prometheusrule.yml", "alertmanager.yml", "dashboard.json"]
SECRET_URL = "https://hooks.example.com/services/T000/B000/very-secret-token"


def run(capsys, dest, check=False, diff=False, **overrides):
    """Run the module; return (exit code, parsed JSON output, raw output)."""
    args = {key: value for key, value in settings(**overrides).items() if value is not None} | {
        "release": RELEASE,
        "dest": str(dest),
        "_ansible_check_mode": check,
        "_ansible_diff": diff,
    }
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        canary_monitoring.main()
    raw = capsys.readouterr().out
    return exited.value.code, json.loads(raw), raw


def test_writes_four_files_then_changes_nothing(capsys, tmp_path):
    dest = tmp_path / "monitoring" / "frontend"
    code, result, _ = run(capsys, dest)
    assert code == 0, result
    assert result["changed"] is True
    assert result["changed_files"] == FILES
    assert sorted(p.name for p in dest.iterdir()) == sorted(FILES)
    assert result["files"]["rules"] == str(dest / "rules.yml")
    assert result["alerts"]["critical"] == [
        "HighErrorRate",
        "HighResponseTime",
        "LowAvailability",
        "DatabaseConnectionFailures",
    ]
    assert result["prometheus_rule"]["kind"] == "PrometheusRule"
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in dest.iterdir()}
    assert modes == {
        "rules.yml": 0o644,
        "prometheusrule.yml": 0o644,
        "alertmanager.yml": 0o600,
        "dashboard.json": 0o644,
    }

    code, again, _ = run(capsys, dest)
    assert (code, again["changed"], again["changed_files"]) == (0, False, [])
    assert "diff" not in again


def test_check_mode_writes_nothing_and_diffs_each_file(capsys, tmp_path):
    dest = tmp_path / "frontend"
    code, result, _ = run(capsys, dest, check=True, diff=True)
    assert code == 0, result
    assert result["changed"] is True
    assert not dest.exists()
    assert [d["after_header"] for d in result["diff"]] == [str(dest / f) for f in FILES]
    assert result["diff"][0]["before"] == ""
    assert result["diff"][0]["before_header"].endswith("(absent)")


def test_a_changed_threshold_changes_only_the_rule_files(capsys, tmp_path):
    run(capsys, tmp_path)
    tiers = settings()["tiers"]
    tiers["critical"]["thresholds"]["error_rate"] = 0.02
    before = (tmp_path / "rules.yml").read_text()
    code, result, _ = run(capsys, tmp_path, diff=True, tiers=tiers)
    assert code == 0, result
    # The dashboard draws the tiers' thresholds too.
    assert result["changed_files"] == ["rules.yml", "prometheusrule.yml", "dashboard.json"]
    (rules_diff, *_) = result["diff"]
    assert rules_diff["before"] == before
    assert ") > 0.02\n" in rules_diff["after"]


def test_a_file_edited_by_hand_is_put_back(capsys, tmp_path):
    run(capsys, tmp_path)
    (tmp_path / "alertmanager.yml").write_text("route: {}\n")
    (tmp_path / "dashboard.json").chmod(0o666)
    code, result, _ = run(capsys, tmp_path)
    assert (code, result["changed_files"]) == (0, ["alertmanager.yml", "dashboard.json"])
    assert stat.S_IMODE((tmp_path / "dashboard.json").stat().st_mode) == 0o644


def test_webhook_urls_stay_out_of_the_output(capsys, tmp_path):
    receivers = settings()["receivers"]
    receivers["critical"]["url"] = SECRET_URL
    code, result, raw = run(capsys, tmp_path, check=True, diff=True, receivers=receivers)
    assert code == 0, result
    assert "very-secret-token" not in raw


def test_bad_settings_fail_naming_the_option(capsys, tmp_path):
    tiers = settings()["tiers"]
    tiers["important"]["thresholds"]["cpu_usage"] = 0.8
    code, result, _ = run(capsys, tmp_path, tiers=tiers)
    assert code == 1
    assert "tiers.important.thresholds.cpu_usage: unknown signal" in result["msg"]
    assert not tmp_path.joinpath("rules.yml").exists()


def test_an_unknown_tier_is_refused_by_the_argument_spec(capsys, tmp_path):
    tiers = {**settings()["tiers"], "urgent": {"thresholds": {}}}
    code, result, _ = run(capsys, tmp_path, tiers=tiers)
    assert code == 1
    assert "urgent" in result["msg"]


def test_an_unwritable_directory_fails_with_its_path(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, result, _ = run(capsys, blocker / "frontend")
    assert code == 1
    assert f"Cannot write the monitoring files into {blocker / 'frontend'}" in result["msg"]
