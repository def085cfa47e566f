"""The lock, an interrupted release, and a monitoring outage in the middle of a bake."""

import os
import signal

import pytest

from sandbox import state
from sandbox.releases import HEALTHY_IMAGE, SEED_IMAGE, wait_for

from .conftest import run_playbook

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def wait_for_stage(cluster, stage, status="baking"):
    def reached():
        ledger = cluster.ledger()
        return ledger["stage"] == stage and ledger["stage_status"] == status

    wait_for(f"stage {stage} to be {status}", reached)


def test_second_release_is_refused_while_the_first_holds_the_lock(cluster, background):
    # The lock is held for the whole run: short stages are enough.
    first = background(
        "release.yml", "-e", f"canary_image={HEALTHY_IMAGE}", "-e", "canary_sandbox_bake=4s"
    )
    wait_for_stage(cluster, 1)
    holder = cluster.lock_holder()
    assert holder

    code, output = run_playbook("release.yml", "-e", "canary_image=yyc3/short-drama-frontend:9.9.9")
    assert code != 0
    assert "another release holds the lock" in output
    assert holder in output
    assert "rolled back" not in output  # the refused run must not touch the first one

    code, output = first.wait()
    assert code == 0, output
    ledger = cluster.ledger()
    assert ledger["status"] == "promoted" and ledger["image"] == HEALTHY_IMAGE


def test_interrupted_release_resumes_from_the_ledger(cluster, background):
    run = background("release.yml", "-e", f"canary_image={HEALTHY_IMAGE}")
    wait_for_stage(cluster, 2)
    wait_for("the 20% weight", lambda: cluster.weight() == 20)
    run.interrupt()
    assert cluster.ledger()["status"] == "progressing"
    assert cluster.weight() == 20

    code, output = run_playbook("release.yml")  # no image: the ledger knows it
    assert code == 0, output
    ledger = cluster.ledger()
    assert ledger["status"] == "promoted"
    started = [e["stage"] for e in ledger["history"] if e["event"] == "stage_started"]
    resumed = [e["stage"] for e in ledger["history"] if e["event"] == "stage_resumed"]
    assert started == [1, 2, 3, 4] and resumed == [2]
    assert any(e["event"] == "resumed" and "took_over_lock_from" in e for e in ledger["history"])
    assert cluster.stable_image() == HEALTHY_IMAGE


def prometheus_pid():
    with open(os.path.join(state.state_dir(), "pids", "prometheus.pid")) as handle:
        return int(handle.read().strip())


def test_monitoring_outage_mid_bake_rolls_back(cluster, background):
    run = background("release.yml", "-e", f"canary_image={HEALTHY_IMAGE}")
    wait_for_stage(cluster, 1)
    pid = prometheus_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        code, output = run.wait()
    finally:
        os.kill(pid, signal.SIGCONT)
    assert code != 0
    ledger = cluster.ledger()
    assert ledger["status"] == "rolled_back", output
    failing = [
        m for m in ledger["history"] if m["event"] == "measurement" and m["verdict"] != "pass"
    ]
    assert len(failing) == 2
    assert all(value[1] == "error" for m in failing for value in m["values"].values())
    assert cluster.weight() == 0
    assert cluster.stable_image() == SEED_IMAGE
