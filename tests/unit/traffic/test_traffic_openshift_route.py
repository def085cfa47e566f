"""The openshift_route provider against the real API server's Routes."""

import pytest
from ansible.module_utils.spec import cluster_problems
from ansible.module_utils.traffic import PROVIDERS, TrafficError, make_provider

API_VERSION = "route.openshift.io/v1"
# The canary runs beside stable: a Route only sends to Services of its own namespace.
SAME_NAMESPACE_ROUTES = {"canary": {"url": "http://frontend-canary.example"}}


def route(namespace, weight=None, alternate=()):
    target = {"kind": "Service", "name": "frontend"}
    if weight is not None:
        target["weight"] = weight
    spec = {"host": "drama.example.com", "to": target}
    if alternate:
        spec["alternateBackends"] = list(alternate)
    return {
        "apiVersion": API_VERSION,
        "kind": "Route",
        "metadata": {"name": "frontend", "namespace": namespace},
        "spec": spec,
    }


def spec_for(release, **change):
    return release.spec(
        "openshift_route",
        canary_namespace=release.namespace,
        validation={"url": "http://drama.example", "route": SAME_NAMESPACE_ROUTES},
        **change,
    )


def provider_for(cluster, release):
    spec = spec_for(release)
    return make_provider(cluster, "openshift_route", spec["traffic"]["options"], release.namespace)


def spec_of(cluster, release):
    return cluster.get(API_VERSION, "Route", "frontend", release.namespace)["spec"]


def test_weights_make_the_share_exact_and_are_written_once(cluster, release):
    cluster.create(route(release.namespace))
    traffic = provider_for(cluster, release)
    assert traffic.read_weight() == 0
    assert traffic.set_weight(5) == (0, 5, True)
    spec = spec_of(cluster, release)
    assert spec["to"] == {"kind": "Service", "name": "frontend", "weight": 95}
    assert spec["alternateBackends"] == [
        {"kind": "Service", "name": "frontend-canary", "weight": 5}
    ]
    assert traffic.set_weight(5) == (5, 5, False)
    assert traffic.set_weight(100) == (5, 100, True)
    assert spec_of(cluster, release)["to"]["weight"] == 0
    assert traffic.set_weight(0) == (100, 0, True)
    assert spec_of(cluster, release)["alternateBackends"][0]["weight"] == 0


@pytest.mark.parametrize(
    ("stable", "canary", "share"),
    [(128, 128, 50), (256, 0, 0), (0, 256, 100), (None, 100, 50), (200, 56, 22), (0, 0, 0)],
)
def test_the_0_256_scale_is_read_as_a_share(cluster, release, stable, canary, share):
    cluster.create(
        route(
            release.namespace,
            stable,
            [{"kind": "Service", "name": "frontend-canary", "weight": canary}],
        )
    )
    assert provider_for(cluster, release).read_weight() == share


def test_check_mode_writes_nothing(cluster, dry_cluster, release):
    cluster.create(route(release.namespace))
    before = spec_of(cluster, release)
    assert provider_for(dry_cluster, release).set_weight(50) == (0, 50, True)
    assert spec_of(cluster, release) == before


def test_a_missing_route_and_other_backends(cluster, release):
    spec = spec_for(release)
    traffic = provider_for(cluster, release)
    assert cluster_problems(cluster, spec, traffic) == [
        f"canary.traffic.openshift_route.name: Route {release.namespace}/frontend does not exist"
    ]
    with pytest.raises(TrafficError, match="does not exist"):
        traffic.set_weight(0)
    cluster.create(route(release.namespace, 90, [{"kind": "Service", "name": "legacy"}]))
    assert traffic.problems(spec) == [
        f"canary.traffic.openshift_route.name: Route {release.namespace}/frontend also sends to "
        "legacy in spec.alternateBackends; only the stable and the canary Service may share a "
        "Route, or the weights would not be shares"
    ]
    with pytest.raises(TrafficError, match="also sends to legacy"):
        traffic.set_weight(5)


def test_a_good_route_passes_the_spec_check(cluster, release):
    cluster.create(route(release.namespace))
    spec = spec_for(release)
    assert cluster_problems(cluster, spec, provider_for(cluster, release)) == []


def test_what_a_route_cannot_do_is_refused_up_front(cluster, release):
    cluster.create(route(release.namespace))
    spec = release.spec("openshift_route")
    traffic = make_provider(
        cluster, "openshift_route", spec["traffic"]["options"], release.namespace
    )
    assert traffic.problems(spec) == [
        "canary.validation.route.canary: the openshift_route provider cannot force a track by "
        "header or cookie; give a URL that reaches the canary alone, such as its Service's "
        "(route.canary.url)",
        "canary.canary_namespace: a Route only sends to Services of its own namespace "
        f"({release.namespace}) and the canary Service would be in {release.canary_namespace}; "
        f"release the canary into {release.namespace}",
    ]
    assert sorted(PROVIDERS["openshift_route"].unsupported_kinds({"header", "cookie", "hash"})) == [
        "cookie",
        "header",
    ]


def test_a_route_to_another_service_is_named(cluster, release):
    other = route(release.namespace)
    other["spec"]["to"]["name"] = "legacy"
    cluster.create(other)
    traffic = provider_for(cluster, release)
    assert traffic.problems(spec_for(release)) == [
        f"canary.traffic.openshift_route.stable_service: Route {release.namespace}/frontend sends "
        "to 'legacy' in spec.to, not to the stable Service frontend"
    ]
    with pytest.raises(TrafficError, match="not to the stable Service"):
        traffic.set_weight(0)
