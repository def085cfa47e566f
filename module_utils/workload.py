"""Derive the canary Deployment and Service from the stable ones.

The canary runs the stable workload's exact pod spec with only the image of
one container changed, so that a difference in the metrics can only come from
the new version. Its pods carry ``track: canary`` so the canary Service,
the router and Prometheus can tell them apart from stable pods.

Pure functions on dicts: used by the filter plugin (roles) and the tests.
"""

import copy

TRACK_LABEL = "track"
MANAGED_BY = {"app.kubernetes.io/managed-by": "canary-runbooks"}
# Server-owned metadata that must not be copied into a new object.
_SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
    "ownerReferences",
    "deletionTimestamp",
)
_SERVER_ANNOTATIONS = (
    "deployment.kubernetes.io/revision",
    "kubectl.kubernetes.io/last-applied-configuration",
)


def _clean_metadata(metadata, name, namespace):
    clean = {k: v for k, v in copy.deepcopy(metadata or {}).items() if k not in _SERVER_METADATA}
    clean["name"] = name
    clean["namespace"] = namespace
    annotations = {
        k: v for k, v in (clean.get("annotations") or {}).items() if k not in _SERVER_ANNOTATIONS
    }
    if annotations:
        clean["annotations"] = annotations
    else:
        clean.pop("annotations", None)
    clean["labels"] = {**(clean.get("labels") or {}), TRACK_LABEL: "canary", **MANAGED_BY}
    return clean


def target_container(pod_spec, container=None):
    """Return the container the release changes: the named one, else the first."""
    containers = pod_spec["containers"]
    if container:
        for candidate in containers:
            if candidate["name"] == container:
                return candidate
        raise KeyError(f"no container named {container!r}")
    return containers[0]


def container_image(deployment, container=None):
    return target_container(deployment["spec"]["template"]["spec"], container)["image"]


def canary_deployment(stable, namespace, name, image, replicas, container=None):
    """The canary Deployment: stable's pod spec with the new image, labelled track=canary."""
    spec = copy.deepcopy(stable["spec"])
    spec.pop("paused", None)
    spec["replicas"] = replicas
    selector = spec.setdefault("selector", {}).setdefault("matchLabels", {})
    selector[TRACK_LABEL] = "canary"
    template = spec["template"]
    template.setdefault("metadata", {})
    template["metadata"]["labels"] = {
        **(template["metadata"].get("labels") or {}),
        TRACK_LABEL: "canary",
    }
    target_container(template["spec"], container)["image"] = image
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _clean_metadata(stable.get("metadata"), name, namespace),
        "spec": spec,
    }


def canary_service(stable, namespace, name):
    """The canary Service: stable's ports, selecting only canary pods."""
    spec = copy.deepcopy(stable["spec"])
    for server_field in (
        "clusterIP",
        "clusterIPs",
        "externalIPs",
        "loadBalancerIP",
        "healthCheckNodePort",
    ):
        spec.pop(server_field, None)
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        spec["type"] = "ClusterIP"
        for port in spec.get("ports", []):
            port.pop("nodePort", None)
    spec["selector"] = {**(spec.get("selector") or {}), TRACK_LABEL: "canary"}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _clean_metadata(stable.get("metadata"), name, namespace),
        "spec": spec,
    }
