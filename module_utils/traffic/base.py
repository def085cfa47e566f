"""The interface every traffic provider implements.

A provider moves a share of requests (0-100) to the canary by editing the one
object its router reads: a ConfigMap, an HTTPRoute, a canary Ingress, a
VirtualService or a Route. Adding a provider is one file with one subclass and
one line in the registry (``traffic/__init__.py``).
"""

import abc
from typing import ClassVar


class TrafficError(Exception):
    """The traffic object cannot be read or changed as asked."""


class TrafficProvider(abc.ABC):
    """Read and set the canary weight on one traffic object.

    ``options`` are the provider's own settings from the release spec
    (``canary.traffic.<provider>``); ``OPTIONS`` documents them as an Ansible
    argument spec so the spec validator and the module can check them.
    """

    name = ""
    OPTIONS: ClassVar[dict] = {}

    def __init__(self, cluster, options, namespace):
        self.cluster = cluster
        self.options = self.resolve_options(options, namespace)
        self.namespace = self.options["namespace"]

    @classmethod
    def resolve_options(cls, options, namespace):
        """The options with the provider's defaults filled in; namespace defaults to the service's."""
        resolved = {key: spec["default"] for key, spec in cls.OPTIONS.items() if "default" in spec}
        resolved.update({key: value for key, value in (options or {}).items() if value is not None})
        resolved["namespace"] = resolved.get("namespace") or namespace
        return resolved

    @abc.abstractmethod
    def describe(self):
        """Name the traffic object, for messages and the ledger."""

    @abc.abstractmethod
    def read_weight(self):
        """Return the canary weight now in force (int), or None when the object is missing."""

    @abc.abstractmethod
    def write_weight(self, weight):
        """Set the canary weight; the object must exist (TrafficError otherwise)."""

    def set_weight(self, weight):
        """Set the weight when it differs and say what changed.

        Returns ``(previous, current, changed)``. Idempotent: a second call with
        the same weight changes nothing.
        """
        if not 0 <= weight <= 100:
            raise TrafficError(f"weight must be between 0 and 100, got {weight}")
        previous = self.read_weight()
        if previous is None:
            raise TrafficError(f"{self.describe()} does not exist")
        if previous == weight:
            return previous, weight, False
        self.write_weight(weight)
        return previous, weight, True
