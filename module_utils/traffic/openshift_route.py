"""Traffic through an OpenShift Route: ``spec.to`` and ``spec.alternateBackends`` weights.

A Route sends to ``spec.to`` and up to three ``alternateBackends``, each with a
relative weight of 0-256; a backend's share is its weight over the sum, so 128/128
is 50% and 256/0 is 0%. The provider keeps the stable Service in ``spec.to`` with
weight ``100 - w`` and the canary Service as an alternate backend with weight ``w``
(added at the first write), which makes the canary's share exactly ``w``%. A Route
has no request matching: no header or cookie forces a track, so the validation
reaches each track by its own URL. A Route's backends are Services of its own
namespace, so the canary must run there (``canary_namespace`` = ``namespace``).
"""

from typing import ClassVar

from ansible.module_utils.traffic.base import (
    ObjectTrafficProvider,
    TrafficError,
    routing_problems,
    share,
    weight_problems,
)

# OpenShift's default when a backend gives no weight.
DEFAULT_WEIGHT = 100


class OpenShiftRouteTraffic(ObjectTrafficProvider):
    name = "openshift_route"
    API_VERSION = "route.openshift.io/v1"
    KIND = "Route"
    OPTIONS: ClassVar[dict] = {
        # The Route; default: the stable Service's name.
        "name": {"type": "str"},
        "namespace": {"type": "str"},
        "stable_service": {"type": "str"},
        "canary_service": {"type": "str"},
        "canary_namespace": {"type": "str"},
    }
    NEEDS = ("name", "stable_service", "canary_service")

    @classmethod
    def release_defaults(cls, release):
        workload = release["workload"]
        return {
            "name": workload["service"],
            "stable_service": workload["service"],
            "canary_service": workload["canary_service"],
            "canary_namespace": release["canary_namespace"],
        }

    @classmethod
    def unsupported_kinds(cls, kinds):
        reason = "a Route has no request matching, it only splits by backend weights"
        return {kind: reason for kind in kinds if kind != "hash"}

    def _weights(self, route):
        """``(stable weight, canary weight, other backends)`` of a Route."""
        spec = route.get("spec") or {}
        target = spec.get("to") or {}
        if target.get("name") != self.options["stable_service"]:
            raise TrafficError(
                f"{self.describe()} sends to {target.get('name')!r} in spec.to, not to the "
                f"stable Service {self.options['stable_service']}"
            )
        canary, others = 0, []
        for backend in spec.get("alternateBackends") or []:
            if backend.get("name") == self.options["canary_service"]:
                canary += backend.get("weight", DEFAULT_WEIGHT)
            else:
                others.append(backend.get("name"))
        return target.get("weight", DEFAULT_WEIGHT), canary, others

    def weight_of(self, route):
        stable, canary, _ = self._weights(route)
        return share(canary, stable)

    def with_weight(self, route, weight):
        _, _, others = self._weights(route)
        if others:
            raise TrafficError(self._others(others))
        spec = route["spec"]
        spec["to"]["weight"] = 100 - weight
        backends = spec.setdefault("alternateBackends", [])
        canary = [b for b in backends if b.get("name") == self.options["canary_service"]]
        if not canary:
            canary = [{"kind": "Service", "name": self.options["canary_service"]}]
            backends.append(canary[0])
        canary[0]["weight"] = weight
        # A duplicate entry for the canary would add to its weight.
        spec["alternateBackends"] = [b for b in backends if b is canary[0] or b not in canary]
        return route

    def _others(self, others):
        return (
            f"{self.describe()} also sends to {', '.join(map(str, others))} in "
            "spec.alternateBackends; only the stable and the canary Service may share a Route, "
            "or the weights would not be shares"
        )

    def problems(self, spec):
        field = f"canary.traffic.{self.name}"
        errors = [*routing_problems(spec, self.name), *weight_problems(spec, self.name)]
        canary_namespace = self.options.get("canary_namespace")
        if canary_namespace and canary_namespace != self.namespace:
            errors.append(
                f"canary.canary_namespace: a Route only sends to Services of its own namespace "
                f"({self.namespace}) and the canary Service would be in {canary_namespace}; "
                f"release the canary into {self.namespace}"
            )
        if self.release_namespace != self.namespace:
            errors.append(
                f"{field}.namespace: a Route only sends to Services of its own namespace, and "
                f"the stable Service is in {self.release_namespace}, not {self.namespace}"
            )
        try:
            route = self.fetch()
        except TrafficError as err:
            return [*errors, f"{field}: {err}"]
        if route is None:
            return [*errors, f"{field}.name: {self.describe()} does not exist"]
        try:
            _, _, others = self._weights(route)
        except TrafficError as err:
            return [*errors, f"{field}.stable_service: {err}"]
        if others:
            errors.append(f"{field}.name: {self._others(others)}")
        return errors
