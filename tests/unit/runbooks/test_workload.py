import copy

from ansible.module_utils.workload import (
    ADMISSION_LABELS,
    canary_deployment,
    canary_namespace,
    canary_service,
    container_image,
    referenced_objects,
)

STABLE = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "frontend-deployment",
        "namespace": "shop",
        "uid": "u1",
        "resourceVersion": "9",
        "generation": 3,
        "creationTimestamp": "2026-01-01T00:00:00Z",
        "labels": {"app": "frontend", "track": "stable", "app.kubernetes.io/instance": "shop"},
        "annotations": {"deployment.kubernetes.io/revision": "3", "meta.helm.sh/release-name": "x"},
    },
    "spec": {
        "replicas": 4,
        "selector": {"matchLabels": {"app": "frontend", "track": "stable"}},
        "template": {
            "metadata": {"labels": {"app": "frontend", "track": "stable"}},
            "spec": {
                "containers": [
                    {"name": "proxy", "image": "envoy:1"},
                    {"name": "frontend", "image": "app:1", "env": [{"name": "A", "value": "1"}]},
                ]
            },
        },
    },
    "status": {"readyReplicas": 4},
}


def test_canary_deployment_changes_only_image_track_and_replicas():
    canary = canary_deployment(
        STABLE, "shop-canary", "frontend-deployment-canary", "app:2", 1, "frontend"
    )
    assert canary["metadata"] == {
        "name": "frontend-deployment-canary",
        "namespace": "shop-canary",
        "labels": {
            "app": "frontend",
            "track": "canary",
            "app.kubernetes.io/managed-by": "canary-runbooks",
        },
    }
    assert "status" not in canary
    assert canary["spec"]["replicas"] == 1
    assert canary["spec"]["selector"]["matchLabels"] == {"app": "frontend", "track": "canary"}
    containers = canary["spec"]["template"]["spec"]["containers"]
    assert containers == [
        {"name": "proxy", "image": "envoy:1"},
        {"name": "frontend", "image": "app:2", "env": [{"name": "A", "value": "1"}]},
    ]
    assert container_image(STABLE, "frontend") == "app:1"  # the stable object is untouched


def test_a_stable_selector_expression_on_the_track_gives_way_to_the_canarys(dry_cluster):
    stable = copy.deepcopy(STABLE)
    stable["spec"]["selector"] = {
        "matchLabels": {"app": "frontend"},
        "matchExpressions": [
            {"key": "track", "operator": "In", "values": ["stable"]},
            {"key": "tier", "operator": "NotIn", "values": ["batch"]},
        ],
    }
    canary = canary_deployment(stable, "default", "frontend-deployment-canary", "app:2", 1)
    assert canary["spec"]["selector"] == {
        "matchLabels": {"app": "frontend", "track": "canary"},
        "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["batch"]}],
    }
    # The real API server takes it (it refuses a selector the template's labels miss).
    assert dry_cluster.create(canary)["spec"]["selector"] == canary["spec"]["selector"]
    stable["spec"]["selector"]["matchExpressions"].pop()
    assert (
        "matchExpressions"
        not in canary_deployment(stable, "default", "c", "app:2", 1)["spec"]["selector"]
    )


def test_first_container_by_default():
    canary = canary_deployment(STABLE, "c", "x", "envoy:2", 1)
    assert canary["spec"]["template"]["spec"]["containers"][0]["image"] == "envoy:2"


def test_canary_service_selects_canary_pods_only():
    stable = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "frontend", "namespace": "shop", "uid": "u"},
        "spec": {
            "type": "LoadBalancer",
            "externalTrafficPolicy": "Local",
            "loadBalancerSourceRanges": ["10.0.0.0/8"],
            "allocateLoadBalancerNodePorts": True,
            "clusterIP": "10.0.0.1",
            "clusterIPs": ["10.0.0.1"],
            "selector": {"app": "frontend", "track": "stable"},
            "ports": [{"port": 80, "targetPort": 8080, "nodePort": 30080}],
        },
    }
    canary = canary_service(stable, "shop-canary", "frontend-canary")
    assert canary["spec"] == {
        "type": "ClusterIP",
        "selector": {"app": "frontend", "track": "canary"},
        "ports": [{"port": 80, "targetPort": 8080}],
    }
    assert canary["metadata"]["namespace"] == "shop-canary"


def test_referenced_objects_of_a_pod_spec():
    pod_spec = {
        "serviceAccountName": "frontend",
        "imagePullSecrets": [{"name": "registry"}],
        "volumes": [
            {"name": "a", "configMap": {"name": "app-config"}},
            {"name": "b", "secret": {"secretName": "tls"}},
            {"name": "c", "persistentVolumeClaim": {"claimName": "uploads"}},
            {"name": "d", "emptyDir": {}},
        ],
        "containers": [
            {
                "name": "app",
                "envFrom": [
                    {"configMapRef": {"name": "env"}},
                    {"secretRef": {"name": "x", "optional": True}},
                ],
                "env": [
                    {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}},
                    {
                        "name": "TRACK",
                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['track']"}},
                    },
                ],
            }
        ],
    }
    assert referenced_objects(pod_spec) == [
        ("ConfigMap", "app-config"),
        ("ConfigMap", "env"),
        ("PersistentVolumeClaim", "uploads"),
        ("Secret", "db"),
        ("Secret", "registry"),
        ("Secret", "tls"),
        ("ServiceAccount", "frontend"),
    ]


def test_canary_namespace_takes_stables_admission_labels_only():
    labels = {key: f"value-{index}" for index, key in enumerate(ADMISSION_LABELS)}
    stable = {
        "metadata": {
            "name": "shop",
            "labels": {
                **labels,
                "kubernetes.io/metadata.name": "shop",
                "team": "drama",
                "app.kubernetes.io/managed-by": "helm",
            },
            "annotations": {"scheduler.alpha.kubernetes.io/node-selector": "pool=web"},
        }
    }
    assert canary_namespace(stable, "shop-canary") == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "shop-canary",
            "labels": {**labels, "app.kubernetes.io/managed-by": "canary-runbooks"},
        },
    }


def test_admission_labels_are_pod_security_and_sidecar_injection():
    assert set(ADMISSION_LABELS) == {
        *(
            f"pod-security.kubernetes.io/{mode}{suffix}"
            for mode in ("enforce", "audit", "warn")
            for suffix in ("", "-version")
        ),
        "istio-injection",
        "istio.io/rev",
        "istio.io/dataplane-mode",
    }


def test_a_stable_namespace_without_labels_gives_only_ours():
    namespace = canary_namespace({"metadata": {"name": "shop"}}, "shop-canary")
    assert namespace["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "canary-runbooks"}
