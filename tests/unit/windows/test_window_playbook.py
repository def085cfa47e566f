"""The canary_window role in real ansible-playbook runs, with a fixed clock.

The gate runs before the ledger is touched: a blocked moment stops the run with nothing
written. An override lets it go on and, once the run holds the lock, is recorded in the
ledger with who gave it; a dry run records nothing. The ledger lives in the sandbox's
Kubernetes API server, started alone on a free port of 127.0.0.1 and stopped by PID.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import yaml
from ansible.module_utils.ledger import parse

from tests.bad_specs import merged
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow

NAMESPACE = "yyc3-short-drama"
HOLIDAYS = "calendars/cn-2026.yml"
NATIONAL_DAY = "2026-10-01T10:00:00+08:00"
PLAYBOOK = [
    {
        "name": "Gate a release by its windows",
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {"canary_spec_check_cluster": False, "canary_window_now": NATIONAL_DAY},
        "roles": [{"role": "canary_spec"}, {"role": "canary_window"}],
        "tasks": [
            {
                "name": "Take the lock and start the ledger",
                "canary_state": {
                    "release": "{{ canary_release }}",
                    "action": "start",
                    "allow_new_release": True,
                },
                "register": "canary_ledger",
            },
            {
                "name": "Record a used override",
                "ansible.builtin.include_role": {"name": "canary_window", "tasks_from": "record"},
            },
        ],
    }
]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ApiServer:
    """The sandbox's API server alone, on a free port of 127.0.0.1."""

    def __init__(self, workdir):
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox.apiserver", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT,
        )
        self.kubeconfig = workdir / "kubeconfig"
        self.kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "api", "cluster": {"server": self.url}}],
                    "users": [{"name": "api", "user": {"token": "ignored"}}],
                    "contexts": [{"name": "api", "context": {"cluster": "api", "user": "api"}}],
                    "current-context": "api",
                }
            )
        )
        deadline = time.monotonic() + 10
        while self.get("/readyz") is None:
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the API server did not become ready")
            time.sleep(0.05)

    def get(self, path):
        """The decoded answer to a GET, or None when there is none (or a 404)."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                body = response.read()
        except (urllib.error.URLError, ConnectionError):
            return None
        return body if path == "/readyz" else json.loads(body)

    def create_namespace(self, name):
        request = urllib.request.Request(
            f"{self.url}/api/v1/namespaces",
            data=json.dumps(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
            ).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5):
            pass

    def ledger(self):
        config_map = self.get(f"/api/v1/namespaces/{NAMESPACE}/configmaps/frontend-canary-ledger")
        return parse(config_map, "frontend") if config_map else None

    def stop(self):
        os.kill(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    server = ApiServer(tmp_path_factory.mktemp("apiserver"))
    server.create_namespace(NAMESPACE)
    yield server
    server.stop()


def run(tmp_path, api, *args):
    (tmp_path / "playbook.yml").write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
    (tmp_path / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {
                        "localhost": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": sys.executable,
                        }
                    }
                }
            }
        )
    )
    windows = {
        "timezone": "Asia/Shanghai",
        "allow": [{"start": "22:00", "end": "06:00"}],
        "deny": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}],
        # Relative: the role finds it in the project, wherever the playbook is.
        "holidays_file": HOLIDAYS,
    }
    (tmp_path / "spec.yml").write_text(yaml.safe_dump({"canary": merged({"windows": windows})}))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
        "ANSIBLE_LIBRARY": str(PROJECT_ROOT / "library"),
        "ANSIBLE_MODULE_UTILS": str(PROJECT_ROOT / "module_utils"),
        "ANSIBLE_ROLES_PATH": str(PROJECT_ROOT / "roles"),
        "ANSIBLE_FILTER_PLUGINS": str(PROJECT_ROOT / "filter_plugins"),
        "K8S_AUTH_KUBECONFIG": str(api.kubeconfig),
        "USER": "ops-on-the-controller",
    }
    return subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            str(tmp_path / "playbook.yml"),
            "-i",
            str(tmp_path / "hosts.yml"),
            "-e",
            f"@{tmp_path / 'spec.yml'}",
            *args,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def override(reason):
    """The extra var as an operator gives it, reason with spaces and all."""
    return json.dumps({"canary_window_override": reason})


def test_a_blocked_moment_stops_the_run_before_the_ledger(tmp_path, api):
    before = api.ledger()
    result = run(tmp_path, api)
    assert result.returncode != 0
    assert (
        "Outside the release windows: Thursday 2026-10-01 10:00 Asia/Shanghai is on the "
        "holiday National Day (国庆节) 2026-10-01 to 2026-10-07"
    ) in result.stdout
    assert f"{HOLIDAYS}:20" in result.stdout
    assert "-e canary_window_override=" in result.stdout
    assert api.ledger() == before


def test_a_dry_run_with_an_override_records_nothing(tmp_path, api):
    before = api.ledger()
    result = run(tmp_path, api, "--check", "-e", override("a dry run"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Outside the release windows, going ahead" in result.stdout + result.stderr
    assert api.ledger() == before


def test_an_override_is_recorded_in_the_ledger_with_who_gave_it(tmp_path, api):
    result = run(
        tmp_path,
        api,
        "-e",
        override("fix for INC-1234"),
        "-e",
        "awx_user_name=alice",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    history = api.ledger()["history"]
    (recorded,) = [e for e in history if e.get("reason") == "fix for INC-1234"]
    assert recorded["event"] == "window_override"
    assert recorded["reason"] == "fix for INC-1234"
    assert recorded["user"] == "alice"
    assert recorded["rule"] == "National Day (国庆节) 2026-10-01 to 2026-10-07"
    assert recorded["rule_field"].endswith(f"{HOLIDAYS}:20")
    assert recorded["checked_time"] == NATIONAL_DAY
    assert recorded["next_allowed"] == "2026-10-08T00:00:00+08:00"
    # Recorded after the release started, under this run's lock.
    assert [entry["event"] for entry in history][-1] == "window_override"


def test_without_awx_the_override_is_the_controller_users(tmp_path, api):
    result = run(tmp_path, api, "-e", override("second hotfix"))
    assert result.returncode == 0, result.stdout + result.stderr
    (recorded,) = [e for e in api.ledger()["history"] if e.get("reason") == "second hotfix"]
    assert (recorded["event"], recorded["user"]) == ("window_override", "ops-on-the-controller")
