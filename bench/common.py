"""What the benchmarks share: the sandbox, the API, playbook runs."""

import glob
import os
import subprocess
import sys
from datetime import datetime

from sandbox import state
from sandbox.product import PROJECT_ROOT
from sandbox.releases import Release

RESULTS_DIR = os.path.join(PROJECT_ROOT, "bench", "results")
# The last figures measured on the stand-in API server the sandbox ran on before the real
# control plane (stop 8's `make bench`, same specs and bakes), printed beside today's.
STAND_IN = {
    "stage_overhead_seconds": [2.89, 2.55, 3.55, 2.44],
    "rollback_reaction_seconds": [4.09, 3.77, 3.99],
}


def spread(values):
    """``median (min-max), n=N`` of a list of seconds."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return f"median {median:.2f} s ({ordered[0]:.2f}-{ordered[-1]:.2f}), n={len(ordered)}"


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Sandbox:
    """The sandbox (its ports and state dir as ``sandbox up`` takes them): reused when
    running, else started and stopped."""

    def __init__(self):
        self.release = Release()
        self.started = False

    def __enter__(self):
        if not self.release.answers():
            subprocess.run([sys.executable, "-m", "sandbox", "up"], cwd=PROJECT_ROOT, check=True)
            self.started = True
        return self

    def __exit__(self, *exc):
        if self.started:
            subprocess.run([sys.executable, "-m", "sandbox", "down"], cwd=PROJECT_ROOT, check=False)

    def pids(self):
        """Every sandbox process: the components and the app replicas."""
        pids = []
        pattern = os.path.join(state.state_dir(), "pids", "**", "*.pid")
        for path in glob.glob(pattern, recursive=True):
            try:
                with open(path) as handle:
                    pids.append(int(handle.read().strip()))
            except (OSError, ValueError):
                continue
        return pids


def playbook(name, *args, background=False, log=None):
    command = [
        os.path.join(PROJECT_ROOT, ".venv", "bin", "ansible-playbook"),
        os.path.join(PROJECT_ROOT, "playbooks", name),
        *args,
    ]
    env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(PROJECT_ROOT, "ansible.cfg")}
    output = log or subprocess.DEVNULL
    if background:
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=output)
    return subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=output, check=False
    )


def row(label, value, target=None, ok=None):
    verdict = "" if ok is None else ("  [within target]" if ok else "  [OVER target]")
    target_text = f"  (target {target})" if target else ""
    print(f"  {label:<44} {value}{target_text}{verdict}", flush=True)
