"""Derive the canary Namespace, Deployment and Service from the stable ones.

The canary runs the stable workload's exact pod spec with only the image of
one container changed, so that a difference in the metrics can only come from
the new version. Its pods carry ``track: canary`` so the canary Service,
the router and Prometheus can tell them apart from stable pods. A canary
namespace of its own carries the stable namespace's admission labels, so its
pods are admitted and given sidecars as stable's are.

Pure functions on dicts: used by the filter plugin (roles) and the tests.
"""

import copy

TRACK_LABEL = "track"
MANAGED_BY = {"app.kubernetes.io/managed-by": "canary-runbooks"}
# Labels that would make Helm or Argo CD treat the canary as theirs (and prune it).
_OWNERSHIP_LABELS = ("app.kubernetes.io/instance", "helm.sh/chart", "argocd.argoproj.io/instance")
# The namespace labels admission decides by: Pod Security Admission's levels and
# versions, and Istio's sidecar injection (by label or revision) and ambient mode.
ADMISSION_LABELS = (
    "pod-security.kubernetes.io/enforce",
    "pod-security.kubernetes.io/enforce-version",
    "pod-security.kubernetes.io/audit",
    "pod-security.kubernetes.io/audit-version",
    "pod-security.kubernetes.io/warn",
    "pod-security.kubernetes.io/warn-version",
    "istio-injection",
    "istio.io/rev",
    "istio.io/dataplane-mode",
)
# Fields a ClusterIP Service must not carry.
_EXTERNAL_SERVICE_FIELDS = (
    "clusterIP",
    "clusterIPs",
    "externalIPs",
    "loadBalancerIP",
    "healthCheckNodePort",
    "externalTrafficPolicy",
    "loadBalancerSourceRanges",
    "loadBalancerClass",
    "allocateLoadBalancerNodePorts",
)


def _canary_metadata(metadata, name, namespace):
    """Name, namespace and the stable object's labels; no annotations (tools keep state there)."""
    labels = {
        key: value
        for key, value in ((metadata or {}).get("labels") or {}).items()
        if key not in _OWNERSHIP_LABELS
    }
    return {
        "name": name,
        "namespace": namespace,
        "labels": {**labels, TRACK_LABEL: "canary", **MANAGED_BY},
    }


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
    selector = spec.setdefault("selector", {})
    selector.setdefault("matchLabels", {})[TRACK_LABEL] = "canary"
    # A stable expression on the track (``track In (stable)``) would refuse canary pods:
    # the API server rejects a selector that does not match the template's labels.
    expressions = [
        term for term in selector.get("matchExpressions") or [] if term.get("key") != TRACK_LABEL
    ]
    if expressions:
        selector["matchExpressions"] = expressions
    else:
        selector.pop("matchExpressions", None)
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
        "metadata": _canary_metadata(stable.get("metadata"), name, namespace),
        "spec": spec,
    }


def canary_service(stable, namespace, name):
    """The canary Service: stable's ports, selecting only canary pods."""
    spec = copy.deepcopy(stable["spec"])
    for field in _EXTERNAL_SERVICE_FIELDS:
        spec.pop(field, None)
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        spec["type"] = "ClusterIP"
        for port in spec.get("ports", []):
            port.pop("nodePort", None)
    spec["selector"] = {**(spec.get("selector") or {}), TRACK_LABEL: "canary"}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _canary_metadata(stable.get("metadata"), name, namespace),
        "spec": spec,
    }


def canary_namespace(stable, name):
    """The canary Namespace: the stable Namespace's admission labels, labelled as ours.

    Only a namespace prepare created carries the label, and only such a one finalize removes.
    """
    labels = (stable.get("metadata") or {}).get("labels") or {}
    admission = {key: labels[key] for key in ADMISSION_LABELS if key in labels}
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {**admission, **MANAGED_BY}},
    }


def referenced_objects(pod_spec):
    """The namespaced objects a pod spec needs: ``[(kind, name)]``, sorted.

    A canary in its own namespace only starts when these exist there too.
    """
    found = set()
    if pod_spec.get("serviceAccountName") not in (None, "", "default"):
        found.add(("ServiceAccount", pod_spec["serviceAccountName"]))
    for secret in pod_spec.get("imagePullSecrets") or []:
        found.add(("Secret", secret["name"]))
    for volume in pod_spec.get("volumes") or []:
        if "configMap" in volume:
            found.add(("ConfigMap", volume["configMap"]["name"]))
        if "secret" in volume:
            found.add(("Secret", volume["secret"]["secretName"]))
        if "persistentVolumeClaim" in volume:
            found.add(("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]))
    for container in [*(pod_spec.get("initContainers") or []), *pod_spec["containers"]]:
        for source in container.get("envFrom") or []:
            for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if key in source and not source[key].get("optional"):
                    found.add((kind, source[key]["name"]))
        for env in container.get("env") or []:
            value_from = env.get("valueFrom") or {}
            for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                if key in value_from and not value_from[key].get("optional"):
                    found.add((kind, value_from[key]["name"]))
    return sorted(found)
