"""Rollback reaction: from the instant the canary's pods start failing to weight 0."""

import os
import tempfile
import time

from bench.common import STAND_IN, parse_time, playbook, row, spread
from sandbox.releases import CANARY, CANARY_NAMESPACE, HEALTHY_IMAGE, wait_for

INTERVAL = 2.0
FAILURE_LIMIT = 2
TARGET_SECONDS = 1.25 * (INTERVAL * FAILURE_LIMIT) + 3
ERROR_RATIO = "0.5"
# The sandbox spec's analysis window: the first measurement must not see the requests and
# the failed scrapes of the canary pods the armed ones replace.
WINDOW_SECONDS = 10.0
# From arming the fault to its start: the armed pods roll out, the replaced ones stop and
# leave the window, then stage 1 scales, validates, takes 5% and starts its bake, all
# before the fault begins.
FAULT_DELAY_SECONDS = 35.0


def arm_fault(release, fault=None):
    """Arm the prepared canary with ``fault``, due FAULT_DELAY_SECONDS from now; return when.

    Returns once the armed pods alone serve and the replaced ones have left the analysis
    window, so that nothing but the fault changes during the bake it is measured in.
    """
    fault_at = time.time() + FAULT_DELAY_SECONDS
    inject_fault(release, fault_at, fault)
    wait_for("the armed canary to roll out", lambda: canary_rolled_out(release))
    time.sleep(WINDOW_SECONDS)
    return fault_at


def inject_fault(release, start_at, fault=None):
    """Give the canary's container a fault (FAULT_* env) that begins at ``start_at``."""
    fault = fault or {"FAULT_ERROR_RATIO": ERROR_RATIO}
    env = [{"name": name, "value": value} for name, value in fault.items()]
    env.append({"name": "FAULT_START_AT", "value": f"{start_at:.3f}"})
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "frontend", "env": env}]}}}}
    release.api.strategic_merge_patch("Deployment", CANARY_NAMESPACE, CANARY, patch)


def canary_rolled_out(release):
    """The armed pods ready, and the ones they replaced gone (not only terminating)."""
    deployment = release.canary()
    status = deployment.get("status", {})
    pods = release.api.list("Pod", CANARY_NAMESPACE, label_selector="track=canary")
    return (
        status.get("observedGeneration", 0) >= deployment["metadata"]["generation"]
        and status.get("updatedReplicas") == status.get("readyReplicas") == status.get("replicas")
        and len(pods) == status.get("replicas")
    )


def one_run(release, log):
    """prepare, arm the canary's fault, promote stage 1 and time the rollback."""
    release.reset()
    if playbook("prepare.yml", "-e", f"canary_image={HEALTHY_IMAGE}", log=log).returncode:
        raise RuntimeError("prepare.yml failed")
    fault_at = arm_fault(release)
    run = playbook("promote.yml", "-e", "canary_sandbox_bake=120s", background=True, log=log)
    try:
        wait_for("stage 1 to take its 5%", lambda: release.weight() == 5 or run.poll() is not None)
        wait_for(
            "weight 0",
            lambda: release.weight() == 0 or run.poll() is not None,
            timeout=180,
            interval=0.02,
        )
        reacted = time.time()
        run.wait(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    ledger = release.ledger()
    failing = [
        entry
        for entry in ledger["history"]
        if entry["event"] == "measurement" and entry["verdict"] != "pass"
    ]
    valid = (
        ledger["status"] == "rolled_back"
        and "error_rate" in ledger["reason"]
        and all(parse_time(entry["at"]) >= fault_at for entry in failing)
    )
    return reacted - fault_at, valid, ledger["reason"]


def measure(sandbox, runs):
    print(
        f"\nRollback reaction ({float(ERROR_RATIO):.0%} errors from a set instant at 5%, "
        f"interval {INTERVAL:g} s, failure_limit {FAILURE_LIMIT})",
        flush=True,
    )
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(runs):
            with open(os.path.join(tmp, f"run-{index}.log"), "w") as log:
                seconds, valid, reason = one_run(sandbox.release, log)
            if not valid:
                row(f"run {index + 1}", f"not counted, ended before the fault: {reason}")
                continue
            times.append(round(seconds, 2))
            row(
                f"run {index + 1}: fault start -> weight 0",
                f"{seconds:.2f} s",
                f"<= {TARGET_SECONDS:g} s",
                seconds <= TARGET_SECONDS,
            )
    if not times:
        raise RuntimeError("no run was rolled back by the injected fault")
    worst = max(times)
    row("worst", f"{worst:.2f} s", f"<= {TARGET_SECONDS:g} s", worst <= TARGET_SECONDS)
    row("real control plane", spread(times))
    row("stand-in API server (before)", spread(STAND_IN["rollback_reaction_seconds"]))
    return {
        "seconds": times,
        "target_seconds": TARGET_SECONDS,
        "error_ratio": float(ERROR_RATIO),
        "interval": INTERVAL,
        "failure_limit": FAILURE_LIMIT,
    }
