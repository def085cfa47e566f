"""Traffic through an ingress-nginx canary Ingress beside the stable one.

ingress-nginx sends part of a host and path to a second Ingress marked
``nginx.ingress.kubernetes.io/canary: "true"`` for the same host and path, by these
annotations, tried in this order: ``canary-by-header`` (``always`` -> canary,
``never`` -> stable, any other value falls through; ``canary-by-header-value`` or
``-pattern`` replace ``always``, and then nothing forces stable),
``canary-by-cookie`` (``always`` / ``never``), then ``canary-weight`` out of
``canary-weight-total`` (default 100), a per-request share.

The provider owns the canary Ingress and builds it from the stable Ingress at every
write: every host and path of the stable Ingress that sends to the stable Service,
sending to the canary Service instead, with the stable Ingress's class. An Ingress
sends only to Services of its own namespace, so the canary Ingress lives in the
canary namespace (ingress-nginx joins Ingresses of any namespace by host and path).
It is created at the first write (prepare.yml holds the weight at 0, so the forcing
header reaches the canary before any stage) and kept at weight 0 afterwards.
ingress-nginx honours one canary Ingress per host and path: the spec check refuses
a second one.
"""

import copy
from typing import ClassVar

from ansible.module_utils.cluster import Conflict
from ansible.module_utils.traffic.base import (
    ATTEMPTS,
    TrafficError,
    TrafficProvider,
    single_forcing,
    weight_problems,
)
from ansible.module_utils.workload import MANAGED_BY

API_VERSION = "networking.k8s.io/v1"
PREFIX = "nginx.ingress.kubernetes.io/"
CANARY = PREFIX + "canary"
WEIGHT = PREFIX + "canary-weight"
WEIGHT_TOTAL = PREFIX + "canary-weight-total"
BY_HEADER = PREFIX + "canary-by-header"
BY_HEADER_VALUE = PREFIX + "canary-by-header-value"
BY_HEADER_PATTERN = PREFIX + "canary-by-header-pattern"
BY_COOKIE = PREFIX + "canary-by-cookie"
# The class annotation older Ingresses use instead of spec.ingressClassName.
LEGACY_CLASS = "kubernetes.io/ingress.class"


def _is_canary(ingress):
    return (ingress.get("metadata", {}).get("annotations") or {}).get(CANARY) == "true"


def _host_paths(ingress):
    """The ``(host, path)`` pairs an Ingress routes."""
    return {
        (rule.get("host", ""), path.get("path", "/"))
        for rule in ingress.get("spec", {}).get("rules") or []
        for path in (rule.get("http") or {}).get("paths") or []
    }


def _owned(ingress):
    labels = ingress.get("metadata", {}).get("labels") or {}
    return all(labels.get(key) == value for key, value in MANAGED_BY.items())


class IngressNginxTraffic(TrafficProvider):
    name = "ingress_nginx"
    OPTIONS: ClassVar[dict] = {
        # The stable Ingress (in namespace); default: the stable Service's name.
        "stable_ingress": {"type": "str"},
        # The canary Ingress (in canary_namespace); default: <stable_ingress>-canary.
        "name": {"type": "str"},
        "namespace": {"type": "str"},
        "stable_service": {"type": "str"},
        "canary_service": {"type": "str"},
        "canary_namespace": {"type": "str"},
        # canary-by-header; default: the targeting's header rule, else
        # validation.canary_header.
        "header": {"type": "str"},
        # canary-by-header-value / -pattern: only this value (or a match) forces the canary.
        "header_value": {"type": "str"},
        "header_pattern": {"type": "str"},
        # canary-by-cookie; default: the targeting's cookie rule.
        "cookie": {"type": "str"},
        "weight_total": {"type": "int", "default": 100},
    }
    NEEDS = ("stable_ingress", "name", "stable_service", "canary_service", "canary_namespace")

    @classmethod
    def resolve_options(cls, options, namespace, release=None):
        resolved = super().resolve_options(options, namespace, release)
        if resolved.get("stable_ingress") and not resolved.get("name"):
            resolved["name"] = f"{resolved['stable_ingress']}-canary"
        return resolved

    @classmethod
    def release_defaults(cls, release):
        workload = release["workload"]
        header, _ = single_forcing(release, "header", cls.name)
        cookie, _ = single_forcing(release, "cookie", cls.name)
        return {
            "stable_ingress": workload["service"],
            "stable_service": workload["service"],
            "canary_service": workload["canary_service"],
            "canary_namespace": release["canary_namespace"],
            "header": header,
            "cookie": cookie,
        }

    @classmethod
    def unsupported_kinds(cls, kinds):
        reason = (
            "a canary Ingress knows one header, one cookie and a per-request weight, not "
            "user segments"
        )
        return {kind: reason for kind in kinds if kind in ("attribute", "region")}

    def describe(self):
        return (
            f"canary Ingress {self.options['canary_namespace']}/{self.options['name']} of "
            f"Ingress {self.namespace}/{self.options['stable_ingress']}"
        )

    def _stable(self):
        return self.cluster.get(
            API_VERSION, "Ingress", self.options["stable_ingress"], self.namespace
        )

    def _canary(self):
        return self.cluster.get(
            API_VERSION, "Ingress", self.options["name"], self.options["canary_namespace"]
        )

    def read_weight(self):
        if self._stable() is None:
            return None
        canary = self._canary()
        if canary is None or not _is_canary(canary):
            return 0
        annotations = canary["metadata"].get("annotations") or {}
        try:
            weight = int(annotations.get(WEIGHT, "0"))
            total = int(annotations.get(WEIGHT_TOTAL, "100"))
        except ValueError as err:
            raise TrafficError(
                f"{self.describe()} has a canary weight that is not a whole number: {err}"
            ) from err
        if total <= 0:
            raise TrafficError(f"{self.describe()} has canary-weight-total {total}")
        return max(0, min(100, int(100 * weight / total + 0.5)))

    # --- the canary Ingress ---------------------------------------------------------------

    def _canary_rules(self, stable):
        """The stable Ingress's hosts and paths that send to the stable Service, to the canary."""
        rules = []
        for rule in stable.get("spec", {}).get("rules") or []:
            paths = []
            for path in (rule.get("http") or {}).get("paths") or []:
                service = (path.get("backend") or {}).get("service") or {}
                if service.get("name") != self.options["stable_service"]:
                    continue
                canary_path = copy.deepcopy(path)
                canary_path["backend"] = {
                    "service": {
                        "name": self.options["canary_service"],
                        "port": copy.deepcopy(service.get("port") or {}),
                    }
                }
                paths.append(canary_path)
            if paths:
                host = {"host": rule["host"]} if rule.get("host") else {}
                rules.append({**host, "http": {"paths": paths}})
        return rules

    def _annotations(self, stable, current, weight):
        options = self.options
        total = options["weight_total"]
        kept = {
            key: value
            for key, value in (current.get("metadata", {}).get("annotations") or {}).items()
            if not key.startswith(PREFIX + "canary") and key != LEGACY_CLASS
        }
        ours = {
            CANARY: "true",
            WEIGHT: str(weight * total // 100),
            WEIGHT_TOTAL: str(total),
            BY_HEADER: options.get("header"),
            BY_HEADER_VALUE: options.get("header") and options.get("header_value"),
            BY_HEADER_PATTERN: options.get("header") and options.get("header_pattern"),
            BY_COOKIE: options.get("cookie"),
            LEGACY_CLASS: (stable["metadata"].get("annotations") or {}).get(LEGACY_CLASS),
        }
        return {**kept, **{key: value for key, value in ours.items() if value}}

    def _wanted(self, stable, current, weight):
        """The canary Ingress for ``weight``: ``current`` updated, or a new one."""
        wanted = (
            copy.deepcopy(current) if current else {"apiVersion": API_VERSION, "kind": "Ingress"}
        )
        metadata = wanted.setdefault("metadata", {})
        metadata["name"] = self.options["name"]
        metadata["namespace"] = self.options["canary_namespace"]
        metadata["labels"] = {**(metadata.get("labels") or {}), **MANAGED_BY}
        metadata["annotations"] = self._annotations(stable, current or {}, weight)
        spec = {"rules": self._canary_rules(stable)}
        if stable["spec"].get("ingressClassName"):
            spec["ingressClassName"] = stable["spec"]["ingressClassName"]
        wanted["spec"] = spec
        return wanted

    def missing(self):
        return f"Ingress {self.namespace}/{self.options['stable_ingress']} does not exist"

    def apply_weight(self, previous, weight):
        return self.write_weight(weight)

    def write_weight(self, weight):
        """Create or update the canary Ingress when that changes it; return whether it did."""
        for _ in range(ATTEMPTS):
            stable = self._stable()
            if stable is None:
                raise TrafficError(self.missing())
            if not self._canary_rules(stable):
                raise TrafficError(self._no_stable_path())
            current = self._canary()
            wanted = self._wanted(stable, current, weight)
            if wanted == current:
                return False
            if current is None and not self._canary_namespace_exists(weight):
                return False
            try:
                if current is None:
                    self.cluster.create(wanted)
                else:
                    self.cluster.replace(wanted)
            except Conflict:
                continue
            return True
        raise TrafficError(f"{self.describe()} kept changing while its weight was being set")

    def _canary_namespace_exists(self, weight):
        """Whether the canary Ingress can be created; weight 0 needs none without a canary.

        Without its namespace there is no canary to send to (a rollback before prepare.yml
        or after finalize.yml, a dry run of prepare.yml), so 0 is in force already.
        """
        namespace = self.options["canary_namespace"]
        if self.cluster.get("v1", "Namespace", namespace) is not None:
            return True
        if weight == 0:
            return False
        raise TrafficError(
            f"namespace {namespace} does not exist; the canary Ingress goes there, beside "
            "the canary Service (prepare.yml creates it)"
        )

    # --- the spec check -------------------------------------------------------------------

    def _no_stable_path(self):
        return (
            f"Ingress {self.namespace}/{self.options['stable_ingress']} has no path that "
            f"sends to the stable Service {self.options['stable_service']}"
        )

    def problems(self, spec):
        field = f"canary.traffic.{self.name}"
        stable = self._stable()
        if stable is None:
            return [
                f"{field}.stable_ingress: Ingress {self.namespace}/"
                f"{self.options['stable_ingress']} does not exist"
            ]
        errors = [*single_forcing(spec, "header", self.name)[1]]
        errors.extend(single_forcing(spec, "cookie", self.name)[1])
        errors.extend(weight_problems(spec, self.name))
        if self.options.get("header_value") and self.options.get("header_pattern"):
            errors.append(
                f"{field}.header_pattern: ingress-nginx ignores it when header_value is set; "
                "give one of them"
            )
        total = self.options["weight_total"]
        if total < 100 or total % 100:
            errors.append(
                f"{field}.weight_total: must be a multiple of 100 so that every whole "
                f"percentage is a whole canary-weight, got {total}"
            )
        rules = self._canary_rules(stable)
        if not rules:
            errors.append(f"{field}.stable_ingress: {self._no_stable_path()}")
            return errors
        wanted = _host_paths({"spec": {"rules": rules}})
        current = self._canary()
        if current is not None and not _owned(current) and _host_paths(current) != wanted:
            errors.append(
                f"{field}.name: Ingress {self.options['canary_namespace']}/{self.options['name']} "
                f"exists, is not managed by canary-runbooks, and routes "
                f"{_describe_pairs(_host_paths(current))} instead of the stable Ingress's "
                f"{_describe_pairs(wanted)}; remove it or name another canary Ingress"
            )
        errors.extend(self._second_canaries(wanted))
        return errors

    def _second_canaries(self, wanted):
        """Other canary Ingresses for the same hosts and paths: ingress-nginx honours one."""
        errors = []
        ours = (self.options["canary_namespace"], self.options["name"])
        for namespace in dict.fromkeys((self.namespace, self.options["canary_namespace"])):
            if self.cluster.get("v1", "Namespace", namespace) is None:
                continue
            for ingress in self.cluster.list(API_VERSION, "Ingress", namespace):
                metadata = ingress["metadata"]
                if (namespace, metadata["name"]) == ours or not _is_canary(ingress):
                    continue
                shared = _host_paths(ingress) & wanted
                if shared:
                    errors.append(
                        f"canary.traffic.{self.name}.name: Ingress {namespace}/"
                        f"{metadata['name']} is already a canary for "
                        f"{_describe_pairs(shared)}; ingress-nginx honours one canary Ingress "
                        "per host and path"
                    )
        return errors


def _describe_pairs(pairs):
    return ", ".join(f"{host or '*'}{path}" for host, path in sorted(pairs))
