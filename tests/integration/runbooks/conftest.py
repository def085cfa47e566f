"""Fixtures for the playbooks against the running sandbox.

The sandbox inventory points at the sandbox's default ports, so these tests use
the sandbox on those ports: an already running one (``make sandbox-up``) is
reused and left running, otherwise one is started for the session and stopped
at the end. Before each test the release objects are reset to the seed state.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from sandbox.product import PROJECT_ROOT
from sandbox.product import ledger as ledger_utils

API = "http://127.0.0.1:16443"
NAMESPACE = "yyc3-short-drama"
CANARY_NAMESPACE = "yyc3-short-drama-canary"
STABLE_IMAGE = "yyc3/short-drama-frontend:1.0.0"
HEALTHY_IMAGE = "yyc3/short-drama-frontend:1.1.0"
PLAYBOOK_TIMEOUT = 600


class Api:
    """Just enough of the Kubernetes REST API for assertions and resets."""

    def __init__(self, base):
        self.base = base
        self.session = requests.Session()

    def get(self, path, missing_ok=False):
        response = self.session.get(self.base + path, timeout=10)
        if missing_ok and response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def merge_patch(self, path, patch):
        response = self.session.patch(
            self.base + path,
            data=json.dumps(patch),
            headers={"Content-Type": "application/merge-patch+json"},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()

    def strategic_patch(self, path, patch):
        response = self.session.patch(
            self.base + path,
            data=json.dumps(patch),
            headers={"Content-Type": "application/strategic-merge-patch+json"},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()

    def delete(self, path):
        response = self.session.delete(self.base + path, timeout=10)
        if response.status_code != 404:
            response.raise_for_status()

    # -- release objects --------------------------------------------------------------
    def ledger(self):
        config_map = self.get(
            f"/api/v1/namespaces/{NAMESPACE}/configmaps/frontend-canary-ledger", missing_ok=True
        )
        return ledger_utils.parse(config_map, "frontend")

    def weight(self):
        config_map = self.get(f"/api/v1/namespaces/{NAMESPACE}/configmaps/traffic-config")
        return int(config_map["data"]["canary_percentage"])

    def deployment(self, namespace, name):
        return self.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}", missing_ok=True)

    def stable_image(self):
        deployment = self.deployment(NAMESPACE, "frontend-deployment")
        return deployment["spec"]["template"]["spec"]["containers"][0]["image"]

    def lease_holder(self):
        lease = self.get(
            f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases/frontend-canary-lock",
            missing_ok=True,
        )
        return ((lease or {}).get("spec") or {}).get("holderIdentity")

    def wait_for(self, what, check, timeout=120, interval=0.2):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")

    def stable_ready(self):
        deployment = self.deployment(NAMESPACE, "frontend-deployment")
        status = deployment.get("status", {})
        return (
            status.get("observedGeneration", 0) >= deployment["metadata"]["generation"]
            and status.get("updatedReplicas") == deployment["spec"]["replicas"]
            and status.get("readyReplicas") == deployment["spec"]["replicas"]
        )

    def reset(self):
        """Put the release objects back in the seed state and wait until it is live."""
        self.delete(f"/api/v1/namespaces/{NAMESPACE}/configmaps/frontend-canary-ledger")
        self.delete(
            f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases/frontend-canary-lock"
        )
        self.merge_patch(
            f"/api/v1/namespaces/{NAMESPACE}/configmaps/traffic-config",
            {"data": {"canary_percentage": "0"}},
        )
        self.delete(f"/api/v1/namespaces/{CANARY_NAMESPACE}")
        if self.stable_image() != STABLE_IMAGE:
            self.strategic_patch(
                f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/frontend-deployment",
                {
                    "spec": {
                        "template": {
                            "spec": {"containers": [{"name": "frontend", "image": STABLE_IMAGE}]}
                        }
                    }
                },
            )
        self.wait_for(
            "the canary namespace to go",
            lambda: self.get(f"/api/v1/namespaces/{CANARY_NAMESPACE}", missing_ok=True) is None,
        )
        self.wait_for("stable to be ready", self.stable_ready)


def _sandbox(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def sandbox():
    api = Api(API)
    try:
        requests.get(API + "/healthz", timeout=1).raise_for_status()
        started = False
    except requests.RequestException:
        result = _sandbox("up")
        assert result.returncode == 0, result.stdout + result.stderr
        started = True
    yield api
    if started:
        _sandbox("down")


@pytest.fixture
def cluster(sandbox):
    """The sandbox's API with the release objects in their seed state."""
    sandbox.reset()
    return sandbox


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


def run_playbook(name, *args, timeout=PLAYBOOK_TIMEOUT):
    """Run a playbook to its end; return (exit code, output)."""
    result = subprocess.run(
        playbook_command(name, *args),
        cwd=PROJECT_ROOT,
        env=playbook_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


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
