"""Traffic through a Gateway API HTTPRoute: backendRefs weights and header matches.

Every rule of the HTTPRoute that sends to the stable Service is a *traffic rule*: it
gets two backendRefs, stable with weight ``100 - w`` and the canary Service with
weight ``w`` (the canary's ref is added at the first write, with the stable ref's
port). Forced routing is two more rules per traffic rule, owned by the provider and
rebuilt at every write: the traffic rule's matches plus the header ``<header>:
always`` sending to the canary alone, and ``<header>: never`` to stable alone (the
route's annotation ``canary-runbooks/forcing-header`` names the header they use). The
Gateway API ranks matches by path first, then method, then the number of header
matches, so a forced rule (same path and method, one header more) always beats its
traffic rule, and a request with any other value of the header falls through to the
weights. Weights split requests, not users: the ``hash`` rule is a per-request
share here, not a sticky one.

A canary Service in another namespace needs a ReferenceGrant there allowing the
route's namespace to send to it; the provider creates one when none does (the
canary namespace is the release's own), and says so when the cluster does not
serve ReferenceGrants at all.
"""

import copy
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
from ansible.module_utils.workload import MANAGED_BY

GROUP = "gateway.networking.k8s.io"
GRANT_API_VERSION = f"{GROUP}/v1beta1"
# The standard channel's limit on rules per HTTPRoute.
MAX_RULES = 16
# Records the header the forced rules were written with, so that they are recognised
# (and replaced) after the header changes, and a user's own rule never is.
FORCING_ANNOTATION = "canary-runbooks/forcing-header"


def _ref_target(ref, route_namespace):
    """``(namespace, name)`` of a backendRef to a Service, or None for other kinds."""
    if ref.get("group", "") != "" or ref.get("kind", "Service") != "Service":
        return None
    return ref.get("namespace") or route_namespace, ref.get("name")


def _forcing(match, headers):
    """Whether ``match`` requires one of ``headers`` (lower case) to be ``always`` or ``never``."""
    return any(
        item.get("name", "").lower() in headers
        and item.get("type", "Exact") == "Exact"
        and item.get("value") in (ALWAYS, NEVER)
        for item in match.get("headers") or []
    )


class GatewayApiTraffic(ObjectTrafficProvider):
    name = "gateway_api"
    API_VERSION = f"{GROUP}/v1"
    KIND = "HTTPRoute"
    OPTIONS: ClassVar[dict] = {
        # The HTTPRoute; default: the stable Service's name.
        "name": {"type": "str"},
        "namespace": {"type": "str"},
        "stable_service": {"type": "str"},
        "canary_service": {"type": "str"},
        "canary_namespace": {"type": "str"},
        # The forcing header; default: the targeting's header rule, else
        # validation.canary_header.
        "header": {"type": "str"},
        # Create the ReferenceGrant a canary Service in another namespace needs.
        "reference_grant": {"type": "bool", "default": True},
    }
    NEEDS = ("name", "stable_service", "canary_service", "canary_namespace")

    @classmethod
    def release_defaults(cls, release):
        workload = release["workload"]
        header, _ = single_forcing(release, "header", cls.name)
        return {
            "name": workload["service"],
            "stable_service": workload["service"],
            "canary_service": workload["canary_service"],
            "canary_namespace": release["canary_namespace"],
            "header": header,
        }

    @classmethod
    def unsupported_kinds(cls, kinds):
        reasons = {
            "cookie": "HTTPRoute matches headers, not one cookie of the Cookie header "
            "(only an implementation-specific regular expression could)",
            "attribute": "HTTPRoute weights split requests at random, so a share of one "
            "segment of users cannot be kept sticky",
            "region": "HTTPRoute weights split requests at random, so a share of one "
            "segment of users cannot be kept sticky",
        }
        return {kind: reasons[kind] for kind in kinds if kind in reasons}

    # --- the refs -------------------------------------------------------------------------

    def _is_stable(self, ref):
        return _ref_target(ref, self.namespace) == (
            self.release_namespace,
            self.options["stable_service"],
        )

    def _is_canary(self, ref):
        return _ref_target(ref, self.namespace) == (
            self.options["canary_namespace"],
            self.options["canary_service"],
        )

    def _canary_ref(self, stable_ref):
        ref = {key: value for key, value in stable_ref.items() if key not in ("namespace", "name")}
        ref["name"] = self.options["canary_service"]
        if self.options["canary_namespace"] != self.namespace:
            ref["namespace"] = self.options["canary_namespace"]
        return ref

    def _forcing_headers(self, route):
        """The forcing header now, and the one the route's forced rules were written with."""
        annotations = route.get("metadata", {}).get("annotations") or {}
        return {
            header.lower()
            for header in (self.options.get("header"), annotations.get(FORCING_ANNOTATION))
            if header
        }

    def _is_forced(self, rule, headers):
        """A rule this provider wrote: the forcing header's always or never, one backend."""
        matches = rule.get("matches") or []
        refs = rule.get("backendRefs") or []
        return (
            bool(matches)
            and all(_forcing(match, headers) for match in matches)
            and len(refs) == 1
            and (self._is_stable(refs[0]) or self._is_canary(refs[0]))
        )

    def _user_rules(self, route):
        """``[(index, rule)]``: the route's own rules, without the forced ones."""
        headers = self._forcing_headers(route)
        return [
            (index, rule)
            for index, rule in enumerate(route.get("spec", {}).get("rules") or [])
            if not self._is_forced(rule, headers)
        ]

    def _traffic_rules(self, route):
        """``[(index, rule)]``: the route's own rules that send to the stable Service."""
        return [
            (index, rule)
            for index, rule in self._user_rules(route)
            if any(map(self._is_stable, rule.get("backendRefs") or []))
        ]

    # --- the interface --------------------------------------------------------------------

    def weight_of(self, route):
        """The canary's share; the largest one when the traffic rules disagree."""
        shares = [0]
        for _, rule in self._traffic_rules(route):
            refs = rule.get("backendRefs") or []
            stable = sum(ref.get("weight", 1) for ref in refs if self._is_stable(ref))
            canary = sum(ref.get("weight", 1) for ref in refs if self._is_canary(ref))
            shares.append(share(canary, stable))
        return max(shares)

    def with_weight(self, route, weight):
        if not self._traffic_rules(route):
            raise TrafficError(self._no_traffic_rule())
        kept, forced = [], []
        for _, rule in self._user_rules(route):
            refs = rule.get("backendRefs") or []
            stable_ref = next((ref for ref in refs if self._is_stable(ref)), None)
            if stable_ref is None:
                kept.append(rule)
                continue
            if any(not (self._is_stable(ref) or self._is_canary(ref)) for ref in refs):
                raise TrafficError(
                    f"{self.describe()} has a rule that sends to other backends besides the "
                    "stable and the canary Service; its weights would not be shares"
                )
            canary_ref = next((ref for ref in refs if self._is_canary(ref)), None)
            canary_ref = canary_ref or self._canary_ref(stable_ref)
            rule["backendRefs"] = [
                {**stable_ref, "weight": 100 - weight},
                {**canary_ref, "weight": weight},
            ]
            kept.append(rule)
            forced.extend(self._forced_rules(rule, stable_ref, canary_ref))
        route["spec"]["rules"] = kept + forced
        annotations = route["metadata"].setdefault("annotations", {})
        annotations.pop(FORCING_ANNOTATION, None)
        if self.options.get("header"):
            annotations[FORCING_ANNOTATION] = self.options["header"]
        if not annotations:
            del route["metadata"]["annotations"]
        return route

    def _forced_rules(self, rule, stable_ref, canary_ref):
        """The always/never rules for one traffic rule: its matches plus the header."""
        header = self.options.get("header")
        if not header:
            return []
        matches = rule.get("matches") or [{"path": {"type": "PathPrefix", "value": "/"}}]
        result = []
        for value, ref in ((ALWAYS, canary_ref), (NEVER, stable_ref)):
            forced = copy.deepcopy(rule)
            forced["matches"] = [
                {
                    **copy.deepcopy(match),
                    "headers": [
                        *(match.get("headers") or []),
                        {"name": header, "type": "Exact", "value": value},
                    ],
                }
                for match in matches
            ]
            forced["backendRefs"] = [{**ref, "weight": 1}]
            if rule.get("name"):
                # Rule names are unique within a route.
                forced["name"] = f"{rule['name']}-{value}"
            result.append(forced)
        return result

    def write_weight(self, weight):
        changed = super().write_weight(weight)
        return self._ensure_reference_grant() or changed

    # --- the ReferenceGrant ---------------------------------------------------------------

    def _grant_allows(self, grant):
        spec = grant.get("spec") or {}
        from_ok = any(
            item.get("group") == GROUP
            and item.get("kind") == "HTTPRoute"
            and item.get("namespace") == self.namespace
            for item in spec.get("from") or []
        )
        to_ok = any(
            item.get("group", "") == ""
            and item.get("kind") == "Service"
            and item.get("name") in (None, "", self.options["canary_service"])
            for item in spec.get("to") or []
        )
        return from_ok and to_ok

    def _grant_problem(self):
        """Why no ReferenceGrant can be looked for, or None when one can."""
        canary_namespace = self.options["canary_namespace"]
        if not self.cluster.served(GRANT_API_VERSION, "ReferenceGrant"):
            return (
                f"this cluster does not serve ReferenceGrants ({GRANT_API_VERSION}), so none "
                f"was checked or created for the canary Service "
                f"{canary_namespace}/{self.options['canary_service']}; a Gateway API "
                f"implementation refuses a backendRef to another namespace without one"
            )
        return None

    def _ensure_reference_grant(self):
        """Create the ReferenceGrant the canary Service needs; return whether it did."""
        canary_namespace = self.options["canary_namespace"]
        if canary_namespace == self.namespace or not self.options["reference_grant"]:
            return False
        problem = self._grant_problem()
        if problem:
            self.warnings.append(problem)
            return False
        # Without its namespace there is no canary Service to send to yet (a dry run of
        # prepare.yml, or a rollback after finalize.yml removed it).
        if self.cluster.get("v1", "Namespace", canary_namespace) is None:
            return False
        grants = self.cluster.list(GRANT_API_VERSION, "ReferenceGrant", canary_namespace)
        if any(map(self._grant_allows, grants)):
            return False
        self.cluster.create(
            {
                "apiVersion": GRANT_API_VERSION,
                "kind": "ReferenceGrant",
                "metadata": {
                    "name": f"{self.object_name()}-from-{self.namespace}"[:253],
                    "namespace": canary_namespace,
                    "labels": dict(MANAGED_BY),
                },
                "spec": {
                    "from": [{"group": GROUP, "kind": "HTTPRoute", "namespace": self.namespace}],
                    "to": [
                        {"group": "", "kind": "Service", "name": self.options["canary_service"]}
                    ],
                },
            }
        )
        return True

    # --- the spec check -------------------------------------------------------------------

    def _no_traffic_rule(self):
        return (
            f"{self.describe()} has no rule with a backendRef to the stable Service "
            f"{self.release_namespace}/{self.options['stable_service']}"
        )

    def problems(self, spec):
        route = self.fetch()
        field = f"canary.traffic.{self.name}"
        if route is None:
            return [f"{field}.name: {self.describe()} does not exist"]
        _, errors = single_forcing(spec, "header", self.name)
        errors.extend(weight_problems(spec, self.name))
        traffic = self._traffic_rules(route)
        if not traffic:
            errors.append(f"{field}.name: {self._no_traffic_rule()}")
        for index, rule in traffic:
            others = [
                ref.get("name")
                for ref in rule.get("backendRefs") or []
                if not (self._is_stable(ref) or self._is_canary(ref))
            ]
            if others:
                errors.append(
                    f"{field}.name: rule {index} of {self.describe()} also sends to "
                    f"{', '.join(map(str, others))}; a traffic rule may only send to the "
                    "stable and the canary Service, or the weights would not be shares"
                )
        if self.options.get("header"):
            needed = len(self._user_rules(route)) + 2 * len(traffic)
            if needed > MAX_RULES:
                errors.append(
                    f"{field}.name: {self.describe()} would need {needed} rules with the "
                    f"forced routing of {len(traffic)} traffic rule(s); an HTTPRoute holds "
                    f"{MAX_RULES} at most"
                )
        canary_namespace = self.options["canary_namespace"]
        if (
            canary_namespace != self.namespace
            and not self.options["reference_grant"]
            and self._grant_problem() is None
            and not any(
                map(
                    self._grant_allows,
                    self.cluster.list(GRANT_API_VERSION, "ReferenceGrant", canary_namespace),
                )
            )
        ):
            errors.append(
                f"{field}.reference_grant: no ReferenceGrant in {canary_namespace} lets "
                f"HTTPRoutes of {self.namespace} send to the Service "
                f"{self.options['canary_service']}; create one or set reference_grant: true"
            )
        return errors
