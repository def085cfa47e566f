"""The gateway_api provider against the real API server's HTTPRoutes and ReferenceGrants."""

import pytest
from ansible.module_utils.spec import cluster_problems
from ansible.module_utils.traffic import TrafficError, make_provider
from ansible.module_utils.traffic.gateway_api import GRANT_API_VERSION

from .release import Release, stable_service

API_VERSION = "gateway.networking.k8s.io/v1"


def http_route(namespace, rules):
    return {
        "apiVersion": API_VERSION,
        "kind": "HTTPRoute",
        "metadata": {"name": "frontend", "namespace": namespace},
        "spec": {"parentRefs": [{"name": "gateway"}], "rules": rules},
    }


def to_stable(path="/", **extra):
    return {
        "matches": [{"path": {"type": "PathPrefix", "value": path}}],
        "backendRefs": [{"name": "frontend", "port": 80}],
        **extra,
    }


def provider_for(cluster, release, **options):
    spec = release.spec("gateway_api", options)
    return make_provider(cluster, "gateway_api", spec["traffic"]["options"], spec["namespace"])


def route_of(cluster, release):
    return cluster.get(API_VERSION, "HTTPRoute", "frontend", release.namespace)


def grants_in(cluster, namespace):
    return cluster.list(GRANT_API_VERSION, "ReferenceGrant", namespace)


def grant_from(release, name="open", to=None):
    """A ReferenceGrant in the canary namespace for HTTPRoutes of the stable one."""
    return {
        "apiVersion": GRANT_API_VERSION,
        "kind": "ReferenceGrant",
        "metadata": {"name": name, "namespace": release.canary_namespace},
        "spec": {
            "from": [
                {
                    "group": "gateway.networking.k8s.io",
                    "kind": "HTTPRoute",
                    "namespace": release.namespace,
                }
            ],
            "to": to or [{"group": "", "kind": "Service"}],
        },
    }


def test_the_spec_fills_the_route_and_services_from_the_release(release):
    options = release.spec("gateway_api")["traffic"]["options"]
    assert options == {
        "name": "frontend",
        "namespace": release.namespace,
        "stable_service": "frontend",
        "canary_service": "frontend-canary",
        "canary_namespace": release.canary_namespace,
        "header": "X-Canary",
        "reference_grant": True,
    }


def test_weights_and_forced_rules_are_written_once(cluster, release):
    cluster.create(http_route(release.namespace, [to_stable()]))
    route = provider_for(cluster, release)
    assert route.read_weight() == 0
    assert route.set_weight(5) == (0, 5, True)
    rules = route_of(cluster, release)["spec"]["rules"]
    # As stored: the API server defaults a backendRef's group and kind (a core Service).
    service = {"group": "", "kind": "Service", "port": 80}
    canary_ref = {**service, "name": "frontend-canary", "namespace": release.canary_namespace}
    assert rules[0]["backendRefs"] == [
        {**service, "name": "frontend", "weight": 95},
        {**canary_ref, "weight": 5},
    ]
    assert [(rule["matches"], rule["backendRefs"]) for rule in rules[1:]] == [
        (
            [
                {
                    "path": {"type": "PathPrefix", "value": "/"},
                    "headers": [{"name": "X-Canary", "type": "Exact", "value": value}],
                }
            ],
            [{**ref, "weight": 1}],
        )
        for value, ref in (("always", canary_ref), ("never", {**service, "name": "frontend"}))
    ]
    assert route.read_weight() == 5
    version = route_of(cluster, release)["metadata"]["resourceVersion"]
    assert route.set_weight(5) == (5, 5, False)
    assert route_of(cluster, release)["metadata"]["resourceVersion"] == version


def test_rollback_to_zero_keeps_the_forced_routing(cluster, release):
    cluster.create(http_route(release.namespace, [to_stable()]))
    route = provider_for(cluster, release)
    route.set_weight(100)
    assert route_of(cluster, release)["spec"]["rules"][0]["backendRefs"][0]["weight"] == 0
    assert route.set_weight(0) == (100, 0, True)
    rules = route_of(cluster, release)["spec"]["rules"]
    assert [ref["weight"] for ref in rules[0]["backendRefs"]] == [100, 0]
    assert len(rules) == 3


def test_each_path_gets_its_own_forced_rules_so_they_outrank_it(cluster, release):
    """A header-only match would lose to a longer path: the forced rules copy each path."""
    cluster.create(
        http_route(
            release.namespace,
            [to_stable("/api", name="api"), to_stable("/", name="pages")],
        )
    )
    provider_for(cluster, release).set_weight(20)
    rules = route_of(cluster, release)["spec"]["rules"]
    forced = {
        (rule["name"], rule["matches"][0]["path"]["value"], rule["backendRefs"][0]["name"])
        for rule in rules[2:]
    }
    assert forced == {
        ("api-always", "/api", "frontend-canary"),
        ("api-never", "/api", "frontend"),
        ("pages-always", "/", "frontend-canary"),
        ("pages-never", "/", "frontend"),
    }
    assert all(rule["backendRefs"][1]["weight"] == 20 for rule in rules[:2])


def test_a_changed_header_replaces_the_old_forced_rules(cluster, release):
    cluster.create(http_route(release.namespace, [to_stable()]))
    provider_for(cluster, release).set_weight(5)
    assert provider_for(cluster, release, header="X-Force").set_weight(5) == (5, 5, True)
    rules = route_of(cluster, release)["spec"]["rules"]
    assert len(rules) == 3
    assert {rule["matches"][0]["headers"][0]["name"] for rule in rules[1:]} == {"X-Force"}


def test_shares_are_read_from_relative_weights(cluster, release):
    rule = to_stable()
    rule["backendRefs"] = [
        {"name": "frontend", "port": 80, "weight": 1},
        {"name": "frontend-canary", "namespace": release.canary_namespace, "port": 80, "weight": 3},
    ]
    cluster.create(http_route(release.namespace, [rule]))
    assert provider_for(cluster, release).read_weight() == 75


def test_check_mode_writes_nothing(cluster, dry_cluster, release):
    cluster.create(http_route(release.namespace, [to_stable()]))
    before = route_of(cluster, release)
    assert provider_for(dry_cluster, release).set_weight(20) == (0, 20, True)
    assert route_of(cluster, release) == before
    assert grants_in(cluster, release.canary_namespace) == []


def test_a_missing_route_is_an_error_naming_it(cluster, release):
    route = provider_for(cluster, release)
    assert route.read_weight() is None
    with pytest.raises(
        TrafficError, match=f"HTTPRoute {release.namespace}/frontend does not exist"
    ):
        route.set_weight(5)
    spec = release.spec("gateway_api")
    assert cluster_problems(cluster, spec, route) == [
        f"canary.traffic.gateway_api.name: HTTPRoute {release.namespace}/frontend does not exist"
    ]


def test_the_spec_check_refuses_routes_it_cannot_split(cluster, release):
    other = to_stable()
    other["backendRefs"].append({"name": "legacy", "port": 80})
    cluster.create(http_route(release.namespace, [other]))
    route = provider_for(cluster, release)
    errors = route.problems(release.spec("gateway_api"))
    assert errors == [
        f"canary.traffic.gateway_api.name: rule 0 of HTTPRoute {release.namespace}/frontend also "
        "sends to legacy; a traffic rule may only send to the stable and the canary Service, or "
        "the weights would not be shares"
    ]
    with pytest.raises(TrafficError, match="other backends"):
        route.set_weight(5)


def test_the_spec_check_needs_a_rule_to_the_stable_service(cluster, release):
    rule = to_stable()
    rule["backendRefs"] = [{"name": "elsewhere", "port": 80}]
    cluster.create(http_route(release.namespace, [rule]))
    spec = release.spec("gateway_api")
    route = provider_for(cluster, release)
    assert cluster_problems(cluster, spec, route) == [
        f"canary.traffic.gateway_api.name: HTTPRoute {release.namespace}/frontend has no rule "
        f"with a backendRef to the stable Service {release.namespace}/frontend"
    ]
    with pytest.raises(TrafficError, match="has no rule with a backendRef"):
        route.set_weight(5)


def test_a_good_route_passes_the_spec_check(cluster, release):
    cluster.create(http_route(release.namespace, [to_stable()]))
    spec = release.spec("gateway_api")
    assert cluster_problems(cluster, spec, provider_for(cluster, release)) == []


class WithoutGrants:
    """The real cluster as one without the ReferenceGrant CRD (the real one serves it)."""

    def __init__(self, cluster):
        self.cluster = cluster

    def __getattr__(self, name):
        return getattr(self.cluster, name)

    def served(self, api_version, kind):
        return kind != "ReferenceGrant" and self.cluster.served(api_version, kind)


def test_a_cluster_without_reference_grants_gets_a_warning(cluster, release):
    cluster.create(http_route(release.namespace, [to_stable()]))
    route = provider_for(WithoutGrants(cluster), release)
    route.set_weight(5)
    assert route.warnings == [
        f"this cluster does not serve ReferenceGrants ({GRANT_API_VERSION}), so none was "
        f"checked or created for the canary Service {release.canary_namespace}/frontend-canary; "
        "a Gateway API implementation refuses a backendRef to another namespace without one"
    ]
    assert grants_in(cluster, release.canary_namespace) == []


def test_the_provider_grants_the_route_access_to_the_canary_service(cluster, release):
    cluster.create(http_route(release.namespace, [to_stable()]))
    route = provider_for(cluster, release)
    assert route.set_weight(5) == (0, 5, True)
    (grant,) = grants_in(cluster, release.canary_namespace)
    assert grant["spec"] == {
        "from": [
            {
                "group": "gateway.networking.k8s.io",
                "kind": "HTTPRoute",
                "namespace": release.namespace,
            }
        ],
        "to": [{"group": "", "kind": "Service", "name": "frontend-canary"}],
    }
    assert grant["metadata"]["name"] == f"frontend-from-{release.namespace}"
    assert route.set_weight(5) == (5, 5, False)
    assert len(grants_in(cluster, release.canary_namespace)) == 1
    assert route.warnings == []


def test_an_existing_grant_is_used_and_a_missing_one_refused_when_not_managed(cluster, release):
    cluster.create(http_route(release.namespace, [to_stable()]))
    spec = release.spec("gateway_api", {"reference_grant": False})
    unmanaged = make_provider(cluster, "gateway_api", spec["traffic"]["options"], release.namespace)
    assert unmanaged.problems(spec) == [
        f"canary.traffic.gateway_api.reference_grant: no ReferenceGrant in "
        f"{release.canary_namespace} lets HTTPRoutes of {release.namespace} send to the Service "
        "frontend-canary; create one or set reference_grant: true"
    ]
    # One for another Service does not count.
    cluster.create(grant_from(release, "other", [{"group": "", "kind": "Service", "name": "x"}]))
    assert len(unmanaged.problems(spec)) == 1
    cluster.create(grant_from(release))
    assert (
        make_provider(
            cluster, "gateway_api", spec["traffic"]["options"], release.namespace
        ).problems(spec)
        == []
    )
    managed = provider_for(cluster, release)
    managed.set_weight(5)
    names = sorted(g["metadata"]["name"] for g in grants_in(cluster, release.canary_namespace))
    assert names == ["open", "other"]


def test_no_grant_before_the_canary_namespace_exists(cluster):
    release = Release(cluster)
    release.create_namespaces(release.namespace)
    cluster.create(stable_service(release.namespace))
    cluster.create(http_route(release.namespace, [to_stable()]))
    assert provider_for(cluster, release).set_weight(0) == (0, 0, True)
    assert grants_in(cluster, release.canary_namespace) == []


def test_a_users_own_header_rule_is_left_alone(cluster, release):
    beta = {
        "matches": [{"headers": [{"name": "X-Beta", "value": "always"}]}],
        "backendRefs": [{"name": "frontend-beta", "port": 80}],
    }
    cluster.create(http_route(release.namespace, [to_stable(), beta]))
    # As stored, with the API server's defaults (path /, header type Exact, weight 1, ...).
    stored_beta = route_of(cluster, release)["spec"]["rules"][1]
    assert stored_beta["matches"][0]["headers"] == [
        {"name": "X-Beta", "type": "Exact", "value": "always"}
    ]
    provider_for(cluster, release).set_weight(5)
    rules = route_of(cluster, release)["spec"]["rules"]
    assert rules[1] == stored_beta
    assert len(rules) == 4
    assert route_of(cluster, release)["metadata"]["annotations"] == {
        "canary-runbooks/forcing-header": "X-Canary"
    }


def test_without_a_forcing_header_no_forced_rules_are_written(cluster, release):
    cluster.create(http_route(release.namespace, [to_stable()]))
    spec = release.spec(
        "gateway_api",
        traffic={
            "provider": "gateway_api",
            "targeting": {"rules": [{"header": "X-Canary"}, {"share": "stage"}]},
        },
    )
    options = {**spec["traffic"]["options"], "header": None}
    route = make_provider(cluster, "gateway_api", options, release.namespace)
    assert route.set_weight(5) == (0, 5, True)
    stored = route_of(cluster, release)
    assert len(stored["spec"]["rules"]) == 1
    assert "annotations" not in stored["metadata"]
    assert route.set_weight(5) == (5, 5, False)
