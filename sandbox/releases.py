"""The sandbox frontend's release objects, as the demo, the tests and the benchmarks see them.

Reads the ledger with the product's own parser, and puts the release objects back in
their seed state between runs: no ledger, no lock, every provider's traffic object as
seeded (weight 0), no canary namespace, stable on 1.0.0 with its seeded replicas and ready.
"""

import copy
import glob
import os
import time

import yaml

from sandbox import state
from sandbox.ctl import PORTS
from sandbox.kubeapi import ApiError
from sandbox.product import PROJECT_ROOT
from sandbox.product import ledger as ledger_utils


def local_url(setting):
    """A sandbox server's URL: its port from the environment, as ``up`` takes it, else the default."""
    _, env_name, default, _ = PORTS[setting]
    return f"http://127.0.0.1:{int(os.environ.get(env_name) or default)}"


ROUTER = local_url("router_port")
ROUTER_ADMIN = local_url("router_admin_port")
# The inventory's URLs of the sandbox (group_vars/all.yml), rendered as Ansible renders them.
INVENTORY_URLS = {
    "{{ canary_sandbox_router }}": ROUTER,
    "{{ canary_sandbox_prometheus }}": local_url("prometheus_port"),
}
INVENTORY = os.path.join(PROJECT_ROOT, "inventories", "sandbox")
# The traffic providers the inventory has a group for besides the default's configmap
# (frontend_<provider>), in the order the tests and the benchmark go through them.
PROVIDERS = ("gateway_api", "ingress_nginx", "istio", "openshift_route", "replicas")
NAMESPACE = "yyc3-short-drama"
CANARY_NAMESPACE = "yyc3-short-drama-canary"
STABLE = "frontend-deployment"
CANARY = "frontend-deployment-canary"
LEDGER = "frontend-canary-ledger"
LOCK = "frontend-canary-lock"
SEED_IMAGE = "yyc3/short-drama-frontend:1.0.0"
HEALTHY_IMAGE = "yyc3/short-drama-frontend:1.1.0"
SEED_REPLICAS = 2
MANIFESTS = os.path.join(PROJECT_ROOT, "sandbox", "manifests")
# Every provider's traffic object: the ConfigMap and sandbox/manifests/providers/.
TRAFFIC_SEEDS = [
    os.path.join(MANIFESTS, "20-traffic-config.yaml"),
    *sorted(glob.glob(os.path.join(MANIFESTS, "providers", "*.yaml"))),
]
# The kinds the providers rewrite; the other seeded objects are only recreated when gone
# (a Service's spec gains server defaults, so it never equals its seed).
REWRITTEN = ("ConfigMap", "Gateway", "HTTPRoute", "Ingress", "VirtualService", "Route")
# With the openshift_route and replicas providers the canary runs beside stable.
CANARY_SERVICE = "frontend-canary"

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


def _group_vars(group):
    with open(os.path.join(INVENTORY, "group_vars", f"{group}.yml")) as handle:
        return _with_urls(yaml.safe_load(handle))


def _with_urls(node):
    if isinstance(node, dict):
        return {key: _with_urls(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_urls(value) for value in node]
    if isinstance(node, str):
        for template, url in INVENTORY_URLS.items():
            node = node.replace(template, url)
    return node


def _merged(base, change):
    """``change`` merged into ``base`` as Ansible's combine(recursive=True) merges."""
    result = copy.deepcopy(base)
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def provider_spec(provider):
    """The release spec of the inventory's group frontend_<provider>, as Ansible builds it
    (group_vars/frontend_providers.yml), or the default host's for its own provider
    (configmap); every stage's bake is still a template."""
    spec = _group_vars("frontend")["canary"]
    if provider == spec["traffic"]["provider"]:
        return spec
    change = _group_vars(f"frontend_{provider}")["canary_sandbox_provider"]
    spec = _merged(spec, change)
    spec["traffic"] = copy.deepcopy(change["traffic"])
    return spec


def spec_with_load_test(bake):
    """The sandbox inventory's release spec with LOAD_TEST added and every stage's bake set."""
    spec = _group_vars("frontend")["canary"]
    for stage in spec["stages"]:
        stage["bake"] = bake
    spec["validation"]["load"] = LOAD_TEST
    return spec


def traffic_seeds():
    """The traffic objects as ``sandbox up`` seeds them."""
    objects = []
    for path in TRAFFIC_SEEDS:
        with open(path) as handle:
            objects += [obj for obj in yaml.safe_load_all(handle) if obj]
    return objects


def _content(obj):
    """What a writer of the object changes: everything but the system metadata and status."""
    meta = obj.get("metadata") or {}
    kept = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
    return kept, meta.get("labels") or {}, meta.get("annotations") or {}


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
    """The frontend's release as it stands in the sandbox cluster, read as its admin."""

    def __init__(self, state_dir=None):
        self.state_dir = state.state_dir(state_dir)
        self._api = None

    @property
    def api(self):
        """Opened on first use: the admin kubeconfig exists only once the sandbox is up."""
        if self._api is None:
            self._api = state.admin_client(self.state_dir)
        return self._api

    def answers(self):
        """True when a sandbox runs from the state dir and its API server answers."""
        try:
            self.api.request("GET", "/version")
        except (OSError, ApiError):  # no kubeconfig yet, or nothing listening
            self._api = None
            return False
        return True

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

    def restore(self, seed):
        """Put one object back as seeded (created when missing); True when it had to."""
        meta = seed["metadata"]
        current = self.api.get(seed["kind"], meta["namespace"], meta["name"])
        if current is None:
            self.api.create(seed)
            return True
        if seed["kind"] not in REWRITTEN or _content(current) == _content(seed):
            return False
        body = copy.deepcopy(seed)
        body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        self.api.replace(body)
        return True

    def reset(self):
        """Back to the seed state, and wait until it is live."""
        self.api.delete("ConfigMap", NAMESPACE, LEDGER)
        self.api.delete("Lease", NAMESPACE, LOCK)
        for seed in traffic_seeds():
            self.restore(seed)
        self.api.delete("Namespace", None, CANARY_NAMESPACE)
        self.api.delete("Deployment", NAMESPACE, CANARY)
        self.api.delete("Service", NAMESPACE, CANARY_SERVICE)
        spec = self.stable()["spec"]
        if spec["template"]["spec"]["containers"][0]["image"] != SEED_IMAGE:
            containers = [{"name": "frontend", "image": SEED_IMAGE}]
            self.api.strategic_merge_patch(
                "Deployment",
                NAMESPACE,
                STABLE,
                {"spec": {"template": {"spec": {"containers": containers}}}},
            )
        if spec.get("replicas") != SEED_REPLICAS:
            self.api.merge_patch(
                "Deployment", NAMESPACE, STABLE, {"spec": {"replicas": SEED_REPLICAS}}
            )
        wait_for(
            "the canary namespace to go",
            lambda: self.api.get("Namespace", None, CANARY_NAMESPACE) is None,
        )
        wait_for(
            "the canary pods beside stable to go",
            lambda: not self.api.list("Pod", NAMESPACE, label_selector="track=canary"),
        )
        wait_for("stable to be ready", self.stable_ready)
