"""The canary_analysis module run by ansible-playbook against the real Prometheus."""

import json
import os
import pathlib
import subprocess
import sys

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[3]

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: {python}
    analysis:
      prometheus: {{url: "{url}", timeout: 5, bearer_token: "s3cret-t0ken"}}
      window: 1m
      checks:
        - {{name: error_rate, type: error_rate, max: 0.01}}
        - {{name: latency_p99, type: latency, quantile: 0.99, max: 2.0}}
        - {{name: availability, type: availability, min: 0.99}}
        - name: traffic
          type: promql
          query: !unsafe 'sum(rate(http_requests_total{{ {{{{ selector }}}} }}[{{{{ window }}}}]))'
          min: 1
          severity: general
  tasks:
    - name: Measure the canary with errors
      canary_analysis:
        prometheus: "{{{{ analysis.prometheus }}}}"
        window: "{{{{ analysis.window }}}}"
        selector: 'namespace="case-errors",track="canary"'
        checks: "{{{{ analysis.checks }}}}"
        time: {end}

    - name: Measure the healthy canary in check mode
      canary_analysis:
        prometheus: "{{{{ analysis.prometheus }}}}"
        selector: 'namespace="case-healthy",track="canary"'
        checks: "{{{{ analysis.checks }}}}"
        time: {end}
      check_mode: true

    - name: Judge a regressed canary against its stable track
      canary_analysis:
        prometheus: "{{{{ analysis.prometheus }}}}"
        selector: 'namespace="case-regression",track="canary"'
        checks: "{{{{ analysis.checks[:1] }}}}"
        baseline:
          selector: 'namespace="case-regression",track="stable"'
          step: 5s
          metrics:
            - {{name: error_rate, type: error_rate, critical: true}}
        baseline_range: 5m
        time: {end}
"""


def test_module_through_ansible_playbook(history, tmp_path):
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("localhost ansible_connection=local\n")
    playbook = tmp_path / "measure.yml"
    playbook.write_text(PLAYBOOK.format(python=sys.executable, url=history.url, end=history.end))
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(PROJECT_ROOT / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
    )
    run = subprocess.run(
        [
            str(pathlib.Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            str(inventory),
            str(playbook),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    tasks = json.loads(run.stdout)["plays"][0]["tasks"]
    errors, healthy, regression = (task["hosts"]["localhost"] for task in tasks)
    assert "s3cret-t0ken" not in run.stdout + run.stderr

    assert errors["changed"] is False
    assert errors["verdict"] == "fail"
    assert errors["failed_check_names"] == ["error_rate"]
    assert "failed" not in errors
    assert errors["time"] == history.end
    assert errors["checks"][0]["reason"] == (
        "error_rate = 0.03 > max 0.01 (critical: counts toward failure_limit)"
    )
    assert errors["checks"][3]["query"] == (
        'sum(rate(http_requests_total{ namespace="case-errors",track="canary" }[1m]))'
    )
    assert abs(errors["checks"][0]["value"] - 0.03) < 1e-9

    assert healthy["verdict"] == "pass"
    assert [c["result"] for c in healthy["checks"]] == ["pass"] * 4
    assert abs(healthy["checks"][1]["value"] - 0.095) < 1e-9

    assert regression["baseline"]["verdict"] == "fail"
    assert regression["baseline"]["score"] == 0
    assert regression["baseline"]["metrics"][0]["result"] == "high"
    assert regression["baseline"]["metrics"][0]["canary_samples"] == 61
