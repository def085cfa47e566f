"""Istio VirtualService (networking.istio.io/v1): ``spec.http`` routes, first match wins.

Each route's ``match`` entries (any one suffices; none matches everything) test the uri,
method, headers (header names in lower case, as Envoy sees them), ``withoutHeaders`` and
query parameters with exact, prefix or regex (the whole value, RE2 style) string matches;
an empty match tests presence. Its ``route`` destinations split users by weight
(``weight/sum``; a lone destination takes everything). A destination's host is the Service
short name (the VirtualService's namespace) or ``<name>.<namespace>.svc.cluster.local``.
"""

from sandbox.readers.rules import (
    Condition,
    Invalid,
    Route,
    as_dict,
    as_list,
    as_weight,
    fail_closed,
    table_rules,
)

SUFFIX = ".svc.cluster.local"
STRING_OPS = ("exact", "prefix", "regex")
SUPPORTED_MATCH = {"name", "uri", "method", "headers", "withoutHeaders", "queryParams"}


class VirtualServiceReader:
    kind = "VirtualService"

    def __init__(self, settings, tracks):
        self.namespace = settings.get("namespace", "yyc3-short-drama")
        self.name = settings.get("name", "frontend")
        self.tracks = tracks

    def read(self, client):
        where = f"VirtualService {self.namespace}/{self.name}"
        service = client.get("VirtualService", self.namespace, self.name)
        if service is None:
            return fail_closed(f"{where} not found; everything goes to stable")
        try:
            return table_rules(self.table(as_dict(service.get("spec"), "spec")))
        except Invalid as error:
            return fail_closed(f"{where}: {error}; everything goes to stable")

    def table(self, spec):
        http = as_list(spec.get("http"), "spec.http")
        if not http:
            raise Invalid("spec.http is empty")
        routes = []
        for i, entry in enumerate(http):
            field = f"spec.http[{i}]"
            entry = as_dict(entry, field)
            share, status = self.split(entry, field)
            for j, match in enumerate(as_list(entry.get("match"), f"{field}.match") or [{}]):
                conditions = compile_match(
                    as_dict(match, f"{field}.match[{j}]"), f"{field}.match[{j}]"
                )
                routes.append(Route(entry.get("name") or field, conditions, share, status))
        return routes

    def split(self, entry, field):
        """(canary share, status) of one HTTPRoute's destinations or direct response."""
        response = entry.get("directResponse")
        if response is not None:
            name = f"{field}.directResponse.status"
            status = as_weight(as_dict(response, f"{field}.directResponse").get("status"), name, 0)
            if not 200 <= status <= 599:
                raise Invalid(f"{name} must be an HTTP status (200..599)")
            return 0.0, status
        destinations = as_list(entry.get("route"), f"{field}.route")
        if not destinations:
            raise Invalid(f"{field} has neither route destinations nor a directResponse")
        weights = []
        for k, destination in enumerate(destinations):
            name = f"{field}.route[{k}]"
            destination = as_dict(destination, name)
            target = as_dict(destination.get("destination"), f"{name}.destination")
            if target.get("subset"):
                raise Invalid(f"{name}.destination.subset is not modelled by the sandbox router")
            alone = 100 if len(destinations) == 1 else 0
            weight = as_weight(destination.get("weight"), f"{name}.weight", alone)
            weights.append(
                (*self.service(target.get("host"), f"{name}.destination.host"), alone or weight)
            )
        share = self.tracks.share(weights, f"{field}.route")
        if share is None:
            raise Invalid(f"{field}.route: the weights add up to 0")
        return share, 0

    def service(self, host, field):
        """(namespace, name) of a destination host."""
        if not host:
            raise Invalid(f"{field} is missing")
        if "." not in host:
            return self.namespace, host
        if host.endswith(SUFFIX) and host[: -len(SUFFIX)].count(".") == 1:
            name, namespace = host[: -len(SUFFIX)].split(".")
            return namespace, name
        raise Invalid(
            f"{field} {host!r} is neither a short Service name nor <name>.<namespace>{SUFFIX}"
        )


def compile_match(match, field):
    unknown = sorted(set(match) - SUPPORTED_MATCH)
    if unknown:
        raise Invalid(f"{field}.{unknown[0]} is not modelled by the sandbox router")
    conditions = []
    if "uri" in match:
        conditions.append(string_condition("path", "", match["uri"], f"{field}.uri"))
    if "method" in match:
        conditions.append(string_condition("method", "", match["method"], f"{field}.method"))
    for key, source, negate in (
        ("headers", "header", False),
        ("withoutHeaders", "header", True),
        ("queryParams", "query", False),
    ):
        for name, value in as_dict(match.get(key), f"{field}.{key}").items():
            name = name.lower() if source == "header" else name
            condition = string_condition(source, name, value, f"{field}.{key}.{name}")
            conditions.append(Condition(source, condition.op, condition.value, name, negate))
    return tuple(conditions)


def string_condition(source, name, match, field):
    """An Istio StringMatch: one of exact, prefix, regex; empty tests presence."""
    match = as_dict(match, field)
    given = [op for op in STRING_OPS if op in match]
    if set(match) - set(STRING_OPS) or len(given) > 1:
        raise Invalid(f"{field} must hold one of {', '.join(STRING_OPS)}")
    if not given:
        return Condition(source, "present", "", name)
    return Condition(source, given[0], str(match[given[0]]), name)
