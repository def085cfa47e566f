"""The validation every write goes through before it is stored (or dry-run answered).

Deliberately small: object identity (name, namespace, kind) and the Deployment rules
whose violation would otherwise make the controller silently do nothing.
"""

import re

from sandbox.apiserver.errors import (
    DNS_1123_LABEL_MESSAGE,
    DNS_1123_SUBDOMAIN_MESSAGE,
    bad_request,
    invalid,
)
from sandbox.apiserver.selectors import match_selector

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_1123_LABEL = re.compile(rf"^{_LABEL}$")
_DNS_1123_SUBDOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")


def check_type(resource, body):
    """Reject a body that is not an object or names another apiVersion/kind (400)."""
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON or YAML object")
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if api_version and api_version != resource.api_version:
        raise bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({resource.api_version})"
        )
    if kind and kind != resource.kind:
        raise bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({resource.kind})"
        )
    if not isinstance(body.get("metadata", {}), dict):
        raise bad_request("metadata must be an object")


def check_name(resource, name):
    """Names are DNS-1123 subdomains; namespaces are DNS-1123 labels (422 otherwise)."""
    if not name:
        raise invalid(
            resource,
            "",
            "metadata.name",
            "Required value: name or generateName is required",
            reason="FieldValueRequired",
        )
    if resource.kind == "Namespace":
        if len(name) > 63 or not _DNS_1123_LABEL.match(name):
            raise invalid(
                resource,
                name,
                "metadata.name",
                f'Invalid value: "{name}": {DNS_1123_LABEL_MESSAGE}',
            )
    elif len(name) > 253 or not _DNS_1123_SUBDOMAIN.match(name):
        raise invalid(
            resource,
            name,
            "metadata.name",
            f'Invalid value: "{name}": {DNS_1123_SUBDOMAIN_MESSAGE}',
        )


def check_namespace(body, namespace):
    """The namespace in the body, when set, must be the one in the URL (400)."""
    given = body["metadata"].get("namespace")
    if given and namespace and given != namespace:
        raise bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )


def check_object(resource, obj):
    """Kind-specific rules, run on the final object."""
    if resource.kind not in ("Deployment", "ReplicaSet"):
        return
    name, spec = obj["metadata"]["name"], obj.get("spec") or {}
    selector = spec.get("selector")
    if not selector:
        raise invalid(
            resource, name, "spec.selector", "Required value", reason="FieldValueRequired"
        )
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if not match_selector(selector, labels):
        raise invalid(
            resource,
            name,
            "spec.template.metadata.labels",
            f"Invalid value: {labels}: `selector` does not match template `labels`",
        )
    if not ((spec.get("template") or {}).get("spec") or {}).get("containers"):
        raise invalid(
            resource,
            name,
            "spec.template.spec.containers",
            "Required value",
            reason="FieldValueRequired",
        )
