"""What the kubelet publishes about its pods: Endpoints objects and Prometheus targets.

On a real cluster the endpoints controller fills Endpoints and Prometheus discovers
pods through the API. Here every pod is a process on 127.0.0.1 with its own port, so
each ready pod becomes one Endpoints subset (its port differs from the others) and one
file_sd target.
"""

import json
import os
import tempfile


def selector_matches(selector, labels):
    """A Service selector matches when every key/value is among the pod's labels."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def endpoint_subsets(service, pods):
    """One subset per ready pod the Service selects, with that pod's own port."""
    selector = service.get("spec", {}).get("selector") or {}
    ports = service.get("spec", {}).get("ports") or [{}]
    subsets = []
    for pod in sorted(pods, key=lambda p: p.name):
        if not (pod.ready and selector_matches(selector, pod.labels)):
            continue
        address = {
            "ip": "127.0.0.1",
            "targetRef": {
                "kind": "Pod",
                "name": pod.name,
                "namespace": pod.namespace,
                "uid": pod.uid,
            },
        }
        port = {"port": pod.port, "protocol": "TCP"}
        if ports[0].get("name"):
            port["name"] = ports[0]["name"]
        subsets.append({"addresses": [address], "ports": [port]})
    return subsets


def endpoints_object(service, pods):
    meta = service["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "labels": dict(meta.get("labels") or {}),
        },
        "subsets": endpoint_subsets(service, pods),
    }


def file_sd_targets(pods):
    """Prometheus file_sd groups: one target per ready pod, labelled for the analysis."""
    groups = []
    for pod in sorted(pods, key=lambda p: p.name):
        if not pod.ready:
            continue
        labels = {
            "namespace": pod.namespace,
            "pod": pod.name,
            "deployment": pod.deployment,
            "track": pod.labels.get("track", ""),
            "version": pod.version,
        }
        groups.append({"targets": [f"127.0.0.1:{pod.port}"], "labels": labels})
    return groups


def write_atomically(path, data):
    """Write JSON through a temporary file and rename, so readers never see half a file."""
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json.part")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
