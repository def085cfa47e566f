"""Gateway API HTTPRoute (gateway.networking.k8s.io/v1): the router stands for one Gateway.

The route must name that Gateway in ``spec.parentRefs``. Each rule's matches become
table entries sorted by the specification's precedence: an Exact path, then the longest
PathPrefix, then a method match, then the most header matches, then the most query
parameter matches; ties keep rule order. A rule splits its users between the
``backendRefs`` by weight (default 1); a rule whose weights are all 0, or that has no
backendRefs, answers 500, as the specification requires.
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

GROUP = "gateway.networking.k8s.io"
MAX_WEIGHT = 1_000_000  # the CRD's bound on backendRefs[].weight
PATH_OPS = {"Exact": "exact", "PathPrefix": "segments", "RegularExpression": "regex"}
VALUE_OPS = {"Exact": "exact", "RegularExpression": "regex"}
# Precedence of path match types; RegularExpression is implementation-specific: last here.
PATH_RANK = {"exact": 2, "segments": 1, "regex": 0}


class HTTPRouteReader:
    kind = "HTTPRoute"

    def __init__(self, settings, tracks):
        self.namespace = settings.get("namespace", "yyc3-short-drama")
        self.name = settings.get("name", "frontend")
        gateway = settings.get("gateway") or {}
        self.gateway = (
            gateway.get("namespace", self.namespace),
            gateway.get("name", "frontend-gateway"),
        )
        self.tracks = tracks

    def read(self, client):
        where = f"HTTPRoute {self.namespace}/{self.name}"
        route = client.get("HTTPRoute", self.namespace, self.name)
        if route is None:
            return fail_closed(f"{where} not found; everything goes to stable")
        try:
            return table_rules(self.table(as_dict(route.get("spec"), "spec")))
        except Invalid as error:
            return fail_closed(f"{where}: {error}; everything goes to stable")

    def table(self, spec):
        self.check_parent(as_list(spec.get("parentRefs"), "spec.parentRefs"))
        rules = as_list(spec.get("rules"), "spec.rules")
        if not rules:
            raise Invalid("spec.rules is empty")
        entries = []
        for i, rule in enumerate(rules):
            field = f"spec.rules[{i}]"
            rule = as_dict(rule, field)
            share = self.split(as_list(rule.get("backendRefs"), f"{field}.backendRefs"), field)
            matches = as_list(rule.get("matches"), f"{field}.matches") or [{}]
            for j, match in enumerate(matches):
                name = f"{field}.matches[{j}]"
                rank, conditions = compile_match(as_dict(match, name), name)
                route = Route(name, conditions, share or 0.0, 500 if share is None else 0)
                entries.append(((tuple(-r for r in rank), i, j), route))
        entries.sort(key=lambda entry: entry[0])
        return [route for _, route in entries]

    def check_parent(self, parents):
        namespace, name = self.gateway
        for ref in parents:
            ref = as_dict(ref, "spec.parentRefs[]")
            if (
                ref.get("group", GROUP) == GROUP
                and ref.get("kind", "Gateway") == "Gateway"
                and ref.get("namespace", self.namespace) == namespace
                and ref.get("name") == name
            ):
                return
        raise Invalid(
            f"spec.parentRefs does not name Gateway {namespace}/{name}, the router's Gateway"
        )

    def split(self, refs, field):
        weights = []
        for k, ref in enumerate(refs):
            name = f"{field}.backendRefs[{k}]"
            ref = as_dict(ref, name)
            if ref.get("group", "") != "" or ref.get("kind", "Service") != "Service":
                raise Invalid(f"{name} is not a core Service; the router only reaches Services")
            if not ref.get("name"):
                raise Invalid(f"{name}.name is missing")
            weight = as_weight(ref.get("weight"), f"{name}.weight", 1, MAX_WEIGHT)
            weights.append((ref.get("namespace", self.namespace), ref["name"], weight))
        return self.tracks.share(weights, field + ".backendRefs")


def compile_match(match, field):
    """Return (precedence rank, conditions) of one HTTPRouteMatch."""
    path = as_dict(match.get("path"), f"{field}.path")
    path_type = path.get("type", "PathPrefix")
    if path_type not in PATH_OPS:
        raise Invalid(f"{field}.path.type {path_type!r} is not one of {sorted(PATH_OPS)}")
    op, value = PATH_OPS[path_type], path.get("value", "/")
    conditions = [Condition("path", op, value)]
    method = match.get("method")
    if method:
        conditions.append(Condition("method", "exact", method))
    headers = as_list(match.get("headers"), f"{field}.headers")
    for k, header in enumerate(headers):
        conditions.append(value_condition("header", header, f"{field}.headers[{k}]"))
    params = as_list(match.get("queryParams"), f"{field}.queryParams")
    for k, param in enumerate(params):
        conditions.append(value_condition("query", param, f"{field}.queryParams[{k}]"))
    length = len(value) if op != "regex" else 0
    rank = (PATH_RANK[op], length, 1 if method else 0, len(headers), len(params))
    return rank, tuple(conditions)


def value_condition(source, match, field):
    match = as_dict(match, field)
    kind = match.get("type", "Exact")
    if kind not in VALUE_OPS:
        raise Invalid(f"{field}.type {kind!r} is not one of {sorted(VALUE_OPS)}")
    if not match.get("name") or match.get("value") is None:
        raise Invalid(f"{field} needs a name and a value")
    # Header names are case-insensitive (kept in lower case); query parameter names are not.
    name = match["name"].lower() if source == "header" else match["name"]
    return Condition(source, VALUE_OPS[kind], str(match["value"]), name)
