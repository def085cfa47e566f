"""The objects of a release in the real API server: namespaces, the stable frontend, the spec."""

import uuid

from ansible.module_utils.spec import validate_release

from tests.bad_specs import merged


def stable_deployment(namespace, replicas=2, labels=None):
    labels = labels or {"app": "frontend", "track": "stable"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "frontend-deployment", "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "frontend", "image": "frontend:1.0.0"}]},
            },
        },
    }


def stable_service(namespace, selector=None):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "frontend", "namespace": namespace},
        "spec": {
            "selector": selector or {"app": "frontend", "track": "stable"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }


class Release:
    """A stable namespace with the frontend, its canary namespace, and spec helpers."""

    def __init__(self, cluster):
        suffix = uuid.uuid4().hex[:6]
        self.cluster = cluster
        self.namespace = f"shop-{suffix}"
        self.canary_namespace = f"shop-{suffix}-canary"

    def create_namespaces(self, *names):
        for name in names or (self.namespace, self.canary_namespace):
            self.cluster.create(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
            )

    def spec(self, provider, options=None, **change):
        """The completed release spec of the good spec with this provider."""
        raw = merged(
            {
                "namespace": self.namespace,
                "canary_namespace": self.canary_namespace,
                "traffic": {"provider": provider, provider: options or {}},
                **change,
            }
        )
        spec, errors = validate_release(raw)
        assert errors == []
        return spec
