"""A minimal Kubernetes REST client for the sandbox's own processes.

The node agent, the router and ``sandbox up`` only need a handful of calls against the
sandbox's API server. Plain ``requests`` keeps their start-up fast and their memory
small compared with the full kubernetes client. ``Client.from_kubeconfig`` reads the
kubeconfigs the control plane writes (a CA file, a client certificate or a token).

The router also runs in a real cluster (the kind scenario): ``Client.in_cluster()``
talks to that cluster's API server over TLS as the pod's service account.
"""

import os

import requests
import yaml

# Where Kubernetes mounts a pod's service account token and the cluster's CA.
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

# kind -> (API group/version prefix, plural, namespaced)
KINDS = {
    "Namespace": ("/api/v1", "namespaces", False),
    "Pod": ("/api/v1", "pods", True),
    "Service": ("/api/v1", "services", True),
    "ConfigMap": ("/api/v1", "configmaps", True),
    "ResourceQuota": ("/api/v1", "resourcequotas", True),
    "Deployment": ("/apis/apps/v1", "deployments", True),
    "Lease": ("/apis/coordination.k8s.io/v1", "leases", True),
    "Node": ("/api/v1", "nodes", False),
    "ServiceAccount": ("/api/v1", "serviceaccounts", True),
    "EndpointSlice": ("/apis/discovery.k8s.io/v1", "endpointslices", True),
    "ReplicaSet": ("/apis/apps/v1", "replicasets", True),
    "CustomResourceDefinition": (
        "/apis/apiextensions.k8s.io/v1",
        "customresourcedefinitions",
        False,
    ),
    "ClusterRole": ("/apis/rbac.authorization.k8s.io/v1", "clusterroles", False),
    "ClusterRoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
    "Role": ("/apis/rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "rolebindings", True),
    "ReferenceGrant": ("/apis/gateway.networking.k8s.io/v1beta1", "referencegrants", True),
    "GatewayClass": ("/apis/gateway.networking.k8s.io/v1", "gatewayclasses", False),
    "DestinationRule": ("/apis/networking.istio.io/v1", "destinationrules", True),
    "PrometheusRule": ("/apis/monitoring.coreos.com/v1", "prometheusrules", True),
    # The traffic objects the router reads, one kind per provider.
    "Ingress": ("/apis/networking.k8s.io/v1", "ingresses", True),
    "Gateway": ("/apis/gateway.networking.k8s.io/v1", "gateways", True),
    "HTTPRoute": ("/apis/gateway.networking.k8s.io/v1", "httproutes", True),
    "VirtualService": ("/apis/networking.istio.io/v1", "virtualservices", True),
    "Route": ("/apis/route.openshift.io/v1", "routes", True),
}


class ApiError(Exception):
    """The API server answered with an error status."""

    def __init__(self, status, message):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


def path(kind, namespace=None, name=None, subresource=None):
    """Return the REST path of a kind, one object of it, or its subresource.

    Without a namespace, a namespaced kind gives the list across all namespaces.
    """
    prefix, plural, namespaced = KINDS[kind]
    parts = [prefix]
    if namespaced and namespace:
        parts += ["namespaces", namespace]
    parts.append(plural)
    if name:
        parts.append(name)
    if subresource:
        parts.append(subresource)
    return "/".join(parts)


class Client:
    """CRUD on the sandbox API server; every error surfaces as ``ApiError``.

    Connections are kept alive: a TLS handshake per call would cost more than the call.
    """

    def __init__(self, server, timeout=5.0, token_path=None, ca_path=None, cert=None, token=None):
        self.server = server.rstrip("/")
        self.timeout = timeout
        self.token_path = token_path
        self.token = token
        self.verify = ca_path or True
        self.cert = cert
        self._http = requests.Session()

    @classmethod
    def from_kubeconfig(cls, path, timeout=5.0):
        """The current context's cluster and user of a kubeconfig written with file paths."""
        with open(path) as handle:
            config = yaml.safe_load(handle)
        context = _named(config, "contexts", config["current-context"])["context"]
        cluster = _named(config, "clusters", context["cluster"])["cluster"]
        user = _named(config, "users", context["user"])["user"]
        cert = user.get("client-certificate"), user.get("client-key")
        return cls(
            cluster["server"],
            timeout,
            ca_path=cluster.get("certificate-authority"),
            cert=cert if all(cert) else None,
            token=user.get("token"),
        )

    @classmethod
    def in_cluster(cls, timeout=5.0, environ=None, account_dir=SERVICE_ACCOUNT_DIR):
        """The API server of the cluster this pod runs in, as the pod's service account."""
        environ = os.environ if environ is None else environ
        host = environ.get("KUBERNETES_SERVICE_HOST")
        port = environ.get("KUBERNETES_SERVICE_PORT")
        if not host or not port:
            raise ValueError(
                "in-cluster access needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, "
                "which Kubernetes sets in every pod"
            )
        host = f"[{host}]" if ":" in host else host
        return cls(
            f"https://{host}:{port}",
            timeout,
            token_path=os.path.join(account_dir, "token"),
            ca_path=os.path.join(account_dir, "ca.crt"),
        )

    def request(self, method, url_path, body=None, params=None, content_type=None):
        headers = {"Content-Type": content_type} if content_type else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.token_path:
            # Read at every call: the kubelet rotates a projected token in place.
            with open(self.token_path) as handle:
                headers["Authorization"] = f"Bearer {handle.read().strip()}"
        response = self._http.request(
            method,
            self.server + url_path,
            json=body,
            params=params,
            headers=headers,
            timeout=self.timeout,
            verify=self.verify,
            cert=self.cert,
        )
        if response.status_code >= 400:
            try:
                message = response.json().get("message") or response.text
            except ValueError:
                message = response.text
            raise ApiError(response.status_code, message[:2000])
        return response.json() if response.content else {}

    def get(self, kind, namespace, name):
        """Return the object, or None when it does not exist."""
        try:
            return self.request("GET", path(kind, namespace, name))
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def list(self, kind, namespace=None, label_selector=None, field_selector=None):
        params = {
            key: value
            for key, value in (("labelSelector", label_selector), ("fieldSelector", field_selector))
            if value
        }
        return self.request("GET", path(kind, namespace), params=params).get("items") or []

    def create(self, obj):
        meta = obj["metadata"]
        return self.request("POST", path(obj["kind"], meta.get("namespace")), body=obj)

    def replace(self, obj):
        meta = obj["metadata"]
        return self.request("PUT", path(obj["kind"], meta.get("namespace"), meta["name"]), obj)

    def apply(self, obj):
        """Create the object, or replace what is there (keeping its resourceVersion)."""
        try:
            return self.create(obj)
        except ApiError as error:
            if error.status != 409:
                raise
        meta = obj["metadata"]
        current = self.get(obj["kind"], meta.get("namespace"), meta["name"])
        version = current["metadata"]["resourceVersion"]
        return self.replace({**obj, "metadata": {**meta, "resourceVersion": version}})

    def merge_patch(self, kind, namespace, name, patch, subresource=None):
        return self.request(
            "PATCH",
            path(kind, namespace, name, subresource),
            body=patch,
            content_type="application/merge-patch+json",
        )

    def strategic_merge_patch(self, kind, namespace, name, patch, subresource=None):
        return self.request(
            "PATCH",
            path(kind, namespace, name, subresource),
            body=patch,
            content_type="application/strategic-merge-patch+json",
        )

    def delete(self, kind, namespace, name, options=None):
        """Delete the object (``options``: DeleteOptions); what is already gone is no error."""
        try:
            return self.request("DELETE", path(kind, namespace, name), body=options)
        except ApiError as error:
            if error.status == 404:
                return None
            raise


def _named(config, section, name):
    for entry in config.get(section) or []:
        if entry.get("name") == name:
            return entry
    raise ValueError(f"kubeconfig has no {section[:-1]} named {name!r}")
