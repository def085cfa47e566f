"""The kubernetes Python client (typed APIs and DynamicClient) against the server."""

import re
import time

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from .conftest import deployment, wait_status


def configmap(name, labels=None, data=None):
    return {"metadata": {"name": name, "labels": labels or {}}, "data": data or {"k": "v"}}


def test_crud(core, namespace):
    created = core.create_namespaced_config_map(namespace, configmap("c1"))
    assert created.metadata.generation == 1
    read = core.read_namespaced_config_map("c1", namespace)
    assert read.data == {"k": "v"}
    read.data = {"k": "w"}
    replaced = core.replace_namespaced_config_map("c1", namespace, read)
    assert replaced.data == {"k": "w"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    assert replaced.metadata.generation == 2
    assert replaced.metadata.uid == created.metadata.uid
    deleted = core.delete_namespaced_config_map("c1", namespace)
    assert (deleted["kind"], deleted["metadata"]["name"]) == ("ConfigMap", "c1")
    with pytest.raises(ApiException) as error:
        core.read_namespaced_config_map("c1", namespace)
    assert error.value.status == 404


def test_status_objects_for_errors(server, namespace):
    code, body = server.request("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/x")
    assert code == 404
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'deployments.apps "x" not found',
        "reason": "NotFound",
        "code": 404,
        "details": {"name": "x", "group": "apps", "kind": "deployments"},
    }
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    code, body = server.request("POST", path, {"metadata": {}})
    assert (code, body["reason"]) == (422, "Invalid")
    assert body["message"] == (
        'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required'
    )
    code, body = server.request("POST", path, {"metadata": {"name": "a", "namespace": "other"}})
    assert (code, body["reason"]) == (400, "BadRequest")
    code, body = server.request("PUT", path, {"metadata": {"name": "a"}})
    assert (code, body["reason"]) == (405, "MethodNotAllowed")
    code, body = server.request("GET", path + "?fieldSelector=spec.x%3D1")
    assert (code, body["message"]) == (400, "field label not supported: spec.x")


def test_create_in_missing_namespace(core):
    with pytest.raises(ApiException) as error:
        core.create_namespaced_config_map("does-not-exist", configmap("c1"))
    assert error.value.status == 404
    assert 'namespaces \\"does-not-exist\\" not found' in error.value.body


def test_already_exists(core, namespace):
    core.create_namespaced_config_map(namespace, configmap("c1"))
    with pytest.raises(ApiException) as error:
        core.create_namespaced_config_map(namespace, configmap("c1"))
    assert (error.value.status, error.value.reason) == (409, "Conflict")
    assert '"reason": "AlreadyExists"' in error.value.body


def test_generate_name(core, namespace):
    created = core.create_namespaced_config_map(
        namespace, {"metadata": {"generateName": "release-"}, "data": {}}
    )
    assert re.fullmatch(r"release-[bcdfghjklmnpqrstvwxz2456789]{5}", created.metadata.name)


def test_stale_resource_version_conflicts(core, namespace):
    first = core.create_namespaced_config_map(namespace, configmap("c1"))
    core.patch_namespaced_config_map("c1", namespace, {"data": {"k": "changed"}})
    first.data = {"k": "mine"}
    with pytest.raises(ApiException) as error:
        core.replace_namespaced_config_map("c1", namespace, first)
    assert error.value.status == 409
    assert '"reason": "Conflict"' in error.value.body
    first.metadata.resource_version = None
    assert core.replace_namespaced_config_map("c1", namespace, first).data == {"k": "mine"}


def test_resource_versions_increase_globally(core, namespace):
    versions = [
        int(
            core.create_namespaced_config_map(
                namespace, configmap(f"c{i}")
            ).metadata.resource_version
        )
        for i in range(3)
    ]
    assert versions == sorted(versions) and len(set(versions)) == 3
    listed = core.list_namespaced_config_map(namespace)
    assert int(listed.metadata.resource_version) >= versions[-1]


def test_unchanged_update_is_not_written(core, namespace):
    created = core.create_namespaced_config_map(namespace, configmap("c1"))
    same = core.replace_namespaced_config_map("c1", namespace, created)
    assert same.metadata.resource_version == created.metadata.resource_version


def test_label_and_field_selectors(server, core, namespace):
    for name, labels in {
        "a": {"app": "web", "track": "stable"},
        "b": {"app": "web", "track": "canary"},
        "c": {"app": "db"},
    }.items():
        core.create_namespaced_config_map(namespace, configmap(name, labels))

    def names(**kwargs):
        return [
            item.metadata.name
            for item in core.list_namespaced_config_map(namespace, **kwargs).items
        ]

    assert names(label_selector="app=web") == ["a", "b"]
    assert names(label_selector="app==web,track!=canary") == ["a"]
    assert names(label_selector="track in (canary, stable)") == ["a", "b"]
    assert names(label_selector="track notin (canary)") == ["a", "c"]
    assert names(label_selector="track") == ["a", "b"]
    assert names(label_selector="!track") == ["c"]
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector="metadata.name!=b") == ["a", "c"]
    everywhere = core.list_config_map_for_all_namespaces(
        field_selector=f"metadata.namespace={namespace}", label_selector="app=web"
    )
    assert [item.metadata.name for item in everywhere.items] == ["a", "b"]
    _, body = server.request("GET", f"/api/v1/namespaces/{namespace}/configmaps")
    assert (body["kind"], body["apiVersion"]) == ("ConfigMapList", "v1")
    assert body["metadata"]["resourceVersion"].isdigit()


def test_dry_run_stores_nothing(server, core, namespace):
    dry = core.create_namespaced_config_map(namespace, configmap("c1"), dry_run="All")
    assert dry.metadata.name == "c1" and dry.metadata.uid
    assert core.list_namespaced_config_map(namespace).items == []
    real = core.create_namespaced_config_map(namespace, configmap("c1"))
    patched = core.patch_namespaced_config_map(
        "c1", namespace, {"data": {"k": "dry"}}, dry_run="All"
    )
    assert patched.data == {"k": "dry"}
    assert patched.metadata.resource_version == real.metadata.resource_version
    core.delete_namespaced_config_map("c1", namespace, dry_run="All")
    stored = core.read_namespaced_config_map("c1", namespace)
    assert stored.data == {"k": "v"}
    assert stored.metadata.resource_version == real.metadata.resource_version
    code, body = server.request(
        "POST",
        f"/apis/apps/v1/namespaces/{namespace}/deployments?dryRun=All",
        {"metadata": {"name": "x"}, "spec": {"selector": {"matchLabels": {"a": "b"}}}},
    )
    assert (code, body["reason"]) == (422, "Invalid")
    assert body["details"]["causes"][0]["field"] == "spec.template.metadata.labels"


def test_defaults(core, apps, namespace):
    created = apps.create_namespaced_deployment(
        namespace,
        {
            "metadata": {"name": "d"},
            "spec": {
                "selector": {"matchLabels": {"app": "d"}},
                "template": {
                    "metadata": {"labels": {"app": "d"}},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                },
            },
        },
    )
    assert created.spec.replicas == 1
    assert created.spec.strategy.type == "RollingUpdate"
    assert created.spec.strategy.rolling_update.max_surge == "25%"
    service = core.create_namespaced_service(
        namespace, {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}
    )
    assert service.spec.type == "ClusterIP"
    assert re.fullmatch(r"10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+", service.spec.cluster_ip)
    assert service.spec.ports[0].target_port == 80
    # A replace that leaves the cluster IP out keeps the allocated one.
    kept = core.replace_namespaced_service(
        "s", namespace, {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 81}]}}
    )
    assert kept.spec.cluster_ip == service.spec.cluster_ip
    assert kept.spec.ports[0].port == 81
    assert core.read_namespace(namespace).status.phase == "Active"


def test_generation_counts_spec_changes_only(apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("web"))
    labelled = apps.patch_namespaced_deployment(
        "web", namespace, {"metadata": {"labels": {"x": "y"}}}
    )
    assert labelled.metadata.generation == 1
    scaled = apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 5}})
    assert scaled.metadata.generation == 2


def test_status_subresource(apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("web"))
    current = wait_status(apps, namespace, "web", lambda d: d.status.ready_replicas == 2)
    ignored = apps.patch_namespaced_deployment("web", namespace, {"status": {"readyReplicas": 99}})
    assert ignored.status.ready_replicas == 2
    current.spec.replicas = 7
    current.metadata.resource_version = None
    current.status.ready_replicas = 42
    replaced = apps.replace_namespaced_deployment("web", namespace, current)
    assert (replaced.spec.replicas, replaced.status.ready_replicas) == (7, 2)
    via_status = apps.patch_namespaced_deployment_status(
        "web",
        namespace,
        {
            "spec": {"replicas": 1},
            "metadata": {"labels": {"z": "z"}},
            "status": {"collisionCount": 3},
        },
    )
    assert via_status.status.collision_count == 3
    assert via_status.spec.replicas == 7
    assert "z" not in via_status.metadata.labels
    assert via_status.metadata.generation == replaced.metadata.generation


def test_scale_subresource(apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("web", replicas=2))
    wait_status(apps, namespace, "web", lambda d: d.status.replicas == 2)
    scale = apps.read_namespaced_deployment_scale("web", namespace)
    assert scale.status.replicas == 2
    assert (scale.kind, scale.api_version) == ("Scale", "autoscaling/v1")
    assert scale.spec.replicas == 2
    assert scale.status.selector == "app=web"
    patched = apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 4}})
    assert patched.spec.replicas == 4
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 4
    stale = scale
    stale.spec.replicas = 1
    with pytest.raises(ApiException) as error:
        apps.replace_namespaced_deployment_scale("web", namespace, stale)
    assert error.value.status == 409


def test_delete_collection_and_owner_garbage_collection(server, core, namespace):
    owner = core.create_namespaced_config_map(namespace, configmap("owner", {"set": "x"}))
    reference = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "owner",
        "uid": owner.metadata.uid,
    }
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "child", "ownerReferences": [reference]}}
    )
    core.delete_namespaced_config_map("owner", namespace)
    assert core.list_namespaced_config_map(namespace).items == []
    for name in ("a", "b", "c"):
        core.create_namespaced_config_map(namespace, configmap(name, {"set": name}))
    code, body = server.request(
        "DELETE", f"/api/v1/namespaces/{namespace}/configmaps?labelSelector=set+in+(a,b)"
    )
    assert (code, body["kind"], body["status"]) == (200, "Status", "Success")
    assert [c.metadata.name for c in core.list_namespaced_config_map(namespace).items] == ["c"]


def test_namespace_cascade(core, apps):
    core.create_namespace({"metadata": {"name": "cascade"}})
    core.create_namespaced_config_map("cascade", configmap("c1"))
    apps.create_namespaced_deployment("cascade", deployment("web"))
    core.delete_namespace("cascade")
    assert (
        core.list_config_map_for_all_namespaces(field_selector="metadata.namespace=cascade").items
        == []
    )
    assert (
        apps.list_deployment_for_all_namespaces(field_selector="metadata.namespace=cascade").items
        == []
    )


def test_watch_stream(core, namespace):
    core.create_namespaced_config_map(namespace, configmap("before"))
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.patch_namespaced_config_map("before", namespace, {"data": {"k": "2"}})
    core.create_namespaced_config_map(namespace, configmap("other", {"skip": "yes"}))
    core.delete_namespaced_config_map("before", namespace)
    events = [
        (event["type"], event["object"].metadata.name)
        for event in watch.Watch().stream(
            core.list_namespaced_config_map,
            namespace,
            resource_version=start,
            label_selector="!skip",
            timeout_seconds=1,
        )
    ]
    assert events == [("MODIFIED", "before"), ("DELETED", "before")]
    began = time.monotonic()
    initial = [
        (event["type"], event["object"].metadata.name)
        for event in watch.Watch().stream(
            core.list_namespaced_config_map, namespace, timeout_seconds=1
        )
    ]
    assert initial == [("ADDED", "other")]
    assert 0.9 < time.monotonic() - began < 3


def test_watch_selector_transitions(server, core, namespace):
    core.create_namespaced_config_map(namespace, configmap("c1", {"track": "canary"}))
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.patch_namespaced_config_map("c1", namespace, {"metadata": {"labels": {"track": "x"}}})
    core.patch_namespaced_config_map("c1", namespace, {"metadata": {"labels": {"track": "canary"}}})
    stream = watch.Watch().stream(
        core.list_namespaced_config_map,
        namespace,
        resource_version=start,
        label_selector="track=canary",
        timeout_seconds=1,
        allow_watch_bookmarks=True,
    )
    assert [event["type"] for event in stream] == ["DELETED", "ADDED"]


def test_dynamic_client_custom_resources(dynamic, namespace):
    routes = dynamic.resources.get(api_version="gateway.networking.k8s.io/v1", kind="HTTPRoute")
    body = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "rules": [
                {"backendRefs": [{"name": "stable", "weight": 95}, {"name": "canary", "weight": 5}]}
            ]
        },
    }
    routes.create(body=body, namespace=namespace)
    patched = routes.patch(
        name="web",
        namespace=namespace,
        content_type="application/json-patch+json",
        body=[
            {"op": "replace", "path": "/spec/rules/0/backendRefs/1/weight", "value": 20},
            {
                "op": "copy",
                "from": "/spec/rules/0/backendRefs/1/weight",
                "path": "/metadata/labels",
            },
            {"op": "remove", "path": "/metadata/labels"},
            {"op": "add", "path": "/metadata/annotations", "value": {"w": "20"}},
            {"op": "move", "from": "/metadata/annotations/w", "path": "/metadata/annotations/x"},
            {"op": "test", "path": "/spec/rules/0/backendRefs/0/weight", "value": 95},
        ],
    )
    assert [ref["weight"] for ref in patched.spec.rules[0].backendRefs] == [95, 20]
    assert patched.metadata.annotations.to_dict() == {"x": "20"}
    body["spec"]["rules"][0]["backendRefs"][1]["weight"] = 50
    applied = routes.server_side_apply(
        body=body, name="web", namespace=namespace, field_manager="test", force_conflicts=True
    )
    assert [ref["weight"] for ref in applied.spec.rules[0].backendRefs] == [95, 50]
    listed = routes.get(namespace=namespace)
    assert (listed.kind, [i.metadata.name for i in listed.items]) == ("HTTPRouteList", ["web"])
    routes.delete(name="web", namespace=namespace)
    assert routes.get(namespace=namespace).items == []


def test_server_side_apply_creates_then_merges(dynamic, namespace):
    configmaps = dynamic.resources.get(api_version="v1", kind="ConfigMap")
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "ssa", "namespace": namespace},
        "data": {"a": "1"},
    }
    created = configmaps.server_side_apply(
        body=body, name="ssa", namespace=namespace, field_manager="test"
    )
    assert created.metadata.generation == 1
    body["data"] = {"b": "2"}
    merged = configmaps.server_side_apply(
        body=body, name="ssa", namespace=namespace, field_manager="test"
    )
    assert dict(merged.data) == {"a": "1", "b": "2"}


def test_typed_client_types_round_trip(core, namespace):
    lease_api = client.CoordinationV1Api(core.api_client)
    lease = lease_api.create_namespaced_lease(
        namespace,
        {
            "metadata": {"name": "release-lock"},
            "spec": {"holderIdentity": "runner-1", "leaseDurationSeconds": 30},
        },
    )
    assert lease.spec.holder_identity == "runner-1"
