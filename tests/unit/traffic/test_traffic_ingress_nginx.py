"""The ingress_nginx provider against the real API server's Ingresses."""

import pytest
from ansible.module_utils.spec import cluster_problems
from ansible.module_utils.traffic import TrafficError, make_provider

from .release import Release

API_VERSION = "networking.k8s.io/v1"
NGINX = "nginx.ingress.kubernetes.io/"


def path(service, value="/", port=None):
    return {
        "path": value,
        "pathType": "Prefix",
        "backend": {"service": {"name": service, "port": port or {"name": "http"}}},
    }


def ingress(namespace, name="frontend", rules=None, annotations=None, class_name="nginx"):
    return {
        "apiVersion": API_VERSION,
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}},
        "spec": {
            "ingressClassName": class_name,
            "rules": rules
            if rules is not None
            else [{"host": "drama.example.com", "http": {"paths": [path("frontend")]}}],
        },
    }


def provider_for(cluster, release, **options):
    spec = release.spec("ingress_nginx", options)
    return make_provider(cluster, "ingress_nginx", spec["traffic"]["options"], spec["namespace"])


def canary_of(cluster, release, name="frontend-canary"):
    return cluster.get(API_VERSION, "Ingress", name, release.canary_namespace)


def test_the_canary_ingress_is_built_from_the_stable_one(cluster, release):
    stable = ingress(
        release.namespace,
        rules=[
            {
                "host": "drama.example.com",
                "http": {
                    "paths": [
                        path("frontend", "/", {"number": 80}),
                        path("static-assets", "/static"),
                    ]
                },
            },
            {"host": "admin.example.com", "http": {"paths": [path("admin")]}},
        ],
    )
    cluster.create(stable)
    traffic = provider_for(cluster, release)
    assert traffic.read_weight() == 0
    assert traffic.set_weight(20) == (0, 20, True)
    canary = canary_of(cluster, release)
    assert canary["spec"] == {
        "ingressClassName": "nginx",
        "rules": [
            {
                "host": "drama.example.com",
                "http": {"paths": [path("frontend-canary", "/", {"number": 80})]},
            }
        ],
    }
    assert canary["metadata"]["annotations"] == {
        NGINX + "canary": "true",
        NGINX + "canary-weight": "20",
        NGINX + "canary-weight-total": "100",
        NGINX + "canary-by-header": "X-Canary",
    }
    assert canary["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "canary-runbooks"}
    assert traffic.read_weight() == 20
    version = canary["metadata"]["resourceVersion"]
    assert traffic.set_weight(20) == (20, 20, False)
    assert canary_of(cluster, release)["metadata"]["resourceVersion"] == version


def test_rollback_to_zero_keeps_the_canary_ingress_for_forced_requests(cluster, release):
    cluster.create(ingress(release.namespace))
    traffic = provider_for(cluster, release)
    traffic.set_weight(50)
    assert traffic.set_weight(0) == (50, 0, True)
    annotations = canary_of(cluster, release)["metadata"]["annotations"]
    assert annotations[NGINX + "canary-weight"] == "0"
    assert annotations[NGINX + "canary-by-header"] == "X-Canary"


def test_cookie_header_value_and_a_finer_total_are_written(cluster, release):
    cluster.create(ingress(release.namespace))
    traffic = provider_for(
        cluster, release, cookie="canary", header_value="beta", weight_total=1000
    )
    traffic.set_weight(5)
    annotations = canary_of(cluster, release)["metadata"]["annotations"]
    assert {key[len(NGINX) :]: value for key, value in annotations.items()} == {
        "canary": "true",
        "canary-weight": "50",
        "canary-weight-total": "1000",
        "canary-by-header": "X-Canary",
        "canary-by-header-value": "beta",
        "canary-by-cookie": "canary",
    }
    assert traffic.read_weight() == 5


@pytest.mark.parametrize(
    ("weight", "total", "share"), [("1", "3", 33), ("128", "256", 50), ("0", None, 0)]
)
def test_weights_written_by_others_are_read_as_shares(cluster, release, weight, total, share):
    cluster.create(ingress(release.namespace))
    annotations = {NGINX + "canary": "true", NGINX + "canary-weight": weight}
    if total:
        annotations[NGINX + "canary-weight-total"] = total
    cluster.create(ingress(release.canary_namespace, "frontend-canary", annotations=annotations))
    assert provider_for(cluster, release).read_weight() == share


def test_check_mode_creates_nothing(cluster, dry_cluster, release):
    cluster.create(ingress(release.namespace))
    assert provider_for(dry_cluster, release).set_weight(5) == (0, 5, True)
    assert canary_of(cluster, release) is None


def test_a_missing_stable_ingress_is_an_error_naming_it(cluster, release):
    traffic = provider_for(cluster, release)
    assert traffic.read_weight() is None
    with pytest.raises(TrafficError, match=f"Ingress {release.namespace}/frontend does not exist"):
        traffic.set_weight(0)
    assert cluster_problems(cluster, release.spec("ingress_nginx"), traffic) == [
        f"canary.traffic.ingress_nginx.stable_ingress: Ingress {release.namespace}/frontend "
        "does not exist"
    ]


def test_without_a_canary_namespace_0_is_in_force_and_more_is_refused(cluster):
    """A rollback before prepare.yml (or after finalize.yml removed the namespace) succeeds."""
    release = Release(cluster)
    release.create_namespaces(release.namespace)
    cluster.create(ingress(release.namespace))
    traffic = provider_for(cluster, release)
    assert traffic.set_weight(0) == (0, 0, False)
    with pytest.raises(TrafficError, match=f"namespace {release.canary_namespace} does not exist"):
        traffic.set_weight(5)


def test_a_stable_ingress_without_the_stable_service(cluster, release):
    cluster.create(
        ingress(
            release.namespace, rules=[{"host": "x.example.com", "http": {"paths": [path("other")]}}]
        )
    )
    traffic = provider_for(cluster, release)
    assert traffic.problems(release.spec("ingress_nginx")) == [
        f"canary.traffic.ingress_nginx.stable_ingress: Ingress {release.namespace}/frontend has "
        "no path that sends to the stable Service frontend"
    ]
    with pytest.raises(TrafficError, match="has no path that sends to the stable Service"):
        traffic.set_weight(5)


def test_one_canary_per_rule(cluster, release):
    cluster.create(ingress(release.namespace))
    cluster.create(
        ingress(
            release.namespace,
            "frontend-experiment",
            annotations={NGINX + "canary": "true", NGINX + "canary-weight": "10"},
        )
    )
    errors = provider_for(cluster, release).problems(release.spec("ingress_nginx"))
    assert errors == [
        f"canary.traffic.ingress_nginx.name: Ingress {release.namespace}/frontend-experiment is "
        "already a canary for drama.example.com/; ingress-nginx honours one canary Ingress per "
        "host and path"
    ]


def test_a_foreign_canary_ingress_with_other_paths_is_refused(cluster, release):
    cluster.create(ingress(release.namespace))
    cluster.create(
        ingress(
            release.canary_namespace,
            "frontend-canary",
            rules=[{"host": "other.example.com", "http": {"paths": [path("frontend-canary")]}}],
            annotations={NGINX + "canary": "true"},
        )
    )
    errors = provider_for(cluster, release).problems(release.spec("ingress_nginx"))
    assert errors == [
        f"canary.traffic.ingress_nginx.name: Ingress {release.canary_namespace}/frontend-canary "
        "exists, is not managed by canary-runbooks, and routes other.example.com/ instead of the "
        "stable Ingress's drama.example.com/; remove it or name another canary Ingress"
    ]


def test_option_and_targeting_problems(cluster, release):
    cluster.create(ingress(release.namespace))
    spec = release.spec(
        "ingress_nginx",
        {"header_value": "a", "header_pattern": "b", "weight_total": 150},
        traffic={
            "provider": "ingress_nginx",
            "ingress_nginx": {"header_value": "a", "header_pattern": "b", "weight_total": 150},
            "targeting": {
                "rules": [
                    {"header": "X-Canary"},
                    {"cookie": "canary"},
                    {"cookie": "beta"},
                ]
            },
        },
    )
    traffic = make_provider(cluster, "ingress_nginx", spec["traffic"]["options"], release.namespace)
    assert traffic.problems(spec) == [
        "canary.traffic.targeting.rules[2]: ingress_nginx forces a track by one cookie (canary); "
        "beta would be a second",
        "canary.traffic.targeting.rules: the ingress_nginx provider sends each stage's weight to "
        "everyone not forced; end the rules with a rule for everyone ({share: stage})",
        "canary.traffic.ingress_nginx.header_pattern: ingress-nginx ignores it when header_value "
        "is set; give one of them",
        "canary.traffic.ingress_nginx.weight_total: must be a multiple of 100 so that every whole "
        "percentage is a whole canary-weight, got 150",
    ]


def test_a_good_stable_ingress_passes_the_spec_check(cluster, release):
    cluster.create(ingress(release.namespace))
    spec = release.spec("ingress_nginx")
    assert cluster_problems(cluster, spec, provider_for(cluster, release)) == []
