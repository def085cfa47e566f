"""The istio provider against the real API server's VirtualServices."""

import re

import pytest
from ansible.module_utils.spec import cluster_problems
from ansible.module_utils.traffic import TrafficError, make_provider

API_VERSION = "networking.istio.io/v1"


def virtual_service(namespace, http):
    return {
        "apiVersion": API_VERSION,
        "kind": "VirtualService",
        "metadata": {"name": "frontend", "namespace": namespace},
        "spec": {"hosts": ["drama.example.com"], "gateways": ["mesh-gateway"], "http": http},
    }


def to(host, **extra):
    return {"destination": {"host": host, "port": {"number": 80}}, **extra}


def provider_for(cluster, release, **options):
    spec = release.spec("istio", options)
    return make_provider(cluster, "istio", spec["traffic"]["options"], spec["namespace"])


def http_of(cluster, release):
    return cluster.get(API_VERSION, "VirtualService", "frontend", release.namespace)["spec"]["http"]


def test_weights_sum_to_100_and_forced_routes_come_first(cluster, release):
    admin = {"name": "admin", "match": [{"uri": {"prefix": "/admin"}}], "route": [to("admin")]}
    main = {"name": "main", "timeout": "5s", "route": [to("frontend")]}
    cluster.create(virtual_service(release.namespace, [admin, main]))
    traffic = provider_for(cluster, release)
    assert traffic.read_weight() == 0
    assert traffic.set_weight(20) == (0, 20, True)
    canary_host = f"frontend-canary.{release.canary_namespace}.svc.cluster.local"
    http = http_of(cluster, release)
    assert [route["name"] for route in http] == [
        "admin",
        "canary-runbooks-header-always-0",
        "canary-runbooks-header-never-0",
        "main",
    ]
    assert http[3]["route"] == [{**to("frontend"), "weight": 80}, {**to(canary_host), "weight": 20}]
    assert http[1]["match"] == [{"headers": {"x-canary": {"exact": "always"}}}]
    assert http[1]["route"] == [{**to(canary_host), "weight": 100}]
    assert http[2]["route"] == [{**to("frontend"), "weight": 100}]
    assert http[1]["timeout"] == "5s"
    assert traffic.read_weight() == 20
    assert traffic.set_weight(20) == (20, 20, False)


def test_a_cookie_forces_too_after_the_header(cluster, release):
    cluster.create(
        virtual_service(
            release.namespace,
            [{"match": [{"uri": {"prefix": "/api"}}], "route": [to("frontend")]}],
        )
    )
    traffic = provider_for(cluster, release, cookie="canary")
    traffic.set_weight(5)
    http = http_of(cluster, release)
    assert [route["name"] for route in http[:4]] == [
        "canary-runbooks-header-always-0",
        "canary-runbooks-header-never-0",
        "canary-runbooks-cookie-always-0",
        "canary-runbooks-cookie-never-0",
    ]
    cookie_match = http[2]["match"][0]
    assert cookie_match["uri"] == {"prefix": "/api"}
    pattern = cookie_match["headers"]["cookie"]["regex"]
    assert re.fullmatch(pattern, "session=1; canary=always; theme=dark")
    assert re.fullmatch(pattern, "canary=always")
    assert not re.fullmatch(pattern, "notcanary=always")
    assert not re.fullmatch(pattern, "canary=never")


def test_rollback_to_zero(cluster, release):
    cluster.create(virtual_service(release.namespace, [{"route": [to("frontend")]}]))
    traffic = provider_for(cluster, release)
    traffic.set_weight(100)
    assert traffic.set_weight(0) == (100, 0, True)
    assert [d["weight"] for d in http_of(cluster, release)[-1]["route"]] == [100, 0]


@pytest.mark.parametrize(
    ("stable", "canary", "share"), [(None, None, 0), (50, 50, 50), (10, 90, 90)]
)
def test_shares_written_by_others(cluster, release, stable, canary, share):
    route = [to("frontend")]
    if stable is not None:
        fqdn = f"frontend-canary.{release.canary_namespace}.svc.cluster.local"
        route = [{**to("frontend"), "weight": stable}, {**to(fqdn), "weight": canary}]
    cluster.create(virtual_service(release.namespace, [{"route": route}]))
    assert provider_for(cluster, release).read_weight() == share


def test_check_mode_writes_nothing(cluster, dry_cluster, release):
    cluster.create(virtual_service(release.namespace, [{"route": [to("frontend")]}]))
    before = http_of(cluster, release)
    assert provider_for(dry_cluster, release).set_weight(20) == (0, 20, True)
    assert http_of(cluster, release) == before


def test_missing_and_misshapen_virtual_services(cluster, release):
    traffic = provider_for(cluster, release)
    spec = release.spec("istio")
    assert cluster_problems(cluster, spec, traffic) == [
        f"canary.traffic.istio.name: VirtualService {release.namespace}/frontend does not exist"
    ]
    with pytest.raises(TrafficError, match="does not exist"):
        traffic.set_weight(0)
    cluster.create(
        virtual_service(
            release.namespace,
            [
                {"route": [{**to("frontend"), "weight": 90}, {**to("legacy"), "weight": 10}]},
            ],
        )
    )
    assert traffic.problems(spec) == [
        f"canary.traffic.istio.name: http[0] of VirtualService {release.namespace}/frontend also "
        "sends to legacy; a traffic route may only send to the stable and the canary Service, or "
        "the weights would not be shares"
    ]
    with pytest.raises(TrafficError, match="other destinations"):
        traffic.set_weight(5)


def test_a_route_without_the_stable_service(cluster, release):
    cluster.create(virtual_service(release.namespace, [{"route": [to("other")]}]))
    assert provider_for(cluster, release).problems(release.spec("istio")) == [
        f"canary.traffic.istio.name: VirtualService {release.namespace}/frontend has no HTTP "
        f"route with a destination on the stable Service frontend.{release.namespace}.svc."
        "cluster.local"
    ]


def test_a_good_virtual_service_passes_the_spec_check(cluster, release):
    fqdn = f"frontend.{release.namespace}.svc.cluster.local"
    cluster.create(virtual_service(release.namespace, [{"route": [to(fqdn)]}]))
    spec = release.spec("istio")
    assert cluster_problems(cluster, spec, provider_for(cluster, release)) == []
