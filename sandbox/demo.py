"""``make demo``: two releases on the sandbox, one promoted and one rolled back.

Starts the sandbox, releases a healthy version (yyc3/short-drama-frontend:1.1.0)
through 5% -> 20% -> 50% -> 100% and finalizes it, then releases a version
whose build answers 3% of requests with errors (1.2.0-errors, see
sandbox/images.yaml) and expects the analysis to roll it back at the first
stage. Prints each stage with its measured values, tears the sandbox down,
and exits 0 only when both releases ended as expected.
"""

import os
import subprocess
import sys

from sandbox.product import PROJECT_ROOT, timeline
from sandbox.releases import HEALTHY_IMAGE, Release

FAULTY_IMAGE = "yyc3/short-drama-frontend:1.2.0-errors"


def banner(text):
    print(f"\n{'=' * 78}\n{text}\n{'=' * 78}", flush=True)


def playbook(name, *extra):
    command = [
        os.path.join(PROJECT_ROOT, ".venv", "bin", "ansible-playbook"),
        os.path.join(PROJECT_ROOT, "playbooks", name),
        *extra,
    ]
    env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(PROJECT_ROOT, "ansible.cfg")}
    return subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=False).returncode


def report(title, state):
    print(f"\n{title}: status {state['status']}, stage {state['stage']}, image {state['image']}")
    for line in timeline.stage_summary(state):
        print(f"  {line}")
    if state["reason"]:
        print(f"  reason: {state['reason']}")


def expect(results, label, condition, detail):
    results.append(condition)
    print(f"  [{'ok' if condition else 'FAILED'}] {label}: {detail}")


def run_demo():
    release = Release()
    results = []
    banner(f"Release 1: {HEALTHY_IMAGE} (healthy) through 5% -> 20% -> 50% -> 100%")
    code = playbook("release.yml", "-e", f"canary_image={HEALTHY_IMAGE}")
    state = release.ledger()
    report("Healthy release", state)
    expect(results, "release.yml succeeded", code == 0, f"exit code {code}")
    expect(results, "ledger says promoted", state["status"] == "promoted", state["status"])
    expect(
        results,
        "stable runs the new image",
        release.stable_image() == HEALTHY_IMAGE,
        release.stable_image(),
    )

    banner(f"Release 2: {FAULTY_IMAGE} (3% of requests fail): expect a rollback at 5%")
    code = playbook("release.yml", "-e", f"canary_image={FAULTY_IMAGE}")
    state = release.ledger()
    report("Faulty release", state)
    expect(results, "release.yml failed", code != 0, f"exit code {code}")
    expect(results, "ledger says rolled_back", state["status"] == "rolled_back", state["status"])
    expect(
        results, "rolled back at the first stage", state["stage"] == 1, f"stage {state['stage']}"
    )
    expect(results, "traffic back at 0%", release.weight() == 0, f"{release.weight()}%")
    expect(
        results,
        "stable still runs 1.1.0",
        release.stable_image() == HEALTHY_IMAGE,
        release.stable_image(),
    )
    return all(results)


def sandbox(command):
    return subprocess.run(
        [sys.executable, "-m", "sandbox", command], cwd=PROJECT_ROOT, check=False
    ).returncode


def main():
    banner("Starting the sandbox (control plane, node agent, router, Prometheus, load)")
    if sandbox("up") != 0:
        sandbox("down")
        return 1
    try:
        passed = run_demo()
    finally:
        banner("Stopping the sandbox")
        sandbox("down")
    banner(
        "Demo passed: the healthy version was promoted, the faulty one rolled back"
        if passed
        else "Demo FAILED: see the lines marked FAILED above"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
