"""Fixtures for the playbooks against the running sandbox.

The sandbox inventory points at the sandbox of the session (``sandbox``, in
tests/integration/conftest.py): an already running one (``make sandbox-up``) is
reused and left running, otherwise one is started for the session and stopped at
the end. Before each test the release objects are reset to the seed state.
"""

import json
import os
import signal
import subprocess

import pytest

from sandbox.product import PROJECT_ROOT
from tests.receiver import Receiver

PLAYBOOK_TIMEOUT = 600


@pytest.fixture
def cluster(sandbox):
    """The sandbox's release objects, in their seed state."""
    sandbox.reset()
    return sandbox


@pytest.fixture
def receiver():
    """A local HTTP receiver standing in for Slack, a webhook or Alertmanager."""
    with Receiver() as running:
        yield running


def playbook_command(name, *args):
    return [
        os.path.join(PROJECT_ROOT, ".venv", "bin", "ansible-playbook"),
        os.path.join(PROJECT_ROOT, "playbooks", name),
        *args,
    ]


def playbook_env():
    return {
        **os.environ,
        "ANSIBLE_CONFIG": os.path.join(PROJECT_ROOT, "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    }


def run_playbook(name, *args, timeout=PLAYBOOK_TIMEOUT, env=None):
    """Run a playbook to its end; return (exit code, output)."""
    result = subprocess.run(
        playbook_command(name, *args),
        cwd=PROJECT_ROOT,
        env={**playbook_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def run_playbook_with_stats(name, *args):
    """Run a playbook; return (exit code, output, its set_stats data).

    The default callback prints the custom stats on one line, as JSON with this result
    format (its YAML format loses the line breaks that YAML needs).
    """
    env = {"ANSIBLE_SHOW_CUSTOM_STATS": "1", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}
    code, output = run_playbook(name, *args, env=env)
    lines = [line for line in output.splitlines() if line.strip().startswith("RUN:")]
    stats = json.loads(lines[-1].split("RUN:", 1)[1]) if lines else None
    return code, output, stats


class BackgroundPlaybook:
    """A playbook run in the background, in its own process group."""

    def __init__(self, name, *args, log_path):
        self.log_path = log_path
        self.log = open(log_path, "w")  # noqa: SIM115 - closed in wait()
        self.process = subprocess.Popen(
            playbook_command(name, *args),
            cwd=PROJECT_ROOT,
            env=playbook_env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def interrupt(self):
        """Stop the run like a killed terminal: the whole process group, at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        return self.wait()

    def wait(self, timeout=PLAYBOOK_TIMEOUT):
        try:
            code = self.process.wait(timeout=timeout)
        finally:
            self.log.close()
        with open(self.log_path) as handle:
            return code, handle.read()


@pytest.fixture
def background(tmp_path):
    runs = []

    def start(name, *args):
        run = BackgroundPlaybook(name, *args, log_path=tmp_path / f"run-{len(runs)}.log")
        runs.append(run)
        return run

    yield start
    for run in runs:
        if run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGKILL)
            run.wait()
