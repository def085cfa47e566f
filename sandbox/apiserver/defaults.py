"""Defaults the real API server fills in and that clients rely on.

Only defaults someone reads are here: Deployment replicas and strategy (kubectl
rollout status and kubernetes.core waits read them), the Service type and cluster IP,
the Namespace phase. Pod template fields are not defaulted, so the pod-template hash the
sandbox kubelet computes from a stored Deployment is the hash of what the user wrote.
"""

import ipaddress
import itertools

_SERVICE_NETWORK = ipaddress.ip_network("10.96.0.0/12")


class ClusterIPs:
    """Hands out Service cluster IPs from 10.96.0.0/12 (.1 is the kubernetes Service)."""

    def __init__(self):
        self._next = itertools.count(10)

    def allocate(self):
        return str(_SERVICE_NETWORK[next(self._next)])


def initial_status(resource, obj):
    """The status an object starts with when it has a status subresource."""
    if resource.kind == "Namespace":
        return {"phase": "Active"}
    if resource.kind == "Pod":
        return {"phase": "Pending"}
    if resource.kind == "Service":
        return {"loadBalancer": {}}
    return {}


def apply_defaults(resource, obj, old, cluster_ips):
    """Fill defaults into ``obj`` in place; ``old`` is the stored object on updates."""
    metadata = obj["metadata"]
    if resource.kind == "Namespace":
        metadata.setdefault("labels", {})["kubernetes.io/metadata.name"] = metadata["name"]
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    elif resource.kind in ("Deployment", "ReplicaSet"):
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        if resource.kind == "Deployment":
            _deployment_defaults(spec)
    elif resource.kind == "Service":
        old_spec = (old or {}).get("spec") or {}
        _service_defaults(obj.setdefault("spec", {}), old_spec, cluster_ips)


def _deployment_defaults(spec):
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxSurge", "25%")
        rolling.setdefault("maxUnavailable", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)


def _service_defaults(spec, old_spec, cluster_ips):
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
    if spec["type"] == "ExternalName":
        return
    # Like the real registry, an update that leaves the cluster IP out keeps the allocated one.
    spec.setdefault("clusterIP", old_spec.get("clusterIP") or cluster_ips.allocate())
    spec.setdefault("clusterIPs", [spec["clusterIP"]])
    if spec["clusterIP"] != "None":
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
