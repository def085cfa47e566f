"""Every traffic provider end to end: a healthy release promoted, a faulty one rolled back.

For each provider the running sandbox's router is switched to it
(``python -m sandbox router --traffic <provider>``), then release.yml runs for the
inventory's group ``frontend_<provider>`` with two short stages: 1.1.0 is promoted,
1.2.0-errors is rolled back on its own at its first stage. A poller of the router's
``/state`` records the weights the router applied during each run. At the end the
provider's object, read through the API, gives the canary nothing, and so does the
router. The configmap router is back when the module ends.
"""

import subprocess
import sys
import threading

import pytest
import requests

from sandbox.product import PROJECT_ROOT
from sandbox.releases import (
    CANARY,
    CANARY_NAMESPACE,
    HEALTHY_IMAGE,
    NAMESPACE,
    PROVIDERS,
    ROUTER_ADMIN,
    SEED_IMAGE,
    STABLE,
    provider_spec,
    wait_for,
)

from .conftest import run_playbook
from .test_bad_input import spec_file

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

FAULTY_IMAGE = "yyc3/short-drama-frontend:1.2.0-errors"
BAKE = "2s"
# Two stages; the replicas group's own two are what 1 and 2 canary pods beside stable's
# 2 can reach (33 % and 50 %).
STAGES = [{"weight": 20, "replicas": 1}, {"weight": 100, "replicas": 1}]
# How far the router's weight may be from a stage's: exact, except the pod ratio.
TOLERANCE = {"replicas": 5}


def short_spec(tmp_path, provider):
    spec = provider_spec(provider)
    stages = spec["stages"] if provider == "replicas" else STAGES
    spec["stages"] = [{**stage, "bake": BAKE} for stage in stages]
    return spec, spec_file(tmp_path, spec)


@pytest.fixture(scope="module")
def router(sandbox):
    """Switches the sandbox's router to a provider; the configmap one again at the end."""
    current = {}

    def switch(provider):
        if current.get("provider") != provider:
            current["provider"] = provider
            result = subprocess.run(
                [sys.executable, "-m", "sandbox", "router", "--traffic", provider],
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 0, result.stdout + result.stderr
        return state()

    yield switch
    if current:
        switch("configmap")


@pytest.fixture(scope="module", params=PROVIDERS)
def provider(request, router):
    """The provider of the tests, the router switched to it; a module-scoped parameter, so
    pytest runs both tests of one provider before switching to the next."""
    assert router(request.param)["provider"] == request.param
    return request.param


def state():
    return requests.get(ROUTER_ADMIN + "/state", timeout=5).json()


class Observed:
    """The weights the router reports while a playbook runs, polled every 0.1 s."""

    def __init__(self):
        self.weights = set()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)

    def poll(self):
        while not self.done.wait(0.1):
            try:
                self.weights.add(state()["weight"])
            except (requests.RequestException, ValueError):
                continue

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()

    def saw(self, weight, tolerance=0):
        return any(abs(seen - weight) <= tolerance for seen in self.weights)


def share(canary, total):
    return 100.0 * canary / total if total else 0.0


def object_weight(cluster, provider, spec):
    """The canary's share in the provider's own object, read through the API."""
    api = cluster.api
    canary_namespace = spec["canary_namespace"]
    if provider == "gateway_api":
        rules = api.get("HTTPRoute", NAMESPACE, "frontend")["spec"]["rules"]
        split = [r["backendRefs"] for r in rules if len(r.get("backendRefs") or []) == 2]
        refs = {ref["name"]: ref.get("weight", 1) for ref in split[0]}
        return share(refs.get("frontend-canary", 0), sum(refs.values()))
    if provider == "ingress_nginx":
        ingress = api.get("Ingress", canary_namespace, "frontend-canary")
        notes = (ingress or {"metadata": {}})["metadata"].get("annotations") or {}
        prefix = "nginx.ingress.kubernetes.io/canary-weight"
        weight, total = int(notes.get(prefix, 0)), int(notes.get(prefix + "-total", 100))
        return share(weight, max(total, 100))
    if provider == "istio":
        routes = api.get("VirtualService", NAMESPACE, "frontend")["spec"]["http"]
        (weighted,) = [r["route"] for r in routes if len(r["route"]) == 2]
        weights = {d["destination"]["host"].split(".")[0]: d.get("weight", 0) for d in weighted}
        return share(weights.get("frontend-canary", 0), sum(weights.values()))
    if provider == "openshift_route":
        route = api.get("Route", NAMESPACE, "frontend")["spec"]
        alternates = {b["name"]: b.get("weight", 100) for b in route.get("alternateBackends") or []}
        canary = alternates.get("frontend-canary", 0)
        return share(canary, route["to"].get("weight", 100) + sum(alternates.values()))
    deployment = api.get("Deployment", canary_namespace, CANARY)
    canary = deployment["spec"]["replicas"] if deployment else 0
    return share(canary, canary + api.get("Deployment", NAMESPACE, STABLE)["spec"]["replicas"])


def stage_events(ledger, name):
    return [(e["stage"], e["weight"]) for e in ledger["history"] if e["event"] == name]


def release(provider, spec_arg, image):
    return run_playbook(
        "release.yml",
        *("-e", spec_arg, "-e", f"canary_hosts=frontend_{provider}"),
        *("-e", f"canary_image={image}"),
    )


def settled(provider):
    """The router gives the canary nothing, has no problem, and serves stable."""
    wait_for(f"the {provider} router at weight 0", lambda: state()["weight"] == 0, timeout=30)
    now = state()
    assert (now["provider"], now["problem"]) == (provider, "")


def test_healthy_release_is_promoted(provider, cluster, tmp_path):
    spec, spec_arg = short_spec(tmp_path, provider)
    with Observed() as observed:
        code, output = release(provider, spec_arg, HEALTHY_IMAGE)
    assert code == 0, output
    ledger = cluster.ledger()
    assert (ledger["status"], ledger["image"]) == ("promoted", HEALTHY_IMAGE)
    weights = [stage["weight"] for stage in spec["stages"]]
    assert stage_events(ledger, "stage_passed") == list(enumerate(weights, start=1))
    for weight in weights:
        assert observed.saw(weight, TOLERANCE.get(provider, 0)), (weight, observed.weights)
    assert cluster.stable_image() == HEALTHY_IMAGE
    assert object_weight(cluster, provider, spec) == 0
    # Deleted in the background, once its pods have stopped.
    wait_for(
        "the canary namespace to go",
        lambda: cluster.api.get("Namespace", None, CANARY_NAMESPACE) is None,
        timeout=60,
    )
    assert cluster.lock_holder() is None
    settled(provider)


def test_faulty_release_is_rolled_back_at_its_first_stage(provider, cluster, tmp_path):
    spec, spec_arg = short_spec(tmp_path, provider)
    first = spec["stages"][0]["weight"]
    with Observed() as observed:
        code, output = release(provider, spec_arg, FAULTY_IMAGE)
    assert code != 0
    assert f"frontend rolled back: Stage 1 ({first}%) failed its analysis" in output, output
    ledger = cluster.ledger()
    assert (ledger["status"], ledger["stage"]) == ("rolled_back", 1)
    assert "error_rate" in ledger["reason"]
    assert observed.saw(first, TOLERANCE.get(provider, 0)), observed.weights
    assert object_weight(cluster, provider, spec) == 0
    canary = cluster.api.get("Deployment", spec["canary_namespace"], CANARY)
    assert canary["spec"]["replicas"] == 0
    assert cluster.stable_image() == SEED_IMAGE
    assert cluster.lock_holder() is None
    settled(provider)
