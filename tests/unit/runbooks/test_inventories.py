"""Both example inventories hold specs that validate, as a user would run them.

The production example (inventories/yyc3-short-drama) cannot reach its cluster here, so
its spec is validated without the cluster checks; its secrets come from the environment
as they would in AWX. The !unsafe PromQL template must reach the analysis unrendered.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow

PLAYBOOK = """
- hosts: canary_services
  gather_facts: false
  vars:
    canary_spec_check_cluster: false
  roles:
    - role: canary_spec
  tasks:
    - name: Show the completed spec
      ansible.builtin.debug:
        var: canary_release
"""


def completed_spec(tmp_path, inventory):
    playbook = tmp_path / "spec.yml"
    playbook.write_text(PLAYBOOK)
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": os.path.join(PROJECT_ROOT, "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": os.path.join(PROJECT_ROOT, "roles"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "CANARY_TEST_PASSWORD": "SECRET-password",
        "CANARY_SLACK_WEBHOOK_URL": "https://hooks.example.invalid/SECRET-slack",
    }
    bin_dir = os.path.dirname(sys.executable)
    run = subprocess.run(
        [os.path.join(bin_dir, "ansible-playbook"), "-i", inventory, str(playbook)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SECRET" not in run.stdout + run.stderr
    tasks = json.loads(run.stdout)["plays"][0]["tasks"]
    (host,) = tasks[-1]["hosts"].values()
    return host["canary_release"]


def test_the_production_example_validates_with_the_plans_tiers(tmp_path):
    spec = completed_spec(tmp_path, "inventories/yyc3-short-drama")
    analysis = spec["analysis"]
    severities = {check["name"]: check["severity"] for check in analysis["checks"]}
    assert severities["error_rate"] == severities["database_connection_failures"] == "critical"
    assert severities["latency_p99_important"] == "important"
    assert severities["latency_p99_general"] == "general"
    query = {c["name"]: c["query"] for c in analysis["checks"]}["database_connection_failures"]
    assert "{{ canary_namespace }}" in query and "[{{ window }}]" in query
    assert (analysis["no_data"], analysis["min_requests"]) == ("hold", 100)
    assert analysis["baseline"]["selector"] == 'namespace="yyc3-short-drama",track="stable"'
    assert analysis["baseline"]["step_seconds"] == 60
    journey = spec["validation"]["journeys"][0]
    assert [step["name"] for step in journey["steps"]] == ["login", "generate", "content"]
    # Bodies and headers are secret fields: not in the fact.
    assert all("body" not in step and "headers" not in step for step in journey["steps"])
    assert spec["validation"]["load"]["requests"] == 1000
    assert spec["validation"]["security"]["tls"]["min_version"] == "TLSv1.2"


def test_the_sandbox_inventory_validates(tmp_path):
    spec = completed_spec(tmp_path, "inventories/sandbox")
    assert [c["severity"] for c in spec["analysis"]["checks"]].count("important") == 2
