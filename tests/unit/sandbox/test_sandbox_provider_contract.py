"""What each traffic provider writes is what the sandbox router applies.

The product's providers (module_utils/traffic/) set weights on the sandbox's seeded
objects in the real API server (``real_api``), seeded into namespaces of each test's
own (``seeded``), with the options the release spec completes for them; the router's
readers then read those objects as the server stored them: the same weight, and the
forced routing the provider promises.
"""

import types

import pytest
from ansible.module_utils.cluster import Cluster
from ansible.module_utils.spec import cluster_problems, validate_release
from ansible.module_utils.traffic import make_provider
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client

from sandbox import router, traffic
from sandbox.readers.rules import Request, first_match
from sandbox.releases import PROVIDERS, provider_spec
from tests.bad_specs import merged
from tests.conftest import PROJECT_ROOT

from .seeded import fresh_namespace, remove_ingresses, renamed, seed

# What each provider's release changes in the spec (the sandbox inventory's groups).
SAME_NAMESPACE = {"canary_namespace": "yyc3-short-drama"}
RELEASES = {
    "gateway_api": {},
    "ingress_nginx": {},
    "istio": {},
    "openshift_route": SAME_NAMESPACE,
}
ROUTER_CONFIG = str(PROJECT_ROOT / "sandbox" / "router.yaml")


@pytest.fixture
def api(real_api):
    """The seed in fresh namespaces, the canary one too, and frontend-canary in both."""
    namespace = fresh_namespace()
    client = real_api.client
    seed(client, namespace)
    canary_namespace = f"{namespace}-canary"
    client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": canary_namespace}})
    for where in (namespace, canary_namespace):
        client.create(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"namespace": where, "name": "frontend-canary"},
                "spec": {
                    "selector": {"app": "frontend", "track": "canary"},
                    "ports": [{"port": 80}],
                },
            }
        )
    yield types.SimpleNamespace(
        client=client,
        cluster=Cluster(get_api_client(kubeconfig=str(real_api.kubeconfig))),
        namespace=namespace,
    )
    remove_ingresses(client, namespace, canary_namespace)


def provider_for(api, name, **targeting):
    raw = merged({"traffic": {"provider": name, **targeting}, **RELEASES[name]})
    spec, errors = validate_release(renamed(raw, api.namespace))
    assert errors == []
    return make_provider(api.cluster, name, spec["traffic"]["options"], spec["namespace"])


def reader_for(api, name):
    config = renamed(router.load_config(ROUTER_CONFIG, provider=name), api.namespace)
    return traffic.make_reader(config["traffic"], config["backends"])


def share(rules, headers=None, cookies=None):
    """The canary share the first matching route gives a request with these headers and cookies."""
    sent = dict(headers or {})
    if cookies:
        sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    route = first_match(rules.routes, Request.from_http("GET", "/api/health", sent.items()))
    return None if route is None else route.share


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_the_router_reads_the_weight_each_provider_writes(api, name):
    provider = provider_for(api, name)
    reader = reader_for(api, name)
    client = api.client
    assert provider.read_weight() == reader.read(client).weight == 0
    for weight in (5, 20, 50, 100, 0):
        provider.set_weight(weight)
        rules = reader.read(client)
        assert (rules.weight, rules.problem) == (weight, ""), name
        assert provider.read_weight() == weight


@pytest.mark.parametrize("name", ["gateway_api", "ingress_nginx", "istio"])
def test_the_forcing_header_the_provider_writes_forces_the_track_at_any_weight(api, name):
    provider = provider_for(api, name)
    reader = reader_for(api, name)
    for weight in (0, 20):
        provider.set_weight(weight)
        rules = reader.read(api.client)
        assert share(rules, {"X-Canary": "always"}) == 100
        assert share(rules, {"X-Canary": "never"}) == 0
        assert share(rules, {"X-Canary": "sometimes"}) == weight


@pytest.mark.parametrize("name", ["ingress_nginx", "istio"])
def test_the_forcing_cookie_of_a_targeting_spec_comes_after_the_header(api, name):
    targeting = {
        "targeting": {
            "rules": [
                {"name": "forced", "header": "X-Canary"},
                {"name": "forced by cookie", "cookie": "canary"},
                {"name": "everyone", "share": "stage"},
            ]
        }
    }
    provider = provider_for(api, name, **targeting)
    provider.set_weight(20)
    rules = reader_for(api, name).read(api.client)
    assert share(rules, cookies={"canary": "always"}) == 100
    assert share(rules, cookies={"canary": "never"}) == 0
    assert share(rules, {"X-Canary": "never"}, {"canary": "always"}) == 0
    assert share(rules, cookies={"canary": "maybe"}) == 20


@pytest.mark.parametrize("name", PROVIDERS)
def test_the_inventory_group_of_each_provider_passes_the_spec_check_on_the_seed(api, name):
    """What release.yml checks first, against the objects ``sandbox up`` seeds."""
    raw = renamed(provider_spec(name), api.namespace)
    raw["stages"] = [{**stage, "bake": "2s"} for stage in raw["stages"]]
    spec, errors = validate_release(raw, image="yyc3/short-drama-frontend:1.1.0")
    assert errors == []
    provider = make_provider(api.cluster, name, spec["traffic"]["options"], spec["namespace"])
    assert cluster_problems(api.cluster, spec, provider) == []
