"""The canary_report role in real ansible-playbook runs, reading a ledger from an API server.

The ledger a recorded release left (``ledgers``) is stored as its ConfigMap in a
namespace of its own of the real Kubernetes API server (``real_api``). The role reads
it with canary_state, writes the report and publishes it with set_stats; the JSON
callback shows the artifact.
"""

import json
import os
import subprocess
import sys
import uuid

import pytest
import yaml
from ansible.module_utils.ledger import render as ledger_data

from tests.bad_specs import GOOD_SPEC
from tests.conftest import PROJECT_ROOT

from . import ledgers

pytestmark = pytest.mark.slow

PLAYBOOK = [
    {
        "name": "Report on the release",
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {"canary_spec_check_cluster": False},
        "roles": [{"role": "canary_spec"}],
        "tasks": [
            {"name": "Report", "ansible.builtin.include_role": {"name": "canary_report"}},
            {"name": "Show the path", "ansible.builtin.debug": {"var": "canary_report_path"}},
        ],
    }
]


@pytest.fixture(scope="module")
def namespace(real_api):
    """A namespace of its own in the real API server, holding the recorded ledger."""
    name = f"report-{uuid.uuid4().hex[:6]}"
    real_api.client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    spec, state = ledgers.rolled_back()
    real_api.client.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": spec["ledger"]["name"], "namespace": name},
            "data": ledger_data(state),
        }
    )
    return name


def run(real_api, namespace, tmp_path, *args, ledger_name=None):
    spec = dict(
        GOOD_SPEC,
        namespace=namespace,
        canary_namespace=f"{namespace}-canary",
        ledger={"name": ledger_name} if ledger_name else {},
    )
    (tmp_path / "playbook.yml").write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
    (tmp_path / "vars.yml").write_text(
        yaml.safe_dump({"canary": spec, "canary_report_dir": str(tmp_path / "reports")})
    )
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
    result = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            str(tmp_path / "playbook.yml"),
            "-i",
            str(tmp_path / "hosts.yml"),
            "-e",
            f"@{tmp_path / 'vars.yml'}",
            *args,
        ],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_SHOW_CUSTOM_STATS": "true",
            "K8S_AUTH_KUBECONFIG": str(real_api.kubeconfig),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def shown_path(output):
    """The canary_report_path fact as the last task showed it."""
    (task,) = [t for t in output["plays"][0]["tasks"] if t["task"]["name"] == "Show the path"]
    return task["hosts"]["localhost"]["canary_report_path"]


def test_the_role_writes_the_report_and_publishes_it(real_api, namespace, tmp_path):
    output = run(real_api, namespace, tmp_path)
    written = sorted(path.name for path in (tmp_path / "reports").iterdir())
    assert written == [
        "frontend-20250101T120000Z.html",
        "frontend-20250101T120000Z.json",
        "frontend-latest.html",
        "frontend-latest.json",
    ]
    report = json.loads((tmp_path / "reports" / "frontend-latest.json").read_text())
    assert report["outcome"] == "rolled_back" and report["stages"][1]["outcome"] == "failed"
    assert output["global_custom_stats"] == {"canary_report": {"frontend": report}}
    assert shown_path(output) == str(tmp_path / "reports" / "frontend-20250101T120000Z.json")


def test_check_mode_writes_nothing(real_api, namespace, tmp_path):
    output = run(real_api, namespace, tmp_path, "--check", "--diff")
    assert not (tmp_path / "reports").exists()
    published = output["global_custom_stats"]["canary_report"]["frontend"]
    assert published["outcome"] == "rolled_back"
    assert shown_path(output) is None


def test_nothing_is_written_without_a_release(real_api, namespace, tmp_path):
    output = run(real_api, namespace, tmp_path, ledger_name="never-released-canary-ledger")
    assert not (tmp_path / "reports").exists()
    assert "canary_report" not in output.get("global_custom_stats", {})
    assert shown_path(output) is None
