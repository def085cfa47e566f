"""The sandbox frontend's release objects, as the demo, the tests and the benchmarks see them.

Reads the ledger with the product's own parser, and puts the release objects back in
their seed state between runs: no ledger, no lock, weight 0, no canary namespace,
stable on 1.0.0 and ready.
"""

import os
import time

import yaml

from sandbox.kubeapi import Client
from sandbox.product import PROJECT_ROOT
from sandbox.product import ledger as ledger_utils

API = "http://127.0.0.1:16443"
ROUTER = "http://127.0.0.1:18080"
NAMESPACE = "yyc3-short-drama"
CANARY_NAMESPACE = "yyc3-short-drama-canary"
STABLE = "frontend-deployment"
CANARY = "frontend-deployment-canary"
LEDGER = "frontend-canary-ledger"
LOCK = "frontend-canary-lock"
SEED_IMAGE = "yyc3/short-drama-frontend:1.0.0"
HEALTHY_IMAGE = "yyc3/short-drama-frontend:1.1.0"

# The plan runs ab -n 1000 -c 100 on health; in the sandbox, 150 logins, 10 at a time.
# The sandbox inventory leaves it out (it would catch the analysis tests' faulty builds
# before any traffic moves); the validation tests and the benchmark add it.
LOAD_TEST = {
    "path": "/api/auth/login",
    "method": "POST",
    "body": {"email": "load@example.com", "password": "password123"},
    "requests": 150,
    "concurrency": 10,
    "timeout": "3s",
    "thresholds": {"max_error_ratio": 0.01, "max_p95": 1.0},
    "compare_stable": True,
}


def spec_with_load_test(bake):
    """The sandbox inventory's release spec with LOAD_TEST added and every stage's bake set."""
    path = os.path.join(PROJECT_ROOT, "inventories", "sandbox", "group_vars", "frontend.yml")
    with open(path) as handle:
        spec = yaml.safe_load(handle)["canary"]
    for stage in spec["stages"]:
        stage["bake"] = bake
    spec["validation"]["load"] = LOAD_TEST
    return spec


def wait_for(what, check, timeout=180, interval=0.2):
    """Poll ``check`` until it returns something true; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class Release:
    """The frontend's release as it stands in the sandbox cluster."""

    def __init__(self, server=API):
        self.api = Client(server, timeout=10)

    def ledger(self):
        return ledger_utils.parse(self.api.get("ConfigMap", NAMESPACE, LEDGER), "frontend")

    def weight(self):
        return int(
            self.api.get("ConfigMap", NAMESPACE, "traffic-config")["data"]["canary_percentage"]
        )

    def set_weight(self, weight):
        self.api.merge_patch(
            "ConfigMap", NAMESPACE, "traffic-config", {"data": {"canary_percentage": str(weight)}}
        )

    def stable(self):
        return self.api.get("Deployment", NAMESPACE, STABLE)

    def canary(self):
        return self.api.get("Deployment", CANARY_NAMESPACE, CANARY)

    def stable_image(self):
        return self.stable()["spec"]["template"]["spec"]["containers"][0]["image"]

    def lock_holder(self):
        lease = self.api.get("Lease", NAMESPACE, LOCK)
        return ((lease or {}).get("spec") or {}).get("holderIdentity")

    def stable_ready(self):
        deployment = self.stable()
        status = deployment.get("status", {})
        return (
            status.get("observedGeneration", 0) >= deployment["metadata"]["generation"]
            and status.get("updatedReplicas") == deployment["spec"]["replicas"]
            and status.get("readyReplicas") == deployment["spec"]["replicas"]
        )

    def reset(self):
        """Back to the seed state, and wait until it is live."""
        self.api.delete("ConfigMap", NAMESPACE, LEDGER)
        self.api.delete("Lease", NAMESPACE, LOCK)
        self.set_weight(0)
        self.api.delete("Namespace", None, CANARY_NAMESPACE)
        if self.stable_image() != SEED_IMAGE:
            containers = [{"name": "frontend", "image": SEED_IMAGE}]
            self.api.strategic_merge_patch(
                "Deployment",
                NAMESPACE,
                STABLE,
                {"spec": {"template": {"spec": {"containers": containers}}}},
            )
        wait_for(
            "the canary namespace to go",
            lambda: self.api.get("Namespace", None, CANARY_NAMESPACE) is None,
        )
        wait_for("stable to be ready", self.stable_ready)
