"""Whole releases on the sandbox: real processes, real traffic, real Prometheus.

The faulty versions are sandbox images whose build misbehaves (sandbox/images.yaml):
1.2.0-errors answers 3% of requests with 500, 1.2.0-slow answers every request
after 2.5 s, 1.2.0-overload fails only once one replica serves more than the
5% stage sends it, 1.2.0-generate-errors fails 2.5% of script generations only.
"""

import re

import pytest

from sandbox.releases import CANARY, CANARY_NAMESPACE, HEALTHY_IMAGE, SEED_IMAGE, wait_for
from tests.bad_specs import merged

from .conftest import run_playbook
from .test_bad_input import snapshot, spec_file

GENERATE = "/api/ai/generate"

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def events(ledger, name):
    return [entry for entry in ledger["history"] if entry["event"] == name]


def test_healthy_release_goes_through_every_stage_and_is_promoted(cluster):
    code, output = run_playbook("release.yml", "-e", f"canary_image={HEALTHY_IMAGE}")
    assert code == 0, output
    ledger = cluster.ledger()
    assert ledger["status"] == "promoted" and ledger["image"] == HEALTHY_IMAGE
    assert ledger["stable_image"] == SEED_IMAGE
    for started in events(ledger, "stage_started"):
        validation = started["validation"]
        assert validation["health"] == "pass"
        assert validation["journeys"] == {"yyc3@canary": "pass", "yyc3@stable": "pass"}
        assert validation["security"] == {"headers": "pass"}
        assert validation["resources"] == {"cpu": "skipped", "memory": "skipped"}
    passed = events(ledger, "stage_passed")
    assert [(e["stage"], e["weight"]) for e in passed] == [(1, 5), (2, 20), (3, 50), (4, 100)]
    for stage in (1, 2, 3, 4):
        measurements = [m for m in events(ledger, "measurement") if m["stage"] == stage]
        assert len(measurements) >= 3
        assert all(m["verdict"] == "pass" for m in measurements)
        assert {"error_rate", "latency_p99", "availability"} <= set(measurements[-1]["values"])
    assert cluster.stable_image() == HEALTHY_IMAGE
    assert cluster.weight() == 0
    # Deleted in the background, once its pods have stopped.
    wait_for(
        "the canary namespace to go",
        lambda: cluster.api.get("Namespace", None, CANARY_NAMESPACE) is None,
        timeout=60,
    )
    assert cluster.lock_holder() is None

    # The same image again: said, and nothing is backed up, baked, notified or written.
    before = snapshot(cluster)
    code, output = run_playbook("release.yml", "-e", f"canary_image={HEALTHY_IMAGE}")
    assert code == 0, output
    assert (
        f"frontend: {HEALTHY_IMAGE} is already released: stable runs it, and its release "
        "ended promoted at "
    ) in " ".join(output.split()), output
    assert "TASK [Take the release lock" not in output
    assert snapshot(cluster) == before
    # Unless asked to: the dry run goes on to the lock.
    code, output = run_playbook(
        "prepare.yml",
        "--check",
        "-e",
        f"canary_image={HEALTHY_IMAGE}",
        "-e",
        "canary_release_again=true",
    )
    assert "already released" not in output
    assert "TASK [Take the release lock and start the ledger]" in output, output


def rolled_back(cluster, output, stage, *evidence):
    """Assert the rollback at ``stage``; the reason names one of ``evidence``."""
    ledger = cluster.ledger()
    assert ledger["status"] == "rolled_back", output
    assert ledger["stage"] == stage, ledger
    assert any(text in ledger["reason"] for text in evidence), ledger["reason"]
    assert cluster.weight() == 0
    assert cluster.canary()["spec"]["replicas"] == 0
    assert cluster.stable_image() == SEED_IMAGE
    assert cluster.lock_holder() is None
    return ledger


def test_release_with_errors_is_rolled_back_at_the_first_stage(cluster):
    code, output = run_playbook(
        "release.yml", "-e", "canary_image=yyc3/short-drama-frontend:1.2.0-errors"
    )
    assert code != 0
    message = re.search(r"frontend rolled back: Stage 1 \(5%\) failed its analysis: (.*)", output)
    assert message, output
    assert re.search(r"error_rate = 0\.0\d+ > max 0\.01", message.group(1))
    ledger = rolled_back(cluster, output, 1, "error_rate")
    assert events(ledger, "stage_failed")[0]["failed_checks"] == 2


def test_release_failing_only_under_more_traffic_is_rolled_back_at_a_later_stage(cluster):
    code, output = run_playbook(
        "release.yml", "-e", "canary_image=yyc3/short-drama-frontend:1.2.0-overload"
    )
    assert code != 0
    ledger = rolled_back(cluster, output, 2, "error_rate")
    assert events(ledger, "stage_passed")[0]["stage"] == 1


def test_latency_only_fault_is_caught_by_the_latency_check(cluster):
    code, output = run_playbook(
        "release.yml", "-e", "canary_image=yyc3/short-drama-frontend:1.2.0-slow"
    )
    assert code != 0
    ledger = rolled_back(cluster, output, 1, "latency_p99")
    failing = [m for m in events(ledger, "measurement") if m["verdict"] != "pass"]
    assert failing
    for measurement in failing:
        assert measurement["values"]["error_rate"][1] == "pass"
        assert measurement["values"]["latency_p99"][1] == "fail"
        assert measurement["values"]["latency_p99"][0] > 2.0


def test_a_fault_on_one_endpoint_is_caught_by_a_check_of_its_route(cluster, tmp_path):
    """2.5 % of script generations fail: 0.75 % of all requests, under the 1 % gate."""
    checks = [
        {"name": "error_rate", "type": "error_rate", "max": 0.01},
        {"name": "generate_errors", "type": "error_rate", "max": 0.01, "route": GENERATE},
    ]
    spec = merged(
        {"stages": [{"weight": 50, "replicas": 1, "bake": "20s"}], "analysis": {"checks": checks}}
    )
    code, output = run_playbook(
        "release.yml",
        "-e",
        spec_file(tmp_path, spec),
        "-e",
        "canary_image=yyc3/short-drama-frontend:1.2.0-generate-errors",
    )
    assert code != 0
    ledger = rolled_back(cluster, output, 1, "generate_errors")
    measured = events(ledger, "measurement")
    failing = [m for m in measured if m["verdict"] != "pass"]
    assert failing
    for measurement in failing:
        assert measurement["values"]["generate_errors"][1] == "fail"
    # Diluted over every route the fault stays under the gate.
    assert all(m["values"]["error_rate"][1] == "pass" for m in measured), measured


def test_rollback_with_nothing_released_says_so_and_changes_nothing_twice(cluster):
    before = snapshot(cluster)
    for _ in range(2):
        code, output = run_playbook("rollback.yml")
        assert code == 0, output
        assert "changed=0" in output
        assert "frontend: nothing to roll back, no release was ever started" in " ".join(
            output.split()
        ), output
        # Not kubernetes.core's word for it: a warning about a canary Deployment not found.
        assert not [line for line in output.splitlines() if "WARNING" in line and CANARY in line]
    assert snapshot(cluster) == before
    assert cluster.ledger()["status"] == ""
    assert cluster.weight() == 0
