"""OpenShift Route (route.openshift.io/v1): ``spec.to`` plus up to three ``alternateBackends``.

Each backend is a Service of the Route's own namespace with a weight of 0..256 (default
100); a backend gets ``weight/sum`` of the users, and a Route whose weights are all 0
answers 503, as the HAProxy router does. ``spec.path`` restricts the Route to that path
prefix. A Route has no header or cookie matches: nothing can force a track through it.
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

MAX_WEIGHT = 256
MAX_ALTERNATES = 3


class RouteReader:
    kind = "Route"

    def __init__(self, settings, tracks):
        self.namespace = settings.get("namespace", "yyc3-short-drama")
        self.name = settings.get("name", "frontend")
        self.tracks = tracks

    def read(self, client):
        where = f"Route {self.namespace}/{self.name}"
        route = client.get("Route", self.namespace, self.name)
        if route is None:
            return fail_closed(f"{where} not found; everything goes to stable")
        try:
            return table_rules(self.table(as_dict(route.get("spec"), "spec"), where))
        except Invalid as error:
            return fail_closed(f"{where}: {error}; everything goes to stable")

    def table(self, spec, where):
        alternates = as_list(spec.get("alternateBackends"), "spec.alternateBackends")
        if len(alternates) > MAX_ALTERNATES:
            raise Invalid(f"spec.alternateBackends has {len(alternates)} entries, at most 3")
        targets = [("spec.to", spec.get("to"))]
        targets += [(f"spec.alternateBackends[{i}]", ref) for i, ref in enumerate(alternates)]
        weights = []
        for field, ref in targets:
            ref = as_dict(ref, field)
            if ref.get("kind", "Service") != "Service" or not ref.get("name"):
                raise Invalid(f"{field} must name a Service")
            weight = as_weight(ref.get("weight"), f"{field}.weight", 100, MAX_WEIGHT)
            weights.append((self.namespace, ref["name"], weight))
        share = self.tracks.share(weights, "spec.to and spec.alternateBackends")
        path = spec.get("path")
        conditions = (Condition("path", "prefix", path),) if path else ()
        status = 503 if share is None else 0
        return [Route(where, conditions, share or 0.0, status)]
