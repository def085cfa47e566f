"""The canary_monitoring role through ansible-playbook, on the controller alone.

The sandbox inventory's spec is checked without a cluster (canary_spec_check_cluster
false), the role writes and checks its files in a temporary directory, and its
``apply`` entry point applies the PrometheusRule to the real API server alone
(``real_api``: prometheus-operator's CRD, no controllers, no Prometheus), as the
sandbox inventory asks it to.
"""

import json
import os
import subprocess
import sys

import pytest
import yaml

from sandbox import kubeapi
from tests.monitoring_settings import PROJECT_ROOT

pytestmark = [pytest.mark.slow]

# The sandbox inventory's namespace: the PrometheusRule goes there.
NAMESPACE = "yyc3-short-drama"
RULE = "frontend-canary-alerts"

PLAYBOOK = """\
- name: Write, check and apply the monitoring of each service
  hosts: canary_services
  gather_facts: false
  roles:
    - role: canary_spec
      vars:
        canary_spec_check_cluster: false
    - role: canary_monitoring
  tasks:
    - name: Apply the PrometheusRule
      ansible.builtin.include_role:
        name: canary_monitoring
        tasks_from: apply
"""


@pytest.fixture(scope="module")
def apiserver(real_api):
    """The session's API server with the inventory's namespace (kept if there already)."""
    try:
        real_api.client.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
        )
    except kubeapi.ApiError as error:
        if error.status != 409:
            raise
    return real_api


@pytest.fixture
def play(tmp_path, apiserver):
    playbook = tmp_path / "monitoring.yml"
    playbook.write_text(PLAYBOOK)
    scratch = tmp_path / "tmp"
    scratch.mkdir()

    def run(*args):
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            "K8S_AUTH_KUBECONFIG": str(apiserver.kubeconfig),
            "TMPDIR": str(scratch),
        }
        result = subprocess.run(
            [
                os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                "-i",
                str(PROJECT_ROOT / "inventories" / "sandbox"),
                str(playbook),
                "-e",
                json.dumps({"canary_monitoring_dir": str(tmp_path / "out"), "canary_image": "x:1"}),
                *args,
            ],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return result.returncode, result.stdout + result.stderr

    run.out = tmp_path / "out"
    run.scratch = scratch
    return run


def scratch_copies(play):
    return [p for p in play.scratch.iterdir() if p.name.endswith(".canary-monitoring")]


def recap(output):
    line = next(line for line in output.splitlines() if line.startswith("frontend.sandbox "))
    return dict(part.split("=") for part in line.split(":", 1)[1].split())


def prometheus_rule(apiserver):
    return apiserver.client.get("PrometheusRule", NAMESPACE, RULE)


def test_writes_checks_applies_then_changes_nothing(play, apiserver):
    apiserver.client.delete("PrometheusRule", NAMESPACE, RULE)
    code, output = play()
    assert code == 0, output
    assert recap(output)["changed"] == "2"  # the files, the PrometheusRule
    assert "Check the alert rules with promtool" in output
    assert "Check the Alertmanager configuration with amtool" in output
    assert "Check the dashboard against its schema" in output
    names = sorted(p.name for p in play.out.iterdir())
    assert names == ["alertmanager.yml", "dashboard.json", "prometheusrule.yml", "rules.yml"]

    applied = prometheus_rule(apiserver)
    written = yaml.safe_load((play.out / "prometheusrule.yml").read_text())
    assert applied["spec"] == written["spec"]
    # Ansible passed the alert templates through untouched.
    summary = applied["spec"]["groups"][0]["rules"][0]["annotations"]["summary"]
    assert summary == "frontend{{ with $labels.track }} ({{ . }}){{ end }}: error rate above 1%"

    code, output = play()
    assert code == 0, output
    assert recap(output)["changed"] == "0"


def test_check_mode_writes_nothing_and_checks_a_scratch_copy(play, apiserver):
    code, output = play("--check", "--diff")
    assert code == 0, output
    assert not play.out.exists()
    assert "Check the alert rules with promtool" in output
    assert scratch_copies(play) == []  # the scratch copy is gone
    assert "+groups:" in output  # the diff of rules.yml


def test_promtool_stops_the_run_on_a_bad_query(play):
    code, output = play("-e", "canary_monitoring_query_disk='max(node_filesystem_avail_bytes'")
    assert code != 0
    assert "Check the alert rules with promtool" in output
    assert "unclosed left parenthesis" in output
    assert scratch_copies(play) == []


def test_a_bad_tier_names_the_field(play):
    tiers = {"critical": {"thresholds": {"error_ratio": 0.01}}}
    code, output = play("-e", json.dumps({"canary_monitoring_tiers": tiers}))
    assert code != 0
    assert "tiers.critical.thresholds.error_ratio: unknown signal" in output
