"""Discovery, health and OpenAPI endpoints, checked raw and through kubectl."""

import urllib.request

import pytest

EXPECTED_GROUPS = {
    "apps": "apps/v1",
    "networking.k8s.io": "networking.k8s.io/v1",
    "coordination.k8s.io": "coordination.k8s.io/v1",
    "gateway.networking.k8s.io": "gateway.networking.k8s.io/v1",
    "networking.istio.io": "networking.istio.io/v1",
    "route.openshift.io": "route.openshift.io/v1",
    "monitoring.coreos.com": "monitoring.coreos.com/v1",
}

EXPECTED_RESOURCES = {
    "/api/v1": {
        "namespaces",
        "configmaps",
        "services",
        "endpoints",
        "pods",
        "secrets",
        "events",
        "serviceaccounts",
    },
    "/apis/apps/v1": {"deployments", "replicasets"},
    "/apis/networking.k8s.io/v1": {"ingresses"},
    "/apis/coordination.k8s.io/v1": {"leases"},
    "/apis/gateway.networking.k8s.io/v1": {"httproutes", "gateways"},
    "/apis/networking.istio.io/v1": {"virtualservices", "destinationrules"},
    "/apis/route.openshift.io/v1": {"routes"},
    "/apis/monitoring.coreos.com/v1": {"prometheusrules", "servicemonitors"},
}


def test_version(server):
    code, body = server.request("GET", "/version")
    assert code == 200
    assert (body["major"], body["minor"]) == ("1", "32")
    assert body["gitVersion"].startswith("v1.32.")


def test_api_versions(server):
    code, body = server.request("GET", "/api")
    assert code == 200
    assert body["kind"] == "APIVersions"
    assert body["versions"] == ["v1"]


def test_api_group_list(server):
    code, body = server.request("GET", "/apis")
    assert code == 200
    assert body["kind"] == "APIGroupList"
    groups = {group["name"]: group["preferredVersion"]["groupVersion"] for group in body["groups"]}
    assert groups == EXPECTED_GROUPS


@pytest.mark.parametrize("path", sorted(EXPECTED_RESOURCES))
def test_resource_lists(server, path):
    code, body = server.request("GET", path)
    assert code == 200
    assert body["kind"] == "APIResourceList"
    assert body["groupVersion"] == path.split("/", 2)[2]
    names = {entry["name"] for entry in body["resources"] if "/" not in entry["name"]}
    assert names == EXPECTED_RESOURCES[path]


def test_resource_entries_describe_scope_verbs_and_short_names(server):
    _, core = server.request("GET", "/api/v1")
    entries = {entry["name"]: entry for entry in core["resources"]}
    assert entries["configmaps"] == {
        "name": "configmaps",
        "singularName": "configmap",
        "namespaced": True,
        "kind": "ConfigMap",
        "verbs": [
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ],
        "shortNames": ["cm"],
    }
    assert entries["namespaces"]["namespaced"] is False
    assert entries["namespaces"]["shortNames"] == ["ns"]
    assert entries["services"]["shortNames"] == ["svc"]


def test_deployment_subresources(server):
    _, apps = server.request("GET", "/apis/apps/v1")
    entries = {entry["name"]: entry for entry in apps["resources"]}
    assert entries["deployments"]["shortNames"] == ["deploy"]
    assert entries["deployments/status"]["kind"] == "Deployment"
    assert entries["deployments/status"]["verbs"] == ["get", "patch", "update"]
    scale = entries["deployments/scale"]
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    assert "replicasets/scale" in entries


def test_unknown_group_version_is_not_found(server):
    code, body = server.request("GET", "/apis/nope.example.com/v1")
    assert code == 404
    assert (body["kind"], body["status"], body["reason"]) == ("Status", "Failure", "NotFound")


def test_openapi_v3_lists_field_validation_support(server):
    code, root = server.request("GET", "/openapi/v3")
    assert code == 200
    assert root["paths"]["apis/apps/v1"]["serverRelativeURL"].startswith("/openapi/v3/apis/apps/v1")
    code, document = server.request("GET", "/openapi/v3/apis/apps/v1")
    patch = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "Deployment"
    assert patch["parameters"][0]["name"] == "fieldValidation"
    assert server.request("GET", "/openapi/v2")[0] == 404


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health(server, path):
    with urllib.request.urlopen(server.url + path) as response:
        assert response.read() == b"ok"


def test_kubectl_api_resources(server):
    result = server.kubectl("api-resources", "-o", "name")
    names = set(result.stdout.split())
    assert {
        "configmaps",
        "deployments.apps",
        "httproutes.gateway.networking.k8s.io",
        "virtualservices.networking.istio.io",
        "routes.route.openshift.io",
        "servicemonitors.monitoring.coreos.com",
        "leases.coordination.k8s.io",
    } <= names


def test_kubectl_short_names(server):
    assert server.kubectl("get", "ns", "default", "-o", "name").stdout == "namespace/default\n"
