"""The canary_notify role in a real ansible-playbook run at -vvv: no secret in any output.

No cluster is needed: the spec is validated with check_cluster off, then the role
notifies local receivers. The secrets travel from the ``canary`` variable through the
``canary_secrets`` filter into the module's no_log argument, as in the runbooks.
"""

import os
import subprocess
import sys

import pytest
import yaml

from tests.bad_specs import merged
from tests.conftest import PROJECT_ROOT
from tests.receiver import Receiver, closed_port_url

SECRET_PATH = "/services/T000/B000/SECRET-slack-token"
SECRET_HEADER = "Bearer SECRET-header-token"
PLAYBOOK = [
    {
        "name": "Notify a rollback",
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {"canary_spec_check_cluster": False},
        "roles": [{"role": "canary_spec"}],
        "tasks": [
            {
                "name": "Notify",
                "ansible.builtin.include_role": {"name": "canary_notify"},
                "vars": {
                    "canary_notify_event": "rolled_back",
                    "canary_notify_stage": 2,
                    "canary_notify_reason": "error_rate = 0.031 > max 0.01",
                },
            },
            {
                "name": "Notify what no channel wants",
                "ansible.builtin.include_role": {"name": "canary_notify"},
                # No stage: the role's default (null) passes its argument spec.
                "vars": {"canary_notify_event": "stage_started"},
            },
        ],
    }
]

pytestmark = pytest.mark.slow


def run(tmp_path, section, *args):
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
    (tmp_path / "spec.yml").write_text(
        yaml.safe_dump({"canary": merged({"notifications": section})})
    )
    result = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            str(tmp_path / "playbook.yml"),
            "-i",
            str(tmp_path / "hosts.yml"),
            "-e",
            f"@{tmp_path / 'spec.yml'}",
            "-vvv",
            *args,
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def test_role_notifies_warns_on_a_receiver_down_and_never_shows_a_secret(tmp_path):
    with Receiver() as receiver:
        section = {
            "events": ["rolled_back", "promoted"],
            "slack": {"url": closed_port_url() + SECRET_PATH},
            "webhook": {
                "url": receiver.url + "/hook?key=SECRET-key",
                "headers": {"Authorization": SECRET_HEADER},
            },
            "alertmanager": {"url": receiver.url},
        }
        code, output = run(tmp_path, section)
    assert code == 0, output
    assert "SECRET" not in output
    assert "The slack notification of rolled_back was not delivered: connection refused" in output
    assert [r["path"] for r in receiver.received] == ["/hook?key=SECRET-key", "/api/v2/alerts"]
    assert receiver.received[0]["headers"]["Authorization"] == SECRET_HEADER
    assert receiver.events() == ["rolled_back", "CanaryRolledBack"]
    assert "Notify stage_started" in output and "skipping" in output


def test_role_in_check_mode_sends_nothing(tmp_path):
    with Receiver() as receiver:
        section = {"slack": {"url": receiver.url + SECRET_PATH}}
        code, output = run(tmp_path, section, "--check")
    assert code == 0, output
    assert receiver.received == []
    assert "text: '[frontend] rolled_back: yyc3/short-drama-frontend:1.1.0 rolled back" in output
    assert "SECRET" not in output
