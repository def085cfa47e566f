"""Traffic through an Istio VirtualService: route weights and header-match routes.

Every HTTP route of the VirtualService with a destination on the stable Service is a
*traffic route*: it gets two destinations, the stable Service with weight ``100 - w``
and the canary Service (its FQDN, ``<canary_service>.<canary_namespace>.svc.<domain>``)
with weight ``w``, summing to 100 as Istio requires. Istio tries routes in order and
takes the first match, so the forced routing goes right before each traffic route:
copies of it whose matches also require ``<header>: always`` (to the canary alone),
``<header>: never`` (to stable alone), then the same for the cookie when there is one
(a regular expression on the ``cookie`` header, the way Istio's documentation matches
a cookie). The provider names these routes
``canary-runbooks-...`` and rebuilds them at every write. Weights split requests,
not users: the ``hash`` rule is a per-request share here.
"""

import copy
import re
from typing import ClassVar

from ansible.module_utils.traffic.base import (
    ALWAYS,
    NEVER,
    ObjectTrafficProvider,
    TrafficError,
    share,
    single_forcing,
    weight_problems,
)

FORCED_PREFIX = "canary-runbooks-"


class IstioTraffic(ObjectTrafficProvider):
    name = "istio"
    KIND = "VirtualService"
    OPTIONS: ClassVar[dict] = {
        # The VirtualService; default: the stable Service's name.
        "name": {"type": "str"},
        "namespace": {"type": "str"},
        "api_version": {
            "type": "str",
            "default": "networking.istio.io/v1",
            "choices": ["networking.istio.io/v1", "networking.istio.io/v1beta1"],
        },
        "stable_service": {"type": "str"},
        "canary_service": {"type": "str"},
        "canary_namespace": {"type": "str"},
        "cluster_domain": {"type": "str", "default": "cluster.local"},
        # The forcing header and cookie; default: the targeting's rules, else the header
        # validation.canary_header.
        "header": {"type": "str"},
        "cookie": {"type": "str"},
    }
    NEEDS = ("name", "stable_service", "canary_service", "canary_namespace")

    def api_version(self):
        return self.options["api_version"]

    @classmethod
    def release_defaults(cls, release):
        workload = release["workload"]
        header, _ = single_forcing(release, "header", cls.name)
        cookie, _ = single_forcing(release, "cookie", cls.name)
        return {
            "name": workload["service"],
            "stable_service": workload["service"],
            "canary_service": workload["canary_service"],
            "canary_namespace": release["canary_namespace"],
            "header": header,
            "cookie": cookie,
        }

    @classmethod
    def unsupported_kinds(cls, kinds):
        reason = (
            "VirtualService weights split requests at random, so a share of one segment of "
            "users cannot be kept sticky"
        )
        return {kind: reason for kind in kinds if kind in ("attribute", "region")}

    # --- destinations ---------------------------------------------------------------------

    def _fqdn(self, service, namespace):
        return f"{service}.{namespace}.svc.{self.options['cluster_domain']}"

    def _target(self, destination):
        """``(namespace, service)`` of a destination host; Istio reads short names in the
        VirtualService's namespace."""
        host = (destination.get("destination") or {}).get("host", "")
        if "." not in host:
            return self.namespace, host
        parts = host.split(".")
        if (
            len(parts) > 3
            and parts[2] == "svc"
            and ".".join(parts[3:]) == self.options["cluster_domain"]
        ):
            return parts[1], parts[0]
        return None

    def _is_stable(self, destination):
        return self._target(destination) == (self.release_namespace, self.options["stable_service"])

    def _is_canary(self, destination):
        return self._target(destination) == (
            self.options["canary_namespace"],
            self.options["canary_service"],
        )

    def _canary_destination(self, stable):
        canary = copy.deepcopy(stable)
        destination = {
            "host": self._fqdn(self.options["canary_service"], self.options["canary_namespace"])
        }
        if "port" in stable["destination"]:
            destination["port"] = copy.deepcopy(stable["destination"]["port"])
        canary["destination"] = destination
        return canary

    @staticmethod
    def _is_forced(route):
        return str(route.get("name", "")).startswith(FORCED_PREFIX)

    def _traffic_routes(self, service):
        return [
            (index, route)
            for index, route in enumerate(service.get("spec", {}).get("http") or [])
            if not self._is_forced(route) and any(map(self._is_stable, route.get("route") or []))
        ]

    # --- the interface --------------------------------------------------------------------

    def weight_of(self, service):
        """The canary's share; the largest one when the traffic routes disagree."""
        shares = [0]
        for _, route in self._traffic_routes(service):
            destinations = route.get("route") or []
            default = 100 if len(destinations) == 1 else 0
            stable = sum(d.get("weight", default) for d in destinations if self._is_stable(d))
            canary = sum(d.get("weight", default) for d in destinations if self._is_canary(d))
            shares.append(share(canary, stable))
        return max(shares)

    def with_weight(self, service, weight):
        if not self._traffic_routes(service):
            raise TrafficError(self._no_traffic_route())
        routes, ordinal = [], 0
        for route in service["spec"].get("http") or []:
            if self._is_forced(route):
                continue
            destinations = route.get("route") or []
            stable = next((d for d in destinations if self._is_stable(d)), None)
            if stable is None:
                routes.append(route)
                continue
            if any(not (self._is_stable(d) or self._is_canary(d)) for d in destinations):
                raise TrafficError(
                    f"{self.describe()} has a route to other destinations besides the stable "
                    "and the canary Service; its weights would not be shares"
                )
            canary = next((d for d in destinations if self._is_canary(d)), None)
            canary = canary or self._canary_destination(stable)
            routes.extend(self._forced_routes(route, stable, canary, ordinal))
            route["route"] = [{**stable, "weight": 100 - weight}, {**canary, "weight": weight}]
            routes.append(route)
            ordinal += 1
        service["spec"]["http"] = routes
        return service

    def _forcing_matches(self):
        """``(label, header key, {value: string match})``: the header, then the cookie (the
        targeting's order)."""
        found = []
        if self.options.get("header"):
            found.append(
                (
                    "header",
                    self.options["header"].lower(),
                    {value: {"exact": value} for value in (ALWAYS, NEVER)},
                )
            )
        if self.options.get("cookie"):
            name = re.escape(self.options["cookie"])
            found.append(
                (
                    "cookie",
                    "cookie",
                    {
                        value: {"regex": f"^(.*?;\\s*)?{name}={value}(;.*)?$"}
                        for value in (ALWAYS, NEVER)
                    },
                )
            )
        return found

    def _forced_routes(self, route, stable, canary, ordinal):
        result = []
        for label, key, values in self._forcing_matches():
            for value, destination in ((ALWAYS, canary), (NEVER, stable)):
                forced = copy.deepcopy(route)
                forced["name"] = f"{FORCED_PREFIX}{label}-{value}-{ordinal}"
                forced["match"] = [
                    {
                        **copy.deepcopy(match),
                        "headers": {**(match.get("headers") or {}), key: values[value]},
                    }
                    for match in route.get("match") or [{}]
                ]
                forced["route"] = [{**destination, "weight": 100}]
                result.append(forced)
        return result

    # --- the spec check -------------------------------------------------------------------

    def _no_traffic_route(self):
        return (
            f"{self.describe()} has no HTTP route with a destination on the stable Service "
            f"{self._fqdn(self.options['stable_service'], self.release_namespace)}"
        )

    def problems(self, spec):
        field = f"canary.traffic.{self.name}"
        service = self.fetch()
        if service is None:
            return [f"{field}.name: {self.describe()} does not exist"]
        errors = [*single_forcing(spec, "header", self.name)[1]]
        errors.extend(single_forcing(spec, "cookie", self.name)[1])
        errors.extend(weight_problems(spec, self.name))
        traffic = self._traffic_routes(service)
        if not traffic:
            errors.append(f"{field}.name: {self._no_traffic_route()}")
        for index, route in traffic:
            others = [
                (d.get("destination") or {}).get("host")
                for d in route.get("route") or []
                if not (self._is_stable(d) or self._is_canary(d))
            ]
            if others:
                errors.append(
                    f"{field}.name: http[{index}] of {self.describe()} also sends to "
                    f"{', '.join(map(str, others))}; a traffic route may only send to the "
                    "stable and the canary Service, or the weights would not be shares"
                )
        return errors
