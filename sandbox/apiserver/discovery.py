"""Discovery documents (/version, /api, /apis, /api/v1, /apis/<group>/<version>).

Only the legacy (unaggregated) form is served. kubectl and client-go ask for aggregated
discovery in the Accept header but fall back to these documents when the answer has a
plain ``application/json`` content type, which is what the handler sends.
"""

from sandbox.apiserver.resources import VERBS, group_versions, in_group_version

SUBRESOURCE_VERBS = ["get", "patch", "update"]

VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-sandbox",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-01-01T00:00:00Z",
    "goVersion": "go1.23.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def api_versions(server_address):
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def api_group_list():
    groups = {}
    for group, version in group_versions():
        if group:
            entry = {"groupVersion": f"{group}/{version}", "version": version}
            groups.setdefault(group, []).append(entry)
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [
            {"name": name, "versions": versions, "preferredVersion": versions[0]}
            for name, versions in groups.items()
        ],
    }


def _entries(resource):
    entry = {
        "name": resource.plural,
        "singularName": resource.singular,
        "namespaced": resource.namespaced,
        "kind": resource.kind,
        "verbs": list(VERBS),
    }
    if resource.short_names:
        entry["shortNames"] = list(resource.short_names)
    if resource.categories:
        entry["categories"] = list(resource.categories)
    yield entry
    if resource.status:
        yield {
            "name": f"{resource.plural}/status",
            "singularName": "",
            "namespaced": resource.namespaced,
            "kind": resource.kind,
            "verbs": SUBRESOURCE_VERBS,
        }
    if resource.scale:
        yield {
            "name": f"{resource.plural}/scale",
            "singularName": "",
            "namespaced": resource.namespaced,
            "group": "autoscaling",
            "version": "v1",
            "kind": "Scale",
            "verbs": SUBRESOURCE_VERBS,
        }


def resource_list(group, version):
    """The APIResourceList of one group/version, or None when it is not served."""
    resources = in_group_version(group, version)
    if not resources:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [entry for resource in resources for entry in _entries(resource)],
    }
