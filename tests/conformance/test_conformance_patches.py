"""Patch semantics over HTTP: strategic merge keys and directives, merge patch nulls."""

import pytest

from .conftest import deployment

STRATEGIC = "application/strategic-merge-patch+json"


@pytest.fixture
def web(server, namespace):
    """A Deployment with env, volume mounts, ports and tolerations to patch."""
    body = deployment("web")
    pod = body["spec"]["template"]["spec"]
    pod["containers"][0]["env"] = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    pod["containers"][0]["volumeMounts"] = [{"name": "v", "mountPath": "/data"}]
    pod["tolerations"] = [{"key": "a", "operator": "Exists"}]
    pod["volumes"] = [{"name": "v", "emptyDir": {}}, {"name": "w", "emptyDir": {}}]
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    assert server.request("POST", path, body)[0] == 201
    return f"{path}/web"


def patch(server, path, body, content_type=STRATEGIC):
    code, result = server.request("PATCH", path, body, content_type)
    assert code == 200, result
    return result


def pod_spec(obj):
    return obj["spec"]["template"]["spec"]


def test_containers_merge_by_name(server, web):
    result = patch(
        server,
        web,
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "app", "image": "nginx:2.0"},
                            {"name": "new", "image": "n:1"},
                        ]
                    }
                }
            }
        },
    )
    containers = pod_spec(result)["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [
        ("app", "nginx:2.0"),
        ("sidecar", "proxy:1.0"),
        ("new", "n:1"),
    ]
    assert containers[0]["ports"] == [{"containerPort": 8080}]


def test_nested_lists_merge_by_their_keys(server, web):
    result = patch(
        server,
        web,
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "app",
                                "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}],
                                "ports": [{"containerPort": 9090}],
                                "volumeMounts": [{"mountPath": "/data", "name": "w"}],
                            }
                        ],
                        "tolerations": [{"key": "b", "operator": "Exists"}],
                    }
                }
            }
        },
    )
    app = pod_spec(result)["containers"][0]
    assert app["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "20"},
        {"name": "C", "value": "3"},
    ]
    assert app["ports"] == [{"containerPort": 8080}, {"containerPort": 9090}]
    assert app["volumeMounts"] == [{"name": "w", "mountPath": "/data"}]
    assert pod_spec(result)["tolerations"] == [{"key": "b", "operator": "Exists"}]


def test_delete_and_replace_directives(server, web):
    result = patch(
        server,
        web,
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "sidecar", "$patch": "delete"},
                            {"name": "app", "env": [{"name": "A", "$patch": "delete"}]},
                        ],
                        "volumes": [{"name": "only", "emptyDir": {}}, {"$patch": "replace"}],
                        "$retainKeys": ["containers", "volumes"],
                    }
                }
            }
        },
    )
    spec = pod_spec(result)
    assert [c["name"] for c in spec["containers"]] == ["app"]
    assert spec["containers"][0]["env"] == [{"name": "B", "value": "2"}]
    assert spec["volumes"] == [{"name": "only", "emptyDir": {}}]
    replaced = patch(server, web, {"metadata": {"labels": {"$patch": "replace", "only": "x"}}})
    assert replaced["metadata"]["labels"] == {"only": "x"}


def test_set_element_order(server, web):
    result = patch(
        server,
        web,
        {
            "spec": {
                "template": {
                    "spec": {
                        "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}],
                        "containers": [{"name": "app", "image": "nginx:3"}],
                    }
                }
            }
        },
    )
    assert [c["name"] for c in pod_spec(result)["containers"]] == ["sidecar", "app"]


def test_service_ports_merge_by_port(server, namespace):
    path = f"/api/v1/namespaces/{namespace}/services"
    server.request(
        "POST",
        path,
        {
            "metadata": {"name": "s"},
            "spec": {"ports": [{"name": "http", "port": 80}, {"name": "metrics", "port": 9090}]},
        },
    )
    result = patch(server, f"{path}/s", {"spec": {"ports": [{"port": 80, "targetPort": 8080}]}})
    assert [(p["port"], p["targetPort"]) for p in result["spec"]["ports"]] == [
        (80, 8080),
        (9090, 9090),
    ]


def test_merge_patch_replaces_lists_and_null_deletes(server, web):
    result = patch(
        server,
        web,
        {
            "metadata": {"labels": {"app": None, "x": "y"}},
            "spec": {"template": {"spec": {"volumes": [{"name": "z", "emptyDir": {}}]}}},
        },
        "application/merge-patch+json",
    )
    assert result["metadata"]["labels"] == {"x": "y"}
    assert pod_spec(result)["volumes"] == [{"name": "z", "emptyDir": {}}]


def test_unknown_patch_type_is_unsupported(server, web):
    code, result = server.request("PATCH", web, {}, "text/plain")
    assert (code, result["reason"]) == (415, "UnsupportedMediaType")
