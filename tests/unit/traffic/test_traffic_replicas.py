"""The replicas provider: the canary's share of the pods, against the real API server."""

import pytest
from ansible.module_utils.spec import cluster_problems
from ansible.module_utils.traffic import TrafficError, make_provider
from ansible.module_utils.traffic.replicas import canary_replicas
from ansible.module_utils.workload import canary_deployment

from .release import Release, stable_deployment, stable_service

ROUTES = {"canary": {"url": "http://frontend-canary.example"}}
APP = {"app": "frontend"}


@pytest.fixture
def shop(cluster):
    """Stable with 4 replicas behind a Service that selects both tracks; no canary yet."""
    release = Release(cluster)
    release.canary_namespace = release.namespace
    release.create_namespaces(release.namespace)
    cluster.create(stable_deployment(release.namespace, replicas=4))
    cluster.create(stable_service(release.namespace, selector=APP))
    return release


def spec_for(release, stages, **options):
    return release.spec(
        "replicas",
        options,
        stages=stages,
        validation={"url": "http://drama.example", "route": ROUTES},
    )


def provider_for(cluster, release, **options):
    spec = spec_for(release, [{"weight": 20, "replicas": 1}], **options)
    return make_provider(cluster, "replicas", spec["traffic"]["options"], release.namespace)


def add_canary(cluster, release, replicas):
    stable = cluster.get("apps/v1", "Deployment", "frontend-deployment", release.namespace)
    cluster.create(
        canary_deployment(
            stable, release.namespace, "frontend-deployment-canary", "frontend:1.1.0", replicas
        )
    )


def canary_count(cluster, release):
    found = cluster.get("apps/v1", "Deployment", "frontend-deployment-canary", release.namespace)
    return found["spec"]["replicas"]


@pytest.mark.parametrize(
    ("weight", "stable", "most", "count"),
    [
        (0, 4, 4, 0),
        (20, 4, 4, 1),
        (50, 4, 4, 4),
        (30, 4, 4, 2),  # 33.3% beats 20% (1) and 42.9% (3)
        (80, 4, 4, 4),  # capped by max_replicas
        (80, 4, 16, 16),
        (100, 4, 4, 4),
        (5, 0, 4, 1),
        (5, 19, 19, 1),
    ],
)
def test_the_nearest_count(weight, stable, most, count):
    assert canary_replicas(weight, stable, most) == count


def test_the_canary_is_scaled_to_the_weight_and_stable_is_left_alone(cluster, shop):
    add_canary(cluster, shop, 0)
    traffic = provider_for(cluster, shop)
    assert traffic.read_weight() == 0
    assert traffic.set_weight(20) == (0, 20, True)
    assert canary_count(cluster, shop) == 1
    assert traffic.read_weight() == 20
    assert traffic.set_weight(20) == (20, 20, False)
    assert traffic.set_weight(50) == (20, 50, True)
    assert canary_count(cluster, shop) == 4
    stable = cluster.get("apps/v1", "Deployment", "frontend-deployment", shop.namespace)
    assert stable["spec"]["replicas"] == 4
    assert traffic.set_weight(0) == (50, 0, True)
    assert canary_count(cluster, shop) == 0


def test_the_achieved_weight_is_reported(cluster, shop):
    add_canary(cluster, shop, 0)
    traffic = provider_for(cluster, shop, tolerance=10)
    assert traffic.set_weight(25) == (0, 25, True)
    assert canary_count(cluster, shop) == 1
    assert traffic.achieved_weight(25) == 20
    assert traffic.read_weight() == 20
    # Already at the nearest count: nothing to do, though 20 != 25.
    assert traffic.set_weight(25) == (20, 25, False)


def test_a_weight_out_of_tolerance_is_refused(cluster, shop):
    add_canary(cluster, shop, 0)
    with pytest.raises(
        TrafficError, match=r"gets 20\.0% at best for 5% \(canary replicas 1 beside"
    ):
        provider_for(cluster, shop, max_replicas=10, tolerance=2).set_weight(5)
    assert canary_count(cluster, shop) == 0


def test_check_mode_scales_nothing(cluster, dry_cluster, shop):
    add_canary(cluster, shop, 0)
    assert provider_for(dry_cluster, shop).set_weight(50) == (0, 50, True)
    assert canary_count(cluster, shop) == 0


def test_missing_deployments(cluster, shop):
    traffic = provider_for(cluster, shop)
    assert traffic.set_weight(0) == (0, 0, False)
    with pytest.raises(TrafficError, match="frontend-deployment-canary does not exist"):
        traffic.set_weight(20)
    other = Release(cluster)
    other.canary_namespace = other.namespace
    other.create_namespaces(other.namespace)
    missing = provider_for(cluster, other)
    assert missing.read_weight() is None
    with pytest.raises(
        TrafficError, match=f"Deployment {other.namespace}/frontend-deployment does"
    ):
        missing.set_weight(0)


def test_the_spec_check_names_each_stage_it_cannot_approximate(cluster, shop):
    stages = [
        {"weight": 5, "replicas": 1},
        {"weight": 20, "replicas": 1},
        {"weight": 50, "replicas": 2},
        {"weight": 100, "replicas": 4},
    ]
    spec = spec_for(shop, stages)
    traffic = make_provider(cluster, "replicas", spec["traffic"]["options"], shop.namespace)
    assert cluster_problems(cluster, spec, traffic) == [
        "canary.stages[0].weight: the replicas provider gets 20.0% at best for 5% (canary "
        "replicas 1 beside stable's 4, max_replicas 4), more than the tolerance of 5 points "
        "(canary.traffic.replicas.tolerance)",
        "canary.stages[2].replicas: with the replicas provider the canary's replicas are its "
        "share: 50% needs 4 beside stable's 4 (50.0%), got 2",
        "canary.stages[3].weight: the replicas provider gets 50.0% at best for 100% (canary "
        "replicas 4 beside stable's 4, max_replicas 4), more than the tolerance of 5 points "
        "(canary.traffic.replicas.tolerance)",
    ]
    good = spec_for(shop, [{"weight": 20, "replicas": 1}, {"weight": 50, "replicas": 4}])
    assert cluster_problems(cluster, good, traffic) == []


def test_the_spec_check_needs_one_service_for_both_tracks_in_one_namespace(cluster, release):
    spec = release.spec(
        "replicas",
        stages=[{"weight": 33, "replicas": 1}],
        validation={"url": "http://drama.example"},
    )
    traffic = make_provider(cluster, "replicas", spec["traffic"]["options"], release.namespace)
    assert traffic.problems(spec) == [
        "canary.validation.route.canary: the replicas provider cannot force a track by header or "
        "cookie; give a URL that reaches the canary alone, such as its Service's "
        "(route.canary.url)",
        "canary.canary_namespace: with the replicas provider one Service selects the pods of "
        f"both tracks, and a Service selects pods of its own namespace ({release.namespace}) "
        f"only; release the canary into {release.namespace}",
        f"canary.traffic.replicas.service: Service {release.namespace}/frontend selects "
        "track=stable, which the canary's pods (stable's labels with track=canary) do not carry; "
        "with the replicas provider one Service selects the pods of both tracks",
    ]
