"""What operators do by hand: stage by stage, dry runs, and rollbacks at odd moments."""

import json
import socket

import pytest

from sandbox.releases import CANARY, CANARY_NAMESPACE, HEALTHY_IMAGE, SEED_IMAGE, STABLE, wait_for
from tests.bad_specs import merged

from .conftest import run_playbook
from .test_bad_input import snapshot, spec_file

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

FAULTY_IMAGE = "yyc3/short-drama-frontend:1.2.0-errors"


def test_dry_run_of_prepare_changes_nothing_and_shows_no_secret(cluster):
    before = snapshot(cluster)
    code, output = run_playbook(
        "prepare.yml", "--check", "--diff", "-vvv", "-e", f"canary_image={HEALTHY_IMAGE}"
    )
    assert code == 0, output
    assert "password123" not in output
    assert snapshot(cluster) == before


def test_a_write_the_api_server_refuses_says_why_and_rolls_back(cluster):
    """--check sends the canary's writes as server-side dry runs: quota admission answers."""
    code, output = run_playbook("prepare.yml", "-e", f"canary_image={HEALTHY_IMAGE}")
    assert code == 0, output
    cluster.api.delete("Deployment", CANARY_NAMESPACE, CANARY)
    wait_for("the canary Deployment to go", lambda: cluster.canary() is None)
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "no-more-deployments", "namespace": CANARY_NAMESPACE},
        "spec": {"hard": {"count/deployments.apps": "0"}},
    }
    cluster.api.create(quota)
    before = snapshot(cluster)
    code, output = run_playbook("prepare.yml", "--check", "-e", f"canary_image={HEALTHY_IMAGE}")
    assert code != 0
    assert (
        f'403 Forbidden: deployments.apps "{CANARY}" is forbidden: exceeded quota: '
        "no-more-deployments" in output
    ), output
    assert snapshot(cluster) == before
    assert cluster.canary() is None
    # The same refusal for real: the run rolls back, fails in the server's words, says so
    # in the ledger and frees the lock.
    code, output = run_playbook("prepare.yml", "-e", f"canary_image={HEALTHY_IMAGE}")
    assert code != 0
    refusal = f'403 Forbidden: deployments.apps "{CANARY}" is forbidden: exceeded quota'
    assert f"frontend rolled back: Failed to create object: {refusal}" in " ".join(
        output.split()
    ), output
    ledger = cluster.ledger()
    assert ledger["status"] == "rolled_back", ledger
    assert ledger["reason"].startswith("prepare failed: "), ledger["reason"]
    assert refusal in ledger["reason"], ledger["reason"]
    assert cluster.canary() is None
    assert not cluster.lock_holder()


def test_prometheus_credentials_reach_prometheus_only(cluster, tmp_path):
    token = "SECRET-prometheus-token"
    change = {
        "stages": [{"weight": 5, "bake": "2s"}],
        "analysis": {"initial_delay": "4s", "prometheus": {"bearer_token": token}},
    }
    spec = spec_file(tmp_path, merged(change))
    code, output = run_playbook(
        "release.yml", "-vvv", "-e", spec, "-e", f"canary_image={HEALTHY_IMAGE}"
    )
    assert code == 0, output
    assert token not in output
    ledger = cluster.ledger()
    assert ledger["status"] == "promoted"
    assert token not in str(ledger)


def test_failed_stage_is_held_for_a_person_and_never_skipped(cluster):
    code, output = run_playbook("prepare.yml", "-e", f"canary_image={FAULTY_IMAGE}")
    assert code == 0, output
    code, output = run_playbook("promote.yml", "-e", "canary_auto_rollback=false")
    assert code != 0
    assert "left as it is" in output
    ledger = cluster.ledger()
    assert (ledger["status"], ledger["stage"], ledger["stage_status"]) == ("paused", 1, "failed")
    assert cluster.weight() == 5

    code, output = run_playbook("finalize.yml")
    assert code != 0
    assert "Stage 1 of 4 has not passed yet" in output
    assert cluster.stable_image() == SEED_IMAGE

    code, output = run_playbook("rollback.yml", "-e", '{"canary_rollback_reason": "errors at 5%"}')
    assert code == 0, output
    ledger = cluster.ledger()
    assert ledger["status"] == "rolled_back" and ledger["reason"] == "errors at 5%"
    assert cluster.weight() == 0


def test_promote_past_the_last_stage_leaves_the_release_alone(cluster):
    code, output = run_playbook("prepare.yml", "-e", f"canary_image={HEALTHY_IMAGE}")
    assert code == 0, output
    code, output = run_playbook("promote.yml", "-e", "canary_stage=7")
    assert code != 0
    assert "canary_stage: 7 is not a stage of frontend" in output
    assert "left as it is" in output
    assert cluster.ledger()["status"] == "initialized"
    assert cluster.canary()["spec"]["replicas"] == 1
    assert cluster.lock_holder() is None  # free between steps, for the next host or job


def test_rollback_during_an_interrupted_finalize_puts_stable_back(cluster):
    code, output = run_playbook("prepare.yml", "-e", f"canary_image={HEALTHY_IMAGE}")
    assert code == 0, output
    # As if finalize had moved stable to the new image and then been interrupted.
    containers = [{"name": "frontend", "image": HEALTHY_IMAGE}]
    cluster.api.strategic_merge_patch(
        "Deployment",
        "yyc3-short-drama",
        STABLE,
        {"spec": {"template": {"spec": {"containers": containers}}}},
    )
    code, output = run_playbook("rollback.yml")
    assert code == 0, output
    assert cluster.stable_image() == SEED_IMAGE
    assert cluster.stable_ready()
    assert cluster.ledger()["status"] == "rolled_back"
    assert cluster.api.get("Namespace", None, CANARY_NAMESPACE) is not None


def test_rollback_alerts_alertmanager(cluster, tmp_path, receiver):
    spec = spec_file(tmp_path, merged({"notifications": {"alertmanager": {"url": receiver.url}}}))
    code, output = run_playbook("prepare.yml", "-e", spec)
    assert code == 0, output
    code, output = run_playbook(
        "rollback.yml", "-e", spec, "-e", '{"canary_rollback_reason": "checking the alert"}'
    )
    assert code == 0, output
    (request,) = receiver.received
    assert request["path"] == "/api/v2/alerts"
    (alert,) = request["json"]
    assert alert["labels"] == {
        "alertname": "CanaryRolledBack",
        "service": "frontend",
        "namespace": "yyc3-short-drama",
        "severity": "critical",
    }
    assert alert["annotations"] == {
        "summary": f"[frontend] rolled_back: {HEALTHY_IMAGE} rolled back before the first stage: "
        "checking the alert",
        "description": "checking the alert",
    }
    assert "endsAt" not in alert


def test_release_windows_gate_release_and_each_stage(cluster, tmp_path):
    windows = {
        "timezone": "Asia/Shanghai",
        "deny": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}],
        "holidays_file": "calendars/cn-2026.yml",
    }
    short = [{"weight": 5, "bake": "2s"}, {"weight": 100, "bake": "2s"}]
    spec = spec_file(tmp_path, merged({"windows": windows, "stages": short}))
    national_day = "canary_window_now=2026-10-01T22:30:00+08:00"
    before = snapshot(cluster)
    code, output = run_playbook(
        "release.yml", "-e", spec, "-e", national_day, "-e", f"canary_image={HEALTHY_IMAGE}"
    )
    assert code != 0
    assert "National Day" in output, output
    assert snapshot(cluster) == before

    code, output = run_playbook("prepare.yml", "-e", spec, "-e", f"canary_image={HEALTHY_IMAGE}")
    assert code == 0, output
    tuesday_noon = "canary_window_now=2026-11-24T12:00:00+08:00"
    code, output = run_playbook("promote.yml", "-e", spec, "-e", tuesday_noon)
    assert code != 0
    assert "2026-11-24" in output and "deny[0]" in output, output
    assert cluster.ledger()["stage"] == 0

    override = '{"canary_window_override": "hotfix INC-42", "awx_user_name": "alice"}'
    code, output = run_playbook("promote.yml", "-e", spec, "-e", tuesday_noon, "-e", override)
    assert code == 0, output
    ledger = cluster.ledger()
    assert ledger["stage"] == 1
    (recorded,) = [e for e in ledger["history"] if e["event"] == "window_override"]
    assert (recorded["reason"], recorded["user"]) == ("hotfix INC-42", "alice")


def test_a_failed_backup_stops_the_release_before_anything_changes(cluster):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backup = {
        "canary_backup_mysql": {
            "host": "127.0.0.1",
            "port": port,
            "user": "backup",
            "password": "SECRET-backup-password",
            "databases": ["yyc3"],
        }
    }
    before = snapshot(cluster)
    code, output = run_playbook(
        "release.yml", "-e", json.dumps(backup), "-e", f"canary_image={HEALTHY_IMAGE}"
    )
    assert code != 0
    assert f"127.0.0.1:{port}" in output, output
    assert "SECRET-backup-password" not in output
    assert snapshot(cluster) == before
    assert cluster.lock_holder() is None
