"""The interface every traffic provider implements.

A provider moves a share of requests (0-100) to the canary by editing the one
object its router reads: a ConfigMap, an HTTPRoute, a canary Ingress, a
VirtualService or a Route (or, without a router, the canary's replica count).
Adding a provider is one file with one subclass and one line in the registry
(``traffic/__init__.py``).
"""

import abc
import copy
from typing import ClassVar

from ansible.module_utils.cluster import Conflict
from ansible.module_utils.targeting import FORCED_KINDS, default_spec, kinds_of

ALWAYS, NEVER = "always", "never"
# Replaces after a lost race (someone else wrote the object between our read and write).
ATTEMPTS = 3


class TrafficError(Exception):
    """The traffic object cannot be read or changed as asked."""


class TrafficProvider(abc.ABC):
    """Read and set the canary weight on one traffic object.

    ``options`` are the provider's own settings from the release spec
    (``canary.traffic.<provider>``); ``OPTIONS`` documents them as an Ansible
    argument spec so the spec validator and the module can check them.
    ``namespace`` is the release's (stable) namespace.
    """

    name = ""
    OPTIONS: ClassVar[dict] = {}
    # Options every provider instance needs; the release spec fills them (release_defaults),
    # a direct call of canary_traffic has to give them.
    NEEDS: ClassVar[tuple] = ()

    def __init__(self, cluster, options, namespace):
        self.cluster = cluster
        self.options = self.resolve_options(options, namespace)
        self.namespace = self.options["namespace"]
        self.release_namespace = namespace
        # Things the caller should tell the operator (canary_traffic warns them).
        self.warnings = []
        missing = [key for key in self.NEEDS if not self.options.get(key)]
        if missing:
            raise TrafficError(
                f"the {self.name} provider needs the option(s) {', '.join(missing)}; the "
                "release spec fills them from canary.workload and canary.canary_namespace"
            )

    @classmethod
    def resolve_options(cls, options, namespace, release=None):
        """The options with the provider's defaults filled in.

        ``namespace`` defaults the object's namespace to the service's; ``release`` (the
        release spec being completed, with ``workload.service`` and
        ``workload.canary_service`` set) fills what depends on it, such as the stable and
        canary Services. Options given explicitly win over both.
        """
        resolved = {key: spec["default"] for key, spec in cls.OPTIONS.items() if "default" in spec}
        if release is not None:
            resolved.update(cls.release_defaults(release))
        resolved.update({key: value for key, value in (options or {}).items() if value is not None})
        resolved["namespace"] = resolved.get("namespace") or namespace
        return resolved

    @classmethod
    def release_defaults(cls, release):
        """Defaults taken from the release spec; none by default."""
        return {}

    @classmethod
    def unsupported_kinds(cls, kinds):
        """``{kind: reason}`` for the targeting rule kinds this router cannot express.

        The default suits a router that splits by weight and can force a track with one
        header: every other kind is refused at spec-check time.
        """
        return {
            kind: f"the {cls.name} provider only splits by weight and forces a track by a header"
            for kind in kinds
            if kind not in ("header", "hash")
        }

    def problems(self, spec):
        """Errors, each naming its field, about the traffic object; read only.

        Called by the spec check with the completed release spec. The default only
        requires the object to exist.
        """
        if self.read_weight() is None:
            return [f"canary.traffic: {self.describe()} does not exist"]
        return []

    @abc.abstractmethod
    def describe(self):
        """Name the traffic object, for messages and the ledger."""

    @abc.abstractmethod
    def read_weight(self):
        """Return the canary weight now in force (int), or None when the object is missing."""

    @abc.abstractmethod
    def write_weight(self, weight):
        """Set the canary weight; the object must exist (TrafficError otherwise)."""

    def achieved_weight(self, weight):
        """The share a write of ``weight`` puts in force; exact unless the router is coarse."""
        return weight

    def preview(self, weight):
        """``(before, after)`` of what ``set_weight(weight)`` changes, for the diff; read only."""
        return {"weight": self.read_weight()}, {"weight": self.achieved_weight(weight)}

    def set_weight(self, weight):
        """Set the weight when it differs and say what changed.

        Returns ``(previous, current, changed)``. Idempotent: a second call with
        the same weight changes nothing.
        """
        check_weight(weight)
        previous = self.read_weight()
        if previous is None:
            raise TrafficError(self.missing())
        return previous, weight, self.apply_weight(previous, weight)

    def apply_weight(self, previous, weight):
        """Write ``weight`` unless ``previous`` is it already; return whether it wrote."""
        if previous == weight:
            return False
        self.write_weight(weight)
        return True

    def missing(self):
        """The message for a traffic object that does not exist."""
        return f"{self.describe()} does not exist"


def check_weight(weight):
    if not 0 <= weight <= 100:
        raise TrafficError(f"weight must be between 0 and 100, got {weight}")


class ObjectTrafficProvider(TrafficProvider):
    """A provider that owns part of one routing object and rewrites it as a whole.

    Subclasses say how to read the share from the object (``weight_of``) and what the
    object looks like with a given weight (``with_weight``, which also puts the forced
    routing in place). Setting a weight writes the object only when that differs from
    what is there, so a second call changes nothing, and a route whose forced-routing
    rules were removed by hand gets them back even when its weight is already right.
    Writes are replaces with the read resourceVersion: a concurrent edit is re-read,
    never overwritten.
    """

    API_VERSION = ""
    KIND = ""

    def object_name(self):
        return self.options["name"]

    def api_version(self):
        return self.API_VERSION

    def describe(self):
        return f"{self.KIND} {self.namespace}/{self.object_name()}"

    def fetch(self):
        api_version = self.api_version()
        if not self.cluster.served(api_version, self.KIND):
            raise TrafficError(
                f"this cluster does not serve {self.KIND} ({api_version}), which the "
                f"{self.name} provider edits"
            )
        return self.cluster.get(api_version, self.KIND, self.object_name(), self.namespace)

    @abc.abstractmethod
    def weight_of(self, obj):
        """The canary's share (0-100) in force in ``obj``."""

    @abc.abstractmethod
    def with_weight(self, obj, weight):
        """``obj`` (a copy, changed in place and returned) sending ``weight`` percent to the canary."""

    def read_weight(self):
        obj = self.fetch()
        return None if obj is None else self.weight_of(obj)

    def apply_weight(self, previous, weight):
        return self.write_weight(weight)

    def write_weight(self, weight):
        """Rewrite the object for ``weight`` when that changes it; return whether it did."""
        for _ in range(ATTEMPTS):
            obj = self.fetch()
            if obj is None:
                raise TrafficError(self.missing())
            wanted = self.with_weight(copy.deepcopy(obj), weight)
            if wanted == obj:
                return False
            try:
                self.cluster.replace(wanted)
            except Conflict:
                continue
            return True
        raise TrafficError(f"{self.describe()} kept changing while its weight was being set")


def share(canary, stable):
    """The canary's percentage of two relative weights, rounded; 0 when both are 0."""
    total = canary + stable
    if total <= 0:
        return 0
    return int(100 * canary / total + 0.5)


def _rules(release):
    """The targeting rules in force: the spec's, else the forcing header and the weight."""
    targeting = (release.get("traffic") or {}).get("targeting")
    if targeting:
        return targeting.get("rules") or []
    header = (release.get("validation") or {}).get("canary_header")
    return default_spec(header)["rules"] if header else []


def forced_rules(release):
    """``[(index, kind, name)]``: the rules that force a track, in the order they apply."""
    return [
        (index, kind, rule[kind])
        for index, rule in enumerate(_rules(release))
        for kind in sorted(kinds_of(rule) & FORCED_KINDS)
    ]


def single_forcing(release, kind, provider):
    """The one header (or cookie) that forces a track, and errors for any second one."""
    found = [(index, name) for index, rule_kind, name in forced_rules(release) if rule_kind == kind]
    errors = [
        f"canary.traffic.targeting.rules[{index}]: {provider} forces a track by one {kind} "
        f"({found[0][1]}); {name} would be a second"
        for index, name in found[1:]
    ]
    return (found[0][1] if found else None), errors


def routing_problems(spec, provider):
    """Errors for validation routes that rely on the forcing header a router cannot honour."""
    validation = spec.get("validation") or {}
    routes = validation.get("route") or {}
    errors = []
    needed = ["canary"]
    if validation.get("journeys") and validation.get("compare_stable", True):
        needed.append("stable")
    for target in needed:
        route = routes.get(target) or {}
        if not route.get("url") or route["url"] == validation.get("url"):
            errors.append(
                f"canary.validation.route.{target}: the {provider} provider cannot force a "
                f"track by header or cookie; give a URL that reaches the {target} alone, such "
                f"as its Service's (route.{target}.url)"
            )
    return errors


def weight_problems(spec, provider):
    """A router's weight goes to everyone not forced: the targeting must end saying so.

    (That rule's share is the stage's weight, no fixed share or bounds: the targeting
    check refuses those for providers that cannot match attributes.)
    """
    targeting = (spec.get("traffic") or {}).get("targeting")
    rules = (targeting or {}).get("rules") or []
    if not targeting or (rules and kinds_of(rules[-1]) == {"hash"}):
        return []
    return [
        f"canary.traffic.targeting.rules: the {provider} provider sends each stage's weight "
        "to everyone not forced; end the rules with a rule for everyone ({share: stage})"
    ]
