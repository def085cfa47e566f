"""URL paths of the resource API, parsed into (resource, namespace, name, subresource).

Paths look like ``/api/v1/namespaces/<ns>/<plural>/<name>/<subresource>`` for the core
group and ``/apis/<group>/<version>/...`` for the others; cluster-scoped resources and
lists across all namespaces leave out the ``namespaces/<ns>`` part.
"""

from dataclasses import dataclass

from sandbox.apiserver.errors import path_not_found
from sandbox.apiserver.resources import Resource, lookup


@dataclass(frozen=True)
class Route:
    resource: Resource
    namespace: str | None
    name: str | None
    subresource: str | None


def parse(parts):
    """Parse the segments of a resource path; unknown paths are a 404."""
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise path_not_found()
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        nested = lookup(group, version, rest[2])
        if nested is not None and nested.namespaced:
            namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        raise path_not_found()
    resource = lookup(group, version, rest[0])
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if resource is None or (name and resource.namespaced and namespace is None):
        raise path_not_found()
    allowed = {"status": resource.status, "scale": resource.scale}
    if subresource is not None and not allowed.get(subresource):
        raise path_not_found()
    return Route(resource, namespace, name, subresource)
