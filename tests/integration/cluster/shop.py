"""A release of the frontend in the sandbox's API server started alone, and playbook runs.

The server's Deployment controller finishes a new template's rollout after half a
second and holds it while the ``sandbox.canary.io/hold-rollout`` annotation is set; it
deletes namespaces at once, so a test marks one Terminating by setting its
``deletionTimestamp``.
"""

import os
import subprocess
import sys
import time

import yaml
from ansible.module_utils.spec import validate_release

from tests.bad_specs import merged
from tests.conftest import PROJECT_ROOT
from tests.unit.traffic.apiserver import Release, stable_deployment, stable_service

STABLE = "frontend-deployment"
HOLD = "sandbox.canary.io/hold-rollout"


class Shop(Release):
    """The stable frontend (2 replicas, its Service, traffic-config) and its release spec."""

    def __init__(self, cluster, workdir, namespace_labels=None, rollout_timeout="3s"):
        super().__init__(cluster)
        self.workdir = workdir
        # The ledger decides the image; a short wait for every rollout.
        change = {"image": "", "rollout_timeout": rollout_timeout}
        self.raw = merged(
            {"namespace": self.namespace, "canary_namespace": self.canary_namespace, **change}
        )
        self.spec, errors = validate_release(self.raw)
        assert errors == []
        namespace = {"name": self.namespace, "labels": namespace_labels or {}}
        cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": namespace})
        cluster.create(stable_deployment(self.namespace))
        cluster.create(stable_service(self.namespace))
        traffic = {"name": "traffic-config", "namespace": self.namespace}
        data = {"canary_percentage": "0"}
        cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": traffic, "data": data})
        # Stable's own first rollout is over: its pods are the old ones a held rollout keeps.
        deadline = time.monotonic() + 10
        while (self.stable().get("status") or {}).get("availableReplicas") != 2:
            assert time.monotonic() < deadline, "stable did not become available"
            time.sleep(0.1)

    def stable(self):
        return self.cluster.get("apps/v1", "Deployment", STABLE, self.namespace)

    def canary(self):
        name = self.spec["workload"]["canary_name"]
        return self.cluster.get("apps/v1", "Deployment", name, self.canary_namespace)

    def weight(self):
        config = self.cluster.get("v1", "ConfigMap", "traffic-config", self.namespace)
        return config["data"]["canary_percentage"]

    def hold(self, on):
        """Hold stable's rollouts (a new template's pods never get ready) or let them go."""
        patch = {"metadata": {"annotations": {HOLD: "true" if on else None}}}
        self.cluster.merge_patch("apps/v1", "Deployment", STABLE, self.namespace, patch)

    def run(self, api, playbook, *args, on_line=None):
        """Run ``playbook`` for this one service; return (exit code, output).

        ``on_line(line)`` sees each line of the output as it comes.
        """
        host = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "canary": self.raw,
            "canary_report_dir": str(self.workdir / "reports"),
            "canary_rollback_check_health": False,
        }
        hosts = {"all": {"children": {"canary_services": {"hosts": {"frontend": host}}}}}
        (self.workdir / "hosts.yml").write_text(yaml.safe_dump(hosts))
        process = subprocess.Popen(
            [
                os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                str(playbook),
                "-i",
                str(self.workdir / "hosts.yml"),
                *args,
            ],
            cwd=PROJECT_ROOT,
            env={
                **os.environ,
                "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
                "K8S_AUTH_KUBECONFIG": str(api.kubeconfig),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = []
        for line in process.stdout:
            lines.append(line)
            if on_line:
                on_line(line)
        return process.wait(timeout=60), "".join(lines)
