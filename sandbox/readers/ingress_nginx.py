"""ingress-nginx canary Ingresses beside the stable one, as the controller applies them.

The stable Ingress (not a canary) gives the locations: each rule's paths, for the
router's stable Service. Any Ingress of the same class, in any namespace, annotated
``nginx.ingress.kubernetes.io/canary: "true"`` with a rule of the same host, path and
pathType becomes that location's canary; when several do, the controller uses the oldest
only (the others are reported). Per request, as in the controller's balancer: the
canary-by-header (with -value, else -pattern, else ``always``/``never``), then the
canary-by-cookie (``always``/``never``), then ``canary-weight`` out of
``canary-weight-total`` (which only counts above 100). Values are compared as sent:
``Always`` is not ``always``.
"""

from sandbox.readers.rules import (
    CANARY,
    STABLE,
    Condition,
    Invalid,
    Route,
    as_dict,
    as_list,
    fail_closed,
    table_rules,
)

PREFIX = "nginx.ingress.kubernetes.io/"
CLASS_ANNOTATION = "kubernetes.io/ingress.class"
PATH_OPS = {"Exact": "exact", "Prefix": "segments", "ImplementationSpecific": "prefix"}
TRUE = ("1", "t", "T", "TRUE", "true", "True")  # Go's strconv.ParseBool


def annotations(ingress):
    return (ingress.get("metadata") or {}).get("annotations") or {}


def is_canary(ingress):
    return annotations(ingress).get(PREFIX + "canary") in TRUE


def ingress_class(ingress):
    spec = ingress.get("spec") or {}
    return spec.get("ingressClassName") or annotations(ingress).get(CLASS_ANNOTATION)


def label(ingress):
    meta = ingress.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


def created(ingress):
    return (ingress.get("metadata") or {}).get("creationTimestamp", "")


def locations(ingress):
    """``[(host, path, pathType, service name)]`` of an Ingress's rules."""
    found = []
    spec = as_dict(ingress.get("spec"), "spec")
    for i, rule in enumerate(as_list(spec.get("rules"), "spec.rules")):
        rule = as_dict(rule, f"spec.rules[{i}]")
        http = as_dict(rule.get("http"), f"spec.rules[{i}].http")
        for j, path in enumerate(as_list(http.get("paths"), f"spec.rules[{i}].http.paths")):
            field = f"spec.rules[{i}].http.paths[{j}]"
            path = as_dict(path, field)
            path_type = path.get("pathType")
            if path_type not in PATH_OPS:
                raise Invalid(f"{field}.pathType {path_type!r} is not one of {sorted(PATH_OPS)}")
            service = as_dict(as_dict(path.get("backend"), f"{field}.backend").get("service"), "")
            if not service.get("name"):
                raise Invalid(f"{field}.backend.service.name is missing")
            found.append(
                (rule.get("host", ""), path.get("path") or "/", path_type, service["name"])
            )
    return found


def policy(ingress):
    """The canary annotations as the controller parses them, and what it complained about."""
    notes = annotations(ingress)
    complaints = []

    def number(key, default):
        raw = notes.get(PREFIX + key)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            complaints.append(
                f"{label(ingress)}: {PREFIX}{key} {raw!r} is invalid, using {default}"
            )
            return default

    weight, total = number("canary-weight", 0), number("canary-weight-total", 100)
    return {
        "header": notes.get(PREFIX + "canary-by-header", ""),
        "value": notes.get(PREFIX + "canary-by-header-value", ""),
        "pattern": notes.get(PREFIX + "canary-by-header-pattern", ""),
        "cookie": notes.get(PREFIX + "canary-by-cookie", ""),
        "share": max(0.0, min(100.0, 100.0 * weight / max(total, 100))),
    }, complaints


def canary_routes(where, path, canary):
    """The location's routes in the balancer's order: header, cookie, weight."""
    rules, complaints = policy(canary)
    routes = []
    header = rules["header"].lower()
    if header:
        if rules["value"]:
            forced = [(Condition("header", "exact", rules["value"], header), 100.0)]
        elif rules["pattern"]:
            forced = [(Condition("header", "search", rules["pattern"], header), 100.0)]
        else:
            forced = [
                (Condition("header", "exact", "always", header), 100.0),
                (Condition("header", "exact", "never", header), 0.0),
            ]
        routes += [Route(f"{where} canary-by-header", (path, c), s) for c, s in forced]
    if rules["cookie"]:
        routes += [
            Route(
                f"{where} canary-by-cookie",
                (path, Condition("cookie", "exact", v, rules["cookie"])),
                s,
            )
            for v, s in (("always", 100.0), ("never", 0.0))
        ]
    routes.append(Route(f"{where} canary-weight", (path,), rules["share"]))
    return routes, complaints


class IngressReader:
    kind = "Ingress"

    def __init__(self, settings, tracks):
        self.namespace = settings.get("namespace", "yyc3-short-drama")
        self.name = settings.get("name", "frontend")
        self.ingress_class = settings.get("ingress_class", "nginx")
        self.tracks = tracks

    def read(self, client):
        where = f"Ingress {self.namespace}/{self.name}"
        stable = client.get("Ingress", self.namespace, self.name)
        if stable is None:
            return fail_closed(f"{where} not found; everything goes to stable")
        try:
            routes, complaints = self.table(stable, client.list("Ingress"))
        except Invalid as error:
            return fail_closed(f"{where}: {error}; everything goes to stable")
        return table_rules(routes, "; ".join(complaints))

    def table(self, stable, ingresses):
        if is_canary(stable):
            raise Invalid("is itself annotated canary: true; the stable Ingress must not be")
        if ingress_class(stable) != self.ingress_class:
            raise Invalid(f"is not of ingress class {self.ingress_class!r}")
        canaries = []
        for ingress in sorted(ingresses, key=lambda i: (created(i), label(i))):
            if is_canary(ingress) and ingress_class(ingress) == self.ingress_class:
                try:
                    canaries.append((ingress, locations(ingress)))
                except Invalid as error:
                    raise Invalid(f"canary Ingress {label(ingress)}: {error}") from None
        # nginx tries Exact locations first, then the paths in reverse order (longer first).
        mine = sorted(locations(stable), key=lambda loc: loc[1], reverse=True)
        mine.sort(key=lambda loc: loc[2] != "Exact")
        routes, complaints = [], []
        for host, path, path_type, service in mine:
            where = f"{host or '*'}{path} ({path_type})"
            if self.tracks.of(self.namespace, service) != STABLE:
                raise Invalid(f"location {where} does not send to the stable Service")
            condition = Condition("path", PATH_OPS[path_type], path)
            matching = []
            for canary, places in canaries:
                for c_host, c_path, c_type, c_service in places:
                    if (c_host, c_path, c_type) == (host, path, path_type):
                        matching.append((canary, c_service))
            if not matching:
                routes.append(Route(f"{where} stable", (condition,), 0.0))
                continue
            (canary, c_service), ignored = matching[0], matching[1:]
            if ignored:
                names = ", ".join(label(i) for i, _ in ignored)
                complaints.append(
                    f"{where}: ingress-nginx uses one canary per location, {label(canary)}; "
                    f"ignored: {names}"
                )
            namespace = canary["metadata"].get("namespace")
            if self.tracks.of(namespace, c_service) != CANARY:
                raise Invalid(
                    f"canary Ingress {label(canary)} sends {where} to Service "
                    f"{namespace}/{c_service}, not to the canary Service"
                )
            added, notes = canary_routes(where, condition, canary)
            routes += added
            complaints += notes
        return routes, complaints
