"""Time from a fault to the verdict of each severity, live in the sandbox.

For each tier a healthy canary is prepared, armed with a fault that begins at a set
instant during the 5 % bake, and baked; the ledger says when the first measurement
judged the tier's check, and what the stage became:

- critical: 50 % errors; the stage fails (failure_limit 2) and is rolled back.
- important: one request in twenty takes 1.7 s (p99 about 1.9 s); promotion is held.
- general: one request in twenty takes 1.2 s (p99 about 1.4 s); recorded, the stage passes.
"""

import os
import tempfile

from bench.common import parse_time, playbook, row
from bench.reaction import arm_fault
from sandbox.releases import HEALTHY_IMAGE

TIERS = {
    "critical": ("error_rate", {"FAULT_ERROR_RATIO": "0.5"}),
    "important": (
        "latency_p99_important",
        {"FAULT_LATENCY_SECONDS": "1.7", "FAULT_LATENCY_RATIO": "0.05"},
    ),
    "general": (
        "latency_p99_general",
        {"FAULT_LATENCY_SECONDS": "1.2", "FAULT_LATENCY_RATIO": "0.05"},
    ),
}
BAKE = "40s"


def one_run(release, check, fault, log):
    release.reset()
    if playbook("prepare.yml", "-e", f"canary_image={HEALTHY_IMAGE}", log=log).returncode:
        raise RuntimeError("prepare.yml failed")
    fault_at = arm_fault(release, fault)
    playbook("promote.yml", "-e", f"canary_sandbox_bake={BAKE}", log=log)
    ledger = release.ledger()
    judged = [
        entry
        for entry in ledger["history"]
        if entry["event"] == "measurement"
        and parse_time(entry["at"]) >= fault_at
        and entry["values"].get(check, [None, "pass"])[1] != "pass"
    ]
    first = parse_time(judged[0]["at"]) - fault_at if judged else None
    ended = [e for e in ledger["history"] if e["event"].startswith("stage_") and e["stage"] == 1]
    outcome = ended[-1]["event"] if ended else "?"
    ended_after = parse_time(ended[-1]["at"]) - fault_at if ended else None
    release.reset()
    return first, outcome, ended_after, ledger["status"]


def measure(sandbox):
    print(f"\nFault to verdict per severity (fault during a {BAKE} bake at 5%)", flush=True)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for tier, (check, fault) in TIERS.items():
            with open(os.path.join(tmp, f"{tier}.log"), "w") as log:
                first, outcome, ended_after, status = one_run(sandbox.release, check, fault, log)
            results[tier] = {
                "check": check,
                "first_judged_seconds": None if first is None else round(first, 2),
                "stage_outcome": outcome,
                "stage_ended_seconds": None if ended_after is None else round(ended_after, 2),
                "release_status": status,
            }
            first_text = "never" if first is None else f"{first:.2f} s"
            ended_text = "" if ended_after is None else f" after {ended_after:.2f} s"
            row(f"{tier}: {check} first judged", first_text)
            row(f"{tier}: stage", f"{outcome}{ended_text}, release {status}")
    return results
