"""The table of served resources: adding a resource is one entry in RESOURCES.

Everything else (discovery, routing, storage keys, error messages) is derived
from these entries, so the server cannot serve a resource it does not describe.
"""

from dataclasses import dataclass

VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Resource:
    """One REST resource, described the way discovery describes it."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple = ()
    categories: tuple = ()
    # Has a /status subresource: main-resource writes keep .status, /status writes only .status.
    status: bool = False
    # Has a /scale subresource (autoscaling/v1 Scale over spec.replicas).
    scale: bool = False
    # Served from a CustomResourceDefinition in a real cluster: no strategic merge patch.
    custom: bool = False
    # Field selectors this resource supports besides metadata.name and metadata.namespace.
    fields: tuple = ()

    @property
    def api_version(self):
        """The apiVersion written in objects: "v1" for the core group, "group/version" otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self):
        return self.kind.lower()

    @property
    def qualified(self):
        """The name used in error messages, e.g. ``deployments.apps`` or ``configmaps``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


EVENT_FIELDS = (
    "involvedObject.kind",
    "involvedObject.name",
    "involvedObject.namespace",
    "involvedObject.uid",
    "reason",
    "type",
)

RESOURCES = (
    Resource(
        "", "v1", "namespaces", "Namespace", namespaced=False, short_names=("ns",), status=True
    ),
    Resource("", "v1", "configmaps", "ConfigMap", short_names=("cm",)),
    Resource(
        "", "v1", "services", "Service", short_names=("svc",), categories=("all",), status=True
    ),
    Resource("", "v1", "endpoints", "Endpoints", short_names=("ep",)),
    Resource(
        "",
        "v1",
        "pods",
        "Pod",
        short_names=("po",),
        categories=("all",),
        status=True,
        fields=("spec.nodeName", "status.phase"),
    ),
    Resource("", "v1", "secrets", "Secret"),
    Resource("", "v1", "events", "Event", short_names=("ev",), fields=EVENT_FIELDS),
    Resource("", "v1", "serviceaccounts", "ServiceAccount", short_names=("sa",)),
    Resource(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        short_names=("deploy",),
        categories=("all",),
        status=True,
        scale=True,
    ),
    Resource(
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        short_names=("rs",),
        categories=("all",),
        status=True,
        scale=True,
    ),
    Resource("networking.k8s.io", "v1", "ingresses", "Ingress", short_names=("ing",), status=True),
    Resource("coordination.k8s.io", "v1", "leases", "Lease"),
    Resource(
        "gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute", status=True, custom=True
    ),
    Resource(
        "gateway.networking.k8s.io",
        "v1",
        "gateways",
        "Gateway",
        short_names=("gtw",),
        status=True,
        custom=True,
    ),
    Resource(
        "networking.istio.io",
        "v1",
        "virtualservices",
        "VirtualService",
        short_names=("vs",),
        status=True,
        custom=True,
    ),
    Resource(
        "networking.istio.io",
        "v1",
        "destinationrules",
        "DestinationRule",
        short_names=("dr",),
        status=True,
        custom=True,
    ),
    Resource("route.openshift.io", "v1", "routes", "Route", status=True),
    Resource(
        "monitoring.coreos.com",
        "v1",
        "prometheusrules",
        "PrometheusRule",
        short_names=("promrule",),
        custom=True,
    ),
    Resource(
        "monitoring.coreos.com",
        "v1",
        "servicemonitors",
        "ServiceMonitor",
        short_names=("smon",),
        custom=True,
    ),
)

NAMESPACES = RESOURCES[0]


def group_versions():
    """Return the served (group, version) pairs in table order, without duplicates."""
    return list(dict.fromkeys((r.group, r.version) for r in RESOURCES))


def in_group_version(group, version):
    """Return the resources of one group/version."""
    return [r for r in RESOURCES if r.group == group and r.version == version]


def lookup(group, version, plural):
    """Return the resource for a URL segment, or None when it is not served."""
    for resource in RESOURCES:
        if (resource.group, resource.version, resource.plural) == (group, version, plural):
            return resource
    return None
