"""The canary_window role in real ansible-playbook runs, with a fixed clock.

The gate runs before the ledger is touched: a blocked moment stops the run with nothing
written. An override lets it go on and, once the run holds the lock, is recorded in the
ledger with who gave it; a dry run records nothing. The ledger lives in a namespace of
its own of the real Kubernetes API server (``real_api``).
"""

import json
import os
import subprocess
import sys
import uuid

import pytest
import yaml
from ansible.module_utils.ledger import parse

from tests.bad_specs import merged
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow

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


class Ledger:
    """The release's namespace of its own in the real API server, and its ledger there."""

    def __init__(self, real_api):
        self.real_api = real_api
        self.namespace = f"windows-{uuid.uuid4().hex[:6]}"
        real_api.client.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}}
        )

    def read(self):
        config_map = self.real_api.client.get("ConfigMap", self.namespace, "frontend-canary-ledger")
        return parse(config_map, "frontend") if config_map else None


@pytest.fixture(scope="module")
def ledger(real_api):
    return Ledger(real_api)


def run(tmp_path, ledger, *args):
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
    spec = merged(
        {
            "namespace": ledger.namespace,
            "canary_namespace": f"{ledger.namespace}-canary",
            "windows": windows,
        }
    )
    (tmp_path / "spec.yml").write_text(yaml.safe_dump({"canary": spec}))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
        "ANSIBLE_LIBRARY": str(PROJECT_ROOT / "library"),
        "ANSIBLE_MODULE_UTILS": str(PROJECT_ROOT / "module_utils"),
        "ANSIBLE_ROLES_PATH": str(PROJECT_ROOT / "roles"),
        "ANSIBLE_FILTER_PLUGINS": str(PROJECT_ROOT / "filter_plugins"),
        "K8S_AUTH_KUBECONFIG": str(ledger.real_api.kubeconfig),
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


def test_a_blocked_moment_stops_the_run_before_the_ledger(tmp_path, ledger):
    before = ledger.read()
    result = run(tmp_path, ledger)
    assert result.returncode != 0
    assert (
        "Outside the release windows: Thursday 2026-10-01 10:00 Asia/Shanghai is on the "
        "holiday National Day (国庆节) 2026-10-01 to 2026-10-07"
    ) in result.stdout
    assert f"{HOLIDAYS}:20" in result.stdout
    assert "-e canary_window_override=" in result.stdout
    assert ledger.read() == before


def test_a_dry_run_with_an_override_records_nothing(tmp_path, ledger):
    before = ledger.read()
    result = run(tmp_path, ledger, "--check", "-e", override("a dry run"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Outside the release windows, going ahead" in result.stdout + result.stderr
    assert ledger.read() == before


def test_an_override_is_recorded_in_the_ledger_with_who_gave_it(tmp_path, ledger):
    result = run(
        tmp_path,
        ledger,
        "-e",
        override("fix for INC-1234"),
        "-e",
        "awx_user_name=alice",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    history = ledger.read()["history"]
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


def test_without_awx_the_override_is_the_controller_users(tmp_path, ledger):
    result = run(tmp_path, ledger, "-e", override("second hotfix"))
    assert result.returncode == 0, result.stdout + result.stderr
    (recorded,) = [e for e in ledger.read()["history"] if e.get("reason") == "second hotfix"]
    assert (recorded["event"], recorded["user"]) == ("window_override", "ops-on-the-controller")
