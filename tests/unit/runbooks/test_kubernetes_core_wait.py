"""What canary_prepare relies on kubernetes.core for when a rollout never gets ready.

canary_prepare's rescue tells a canary that did not become ready from other failures by
kubernetes.core's message when ``wait`` runs out (``Timed out waiting``). Against the real
API server alone (``real_api``: no controllers), a Deployment never gets a ready
replica, so the wait runs out as it does for a canary that never becomes ready.
"""

import json
import os
import subprocess
import sys
import uuid

import pytest
import yaml

from tests.conftest import PROJECT_ROOT
from tests.unit.traffic.release import stable_deployment

pytestmark = pytest.mark.slow


def test_a_wait_that_runs_out_fails_with_the_message_the_rescue_looks_for(real_api, tmp_path):
    namespace = f"wait-{uuid.uuid4().hex[:6]}"
    real_api.client.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    )
    results = tmp_path / "stuck.json"
    playbook = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Deploy a rollout that never gets ready",
                    "kubernetes.core.k8s": {
                        "definition": stable_deployment(namespace),
                        "wait": True,
                        "wait_sleep": 1,
                        "wait_timeout": 2,
                    },
                    "register": "stuck",
                    "ignore_errors": True,
                },
                {
                    "name": "Keep the result",
                    "ansible.builtin.copy": {
                        "content": "{{ stuck | to_json }}",
                        "dest": str(results),
                        "mode": "0644",
                    },
                },
            ],
        }
    ]
    (tmp_path / "playbook.yml").write_text(yaml.safe_dump(playbook, sort_keys=False))
    result = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            "-i",
            "localhost,",
            "-e",
            f"ansible_connection=local ansible_python_interpreter={sys.executable}",
            str(tmp_path / "playbook.yml"),
        ],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "K8S_AUTH_KUBECONFIG": str(real_api.kubeconfig),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    stuck = json.loads(results.read_text())
    assert stuck["failed"] is True
    assert stuck["msg"] == '"Deployment" "frontend-deployment": Timed out waiting on resource'
    # What the rescue reads to say how far the rollout got.
    assert stuck["result"]["spec"]["replicas"] == 2
    assert stuck["result"]["metadata"]["namespace"] == namespace
