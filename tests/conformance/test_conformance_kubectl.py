"""kubectl 1.32 against the server: the commands the project and its operators use."""

import json
import re
import subprocess
import time

import yaml

from .conftest import deployment

CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: traffic-config
  namespace: {namespace}
  labels: {{app: web}}
data:
  canary_percentage: "{weight}"
"""


def get_json(server, *args):
    return json.loads(server.kubectl("get", *args, "-o", "json").stdout)


def test_create_and_get_sets_system_metadata(server, namespace):
    result = server.kubectl(
        "create", "-f", "-", stdin=CONFIGMAP.format(namespace=namespace, weight=5)
    )
    assert result.stdout == "configmap/traffic-config created\n"
    obj = get_json(server, "-n", namespace, "cm", "traffic-config")
    metadata = obj["metadata"]
    assert obj["data"] == {"canary_percentage": "5"}
    assert metadata["generation"] == 1
    assert metadata["resourceVersion"].isdigit()
    assert re.fullmatch(r"[0-9a-f-]{36}", metadata["uid"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", metadata["creationTimestamp"])


def test_error_messages(server, namespace):
    manifest = CONFIGMAP.format(namespace=namespace, weight=5)
    server.kubectl("create", "-f", "-", stdin=manifest)
    again = server.kubectl("create", "-f", "-", stdin=manifest, check=False)
    assert again.returncode == 1
    assert again.stderr.strip() == (
        'Error from server (AlreadyExists): error when creating "STDIN": '
        'configmaps "traffic-config" already exists'
    )
    missing_ns = server.kubectl(
        "create", "-f", "-", stdin=CONFIGMAP.format(namespace="nowhere", weight=5), check=False
    )
    assert missing_ns.stderr.strip() == (
        'Error from server (NotFound): error when creating "STDIN": namespaces "nowhere" not found'
    )
    missing = server.kubectl("get", "-n", namespace, "deploy", "ghost", check=False)
    assert (
        missing.stderr.strip() == 'Error from server (NotFound): deployments.apps "ghost" not found'
    )


def test_invalid_name_is_rejected(server, namespace):
    manifest = CONFIGMAP.format(namespace=namespace, weight=5).replace("traffic-config", "Bad_Name")
    result = server.kubectl("create", "-f", "-", stdin=manifest, check=False)
    assert result.returncode == 1
    assert (
        'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"' in result.stderr
    )


def test_apply_creates_then_configures(server, namespace):
    first = server.kubectl(
        "apply", "-f", "-", stdin=CONFIGMAP.format(namespace=namespace, weight=5)
    )
    assert first.stdout == "configmap/traffic-config created\n"
    same = server.kubectl("apply", "-f", "-", stdin=CONFIGMAP.format(namespace=namespace, weight=5))
    assert same.stdout == "configmap/traffic-config unchanged\n"
    changed = server.kubectl(
        "apply", "-f", "-", stdin=CONFIGMAP.format(namespace=namespace, weight=20)
    )
    assert changed.stdout == "configmap/traffic-config configured\n"
    obj = get_json(server, "-n", namespace, "cm", "traffic-config")
    assert obj["data"] == {"canary_percentage": "20"}
    applied = json.loads(
        obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    )
    assert applied["data"] == {"canary_percentage": "20"}


def test_apply_deployment_change_keeps_other_container(server, namespace):
    manifest = deployment("web")
    server.kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(manifest))
    manifest["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2.0"
    del manifest["spec"]["template"]["spec"]["containers"][1]
    manifest["spec"]["template"]["spec"]["containers"].append({"name": "logger", "image": "l:1"})
    server.kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(manifest))
    obj = get_json(server, "-n", namespace, "deploy", "web")
    containers = obj["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [
        ("app", "nginx:2.0"),
        ("logger", "l:1"),
    ]
    assert obj["metadata"]["generation"] == 2


def test_patch_types(server, namespace):
    server.kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(deployment("web")))
    server.kubectl(
        "patch",
        "-n",
        namespace,
        "deploy",
        "web",
        "--type",
        "merge",
        "-p",
        '{"metadata":{"labels":{"track":"stable"}}}',
    )
    server.kubectl(
        "patch",
        "-n",
        namespace,
        "deploy",
        "web",
        "--type",
        "json",
        "-p",
        '[{"op":"replace","path":"/spec/replicas","value":4}]',
    )
    server.kubectl(
        "patch",
        "-n",
        namespace,
        "deploy",
        "web",
        "--type",
        "strategic",
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"n:3"}]}}}}',
    )
    obj = get_json(server, "-n", namespace, "deploy", "web")
    assert obj["metadata"]["labels"] == {"app": "web", "track": "stable"}
    assert obj["spec"]["replicas"] == 4
    containers = obj["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [
        ("app", "n:3"),
        ("sidecar", "proxy:1.0"),
    ]
    failed = server.kubectl(
        "patch",
        "-n",
        namespace,
        "deploy",
        "web",
        "--type",
        "json",
        "-p",
        '[{"op":"test","path":"/spec/replicas","value":1}]',
        check=False,
    )
    assert failed.returncode == 1
    assert "testing value /spec/replicas failed" in failed.stderr


def test_strategic_patch_of_custom_resource_is_unsupported(server, namespace):
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web"},
        "spec": {"rules": [{"backendRefs": [{"name": "web", "port": 80, "weight": 100}]}]},
    }
    server.kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(route))
    result = server.kubectl(
        "patch",
        "-n",
        namespace,
        "httproute",
        "web",
        "-p",
        '{"metadata":{"labels":{"a":"b"}}}',
        check=False,
    )
    assert result.stderr.startswith(
        "error: application/strategic-merge-patch+json is not supported by "
        "gateway.networking.k8s.io/v1, Kind=HTTPRoute"
    )
    server.kubectl(
        "patch",
        "-n",
        namespace,
        "httproute",
        "web",
        "--type",
        "merge",
        "-p",
        '{"metadata":{"labels":{"a":"b"}}}',
    )
    assert get_json(server, "-n", namespace, "httproute", "web")["metadata"]["labels"] == {"a": "b"}


def test_replace_with_stale_resource_version_conflicts(server, namespace):
    server.kubectl("create", "-f", "-", stdin=CONFIGMAP.format(namespace=namespace, weight=5))
    stale = get_json(server, "-n", namespace, "cm", "traffic-config")
    server.kubectl(
        "patch",
        "-n",
        namespace,
        "cm",
        "traffic-config",
        "--type",
        "merge",
        "-p",
        '{"data":{"canary_percentage":"50"}}',
    )
    result = server.kubectl("replace", "-f", "-", stdin=json.dumps(stale), check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("Error from server (Conflict)")
    assert "the object has been modified" in result.stderr
    del stale["metadata"]["resourceVersion"]
    server.kubectl("replace", "-f", "-", stdin=json.dumps(stale))
    assert get_json(server, "-n", namespace, "cm", "traffic-config")["data"] == {
        "canary_percentage": "5"
    }


def test_scale_and_rollout_status(server, namespace):
    server.kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(deployment("web")))
    rollout = server.kubectl("rollout", "status", "-n", namespace, "deploy/web", "--timeout=10s")
    assert rollout.stdout.strip().endswith('deployment "web" successfully rolled out')
    scaled = server.kubectl("scale", "-n", namespace, "deploy/web", "--replicas=3")
    assert scaled.stdout == "deployment.apps/web scaled\n"
    server.kubectl("rollout", "status", "-n", namespace, "deploy/web", "--timeout=10s")
    status = get_json(server, "-n", namespace, "deploy", "web")["status"]
    assert (status["replicas"], status["readyReplicas"], status["updatedReplicas"]) == (3, 3, 3)


def test_rollout_status_times_out_while_held(server, namespace):
    manifest = deployment("held", annotations={"sandbox.canary.io/hold-rollout": "true"})
    server.kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(manifest))
    result = server.kubectl(
        "rollout", "status", "-n", namespace, "deploy/held", "--timeout=2s", check=False
    )
    assert result.returncode == 1
    assert "timed out waiting for the condition" in result.stderr
    server.kubectl("annotate", "-n", namespace, "deploy/held", "sandbox.canary.io/hold-rollout-")
    server.kubectl("rollout", "status", "-n", namespace, "deploy/held", "--timeout=10s")


def test_get_watch_prints_changes(server, namespace):
    server.kubectl("create", "-f", "-", stdin=CONFIGMAP.format(namespace=namespace, weight=5))
    watcher = subprocess.Popen(
        [
            "kubectl",
            "--kubeconfig",
            str(server.kubeconfig),
            "--cache-dir",
            str(server.workdir / "kube-cache"),
            "get",
            "-n",
            namespace,
            "cm",
            "-w",
            "--request-timeout=3s",
            "-o",
            "custom-columns=NAME:.metadata.name,W:.data.canary_percentage",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1)
    server.kubectl(
        "patch",
        "-n",
        namespace,
        "cm",
        "traffic-config",
        "--type",
        "merge",
        "-p",
        '{"data":{"canary_percentage":"20"}}',
    )
    out, _ = watcher.communicate(timeout=10)
    assert out.split("\n")[1:3] == ["traffic-config   5", "traffic-config   20"]


def test_delete_and_namespace_cascade(server):
    server.kubectl(
        "apply", "-f", "-", stdin="apiVersion: v1\nkind: Namespace\nmetadata: {name: doomed}\n"
    )
    server.kubectl("create", "-f", "-", stdin=CONFIGMAP.format(namespace="doomed", weight=5))
    deleted = server.kubectl("delete", "-n", "doomed", "cm", "traffic-config")
    assert deleted.stdout == 'configmap "traffic-config" deleted\n'
    server.kubectl("create", "-f", "-", stdin=CONFIGMAP.format(namespace="doomed", weight=5))
    server.kubectl("delete", "namespace", "doomed")
    result = server.kubectl("get", "-n", "doomed", "cm", "traffic-config", check=False)
    # kubectl 1.32 looks the namespace up itself when a get in it fails.
    assert result.stderr.strip() == 'Error from server (NotFound): namespaces "doomed" not found'
    code, body = server.request("GET", "/api/v1/namespaces/doomed/configmaps")
    assert (code, body["items"]) == (200, [])
