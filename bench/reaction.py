"""Rollback reaction: from the instant the canary's pods start failing to weight 0."""

import os
import tempfile
import time

from bench.common import playbook, row
from sandbox.releases import CANARY, CANARY_NAMESPACE, HEALTHY_IMAGE, wait_for

INTERVAL = 2.0
FAILURE_LIMIT = 2
TARGET_SECONDS = 1.25 * (INTERVAL * FAILURE_LIMIT) + 3
ERROR_RATIO = "0.5"
# Time for the patched canary pods to roll out before their fault begins.
LEAD_SECONDS = 4.0


def baking_stage_one(release):
    ledger = release.ledger()
    return ledger["stage"] == 1 and any(
        entry["event"] == "measurement" and entry["stage"] == 1 for entry in ledger["history"]
    )


def inject_fault(release, start_at):
    """Give the canary's container a fault that begins at ``start_at`` (unix time)."""
    env = [
        {"name": "FAULT_ERROR_RATIO", "value": ERROR_RATIO},
        {"name": "FAULT_START_AT", "value": f"{start_at:.3f}"},
    ]
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "frontend", "env": env}]}}}}
    release.api.strategic_merge_patch("Deployment", CANARY_NAMESPACE, CANARY, patch)


def one_run(release, log):
    release.reset()
    release = playbook(
        "release.yml",
        *("-e", f"canary_image={HEALTHY_IMAGE}", "-e", "canary_sandbox_bake=120s"),
        background=True,
        log=log,
    )
    try:
        wait_for("the first measurement of stage 1", lambda: baking_stage_one(release))
        fault_at = time.time() + LEAD_SECONDS
        inject_fault(release, fault_at)
        wait_for("weight 0", lambda: release.weight() == 0, timeout=120, interval=0.02)
        reacted = time.time()
        release.wait(timeout=300)
    finally:
        if release.poll() is None:
            release.kill()
            release.wait()
    return reacted - fault_at


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
                seconds = one_run(sandbox.release, log)
            times.append(round(seconds, 2))
            row(
                f"run {index + 1}: fault start -> weight 0",
                f"{seconds:.2f} s",
                f"<= {TARGET_SECONDS:g} s",
                seconds <= TARGET_SECONDS,
            )
    worst = max(times)
    row("worst", f"{worst:.2f} s", f"<= {TARGET_SECONDS:g} s", worst <= TARGET_SECONDS)
    return {
        "seconds": times,
        "target_seconds": TARGET_SECONDS,
        "error_ratio": float(ERROR_RATIO),
        "interval": INTERVAL,
        "failure_limit": FAILURE_LIMIT,
    }
