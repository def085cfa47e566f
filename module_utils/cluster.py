"""A small facade over kubernetes.core's API client for the canary modules.

The modules reuse kubernetes.core for everything about talking to a cluster:
its authentication arguments (kubeconfig, context, host, api_key, certificates,
``K8S_AUTH_*`` environment variables), its client construction and its
server-side dry run in check mode. This facade only turns the dynamic client's
objects into plain dicts, a missing object into ``None`` and a refused write into
Conflict or Refused, so the release logic can be tested with an in-memory stand-in.
"""

import copy

from ansible.module_utils.refusals import in_words
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client

try:
    from kubernetes.dynamic.exceptions import (
        ConflictError,
        DynamicApiError,
        NotFoundError,
        ResourceNotFoundError,
    )
except ImportError:  # reported by AnsibleK8SModule's dependency check
    ConflictError = DynamicApiError = NotFoundError = ResourceNotFoundError = Exception


def with_auth_options(**options):
    """Return an argument spec: the given options plus kubernetes.core's auth options."""
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(options)
    return spec


class Conflict(Exception):
    """An update lost a race: the object changed since it was read."""


class Refused(Exception):
    """The API server refused a write (invalid, forbidden, or denied by admission).

    Dry runs get the same answer, so check mode reports it without writing.
    """


def _written(write):
    """Run a write; return the object it answered with, as a dict."""
    try:
        return write().to_dict()
    except ConflictError as err:
        raise Conflict(str(err)) from err
    except DynamicApiError as err:
        raise Refused(in_words(err.status, err.summary())) from err


class Cluster:
    """Reads and writes Kubernetes objects as plain dicts."""

    def __init__(self, client):
        self._client = client
        self._resources = {}

    @classmethod
    def from_module(cls, module):
        """Build from a module whose params carry kubernetes.core's auth options."""
        return cls(get_api_client(module=module))

    def _resource(self, api_version, kind):
        key = (api_version, kind)
        if key not in self._resources:
            self._resources[key] = self._client.resource(kind, api_version)
        return self._resources[key]

    def get(self, api_version, kind, name, namespace=None):
        """Return the object, or None when it does not exist."""
        try:
            found = self._client.get(
                self._resource(api_version, kind), name=name, namespace=namespace
            )
        except NotFoundError:
            return None
        return found.to_dict()

    def list(self, api_version, kind, namespace, label_selector=None):
        """Return the objects of a kind in one namespace, those matching ``label_selector``."""
        params = {"label_selector": label_selector} if label_selector else {}
        found = self._client.get(self._resource(api_version, kind), namespace=namespace, **params)
        return found.to_dict().get("items") or []

    def served(self, api_version, kind):
        """Whether the cluster serves the kind at all (a CRD may not be installed)."""
        try:
            self._resource(api_version, kind)
        except ResourceNotFoundError:
            return False
        return True

    def create(self, definition):
        """Create the object; raise Conflict when it already exists."""
        resource = self._resource(definition["apiVersion"], definition["kind"])
        namespace = definition["metadata"].get("namespace")
        return _written(lambda: self._client.create(resource, definition, namespace=namespace))

    def replace(self, definition):
        """Replace with optimistic concurrency: raise Conflict on a stale resourceVersion."""
        resource = self._resource(definition["apiVersion"], definition["kind"])
        metadata = definition["metadata"]
        return _written(
            lambda: self._client.replace(
                resource, definition, name=metadata["name"], namespace=metadata.get("namespace")
            )
        )

    def _patch(self, api_version, kind, name, namespace, patch, content_type):
        resource = self._resource(api_version, kind)
        return _written(
            lambda: self._client.patch(
                resource, patch, name=name, namespace=namespace, content_type=content_type
            )
        )

    def allowed(self, attributes):
        """Whether this client's identity may do what ``attributes`` describe.

        ``attributes`` are a SelfSubjectAccessReview's resourceAttributes (verb, group,
        resource, subresource, namespace). Every authenticated identity may post the
        review, which stores nothing: sent as a dry run in check mode, it is answered alike.
        """
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes},
        }
        resource = self._resource(review["apiVersion"], review["kind"])
        answer = self._client.create(resource, review).to_dict()
        return bool((answer.get("status") or {}).get("allowed"))

    def merge_patch(self, api_version, kind, name, namespace, patch):
        return self._patch(
            api_version, kind, name, namespace, patch, "application/merge-patch+json"
        )

    def strategic_merge_patch(self, api_version, kind, name, namespace, patch):
        """Patch built-in kinds by their merge keys (containers by name, for one)."""
        return self._patch(
            api_version, kind, name, namespace, patch, "application/strategic-merge-patch+json"
        )
