"""A minimal OpenAPI v3 index, just enough for kubectl's field validation.

kubectl create/apply/replace validate with ``--validate=strict`` by default. They ask the
OpenAPI v3 documents whether the server supports the ``fieldValidation`` query parameter
for a kind; when it does, validation is left to the server. Without any OpenAPI document
kubectl falls back to client-side validation and fails with "failed to download openapi".

So each group/version document lists one PATCH operation per kind with its
``x-kubernetes-group-version-kind`` and the ``fieldValidation`` parameter, and nothing
else: no schemas. With no ``requestBody`` declared, ``kubectl apply`` computes its
strategic merge patches from its compiled-in types instead of from OpenAPI.
"""

from sandbox.apiserver.resources import group_versions, in_group_version

_FIELD_VALIDATION = {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}


def _prefix(group, version):
    return f"apis/{group}/{version}" if group else f"api/{version}"


def root():
    """The /openapi/v3 index: one entry per served group/version."""
    return {
        "paths": {
            _prefix(group, version): {
                "serverRelativeURL": f"/openapi/v3/{_prefix(group, version)}?hash=sandbox"
            }
            for group, version in group_versions()
        }
    }


def group_version_document(parts):
    """The document for ``/openapi/v3/<prefix>`` given the path segments after v3, or None."""
    for group, version in group_versions():
        if "/".join(parts) == _prefix(group, version):
            return {
                "openapi": "3.0.0",
                "info": {"title": "Kubernetes (sandbox)", "version": "v1.32.0"},
                "paths": {
                    _item_path(resource): {
                        "patch": {
                            "x-kubernetes-group-version-kind": {
                                "group": group,
                                "version": version,
                                "kind": resource.kind,
                            },
                            "parameters": [_FIELD_VALIDATION],
                        }
                    }
                    for resource in in_group_version(group, version)
                },
            }
    return None


def _item_path(resource):
    scope = "/namespaces/{namespace}" if resource.namespaced else ""
    return f"/{_prefix(resource.group, resource.version)}{scope}/{resource.plural}/{{name}}"
