"""Traffic through a ConfigMap that the application's router reads.

This is the original plan's mechanism: ``traffic-config`` with the key
``canary_percentage`` holding the share of users (by the sticky md5 bucket)
that the application routes to the canary. With a targeting spec
(``canary.traffic.targeting``) the provider also publishes the whole spec, as JSON,
under the key ``targeting`` beside the weight, for the application to apply
(``module_utils/targeting.py`` is the reference implementation): the application
decides every request, so every kind of rule can be expressed. Without a spec that key
is removed, so a spec from an earlier release never lingers. The weight and the spec
are written in one patch, so the application never sees one without the other.
"""

import json
from typing import ClassVar

from ansible.module_utils.targeting import validate
from ansible.module_utils.traffic.base import TrafficError, TrafficProvider


class ConfigMapTraffic(TrafficProvider):
    name = "configmap"
    OPTIONS: ClassVar[dict] = {
        "name": {"type": "str", "default": "traffic-config"},
        "namespace": {"type": "str"},
        "key": {"type": "str", "default": "canary_percentage"},
        # Where the targeting spec is published, as JSON.
        "targeting_key": {"type": "str", "default": "targeting"},
    }

    def __init__(self, cluster, options, namespace):
        super().__init__(cluster, options, namespace)
        if self.options["targeting_key"] == self.options["key"]:
            raise TrafficError(
                f"options.targeting_key: must differ from options.key ({self.options['key']}), "
                "which holds the weight"
            )
        spec = self.options.get("targeting")
        if spec is not None:
            errors = validate(spec, "options.targeting")
            if errors:
                raise TrafficError("; ".join(errors))

    @classmethod
    def release_defaults(cls, release):
        """The release's targeting spec (completed by the spec check), to publish."""
        spec = release["traffic"].get("targeting")
        return {} if spec is None else {"targeting": spec}

    @classmethod
    def unsupported_kinds(cls, kinds):
        """None: the application applies the published spec, so it expresses every kind."""
        return {}

    def describe(self):
        return f"ConfigMap {self.namespace}/{self.options['name']} key {self.options['key']}"

    def _fetch(self):
        return self.cluster.get("v1", "ConfigMap", self.options["name"], self.namespace)

    def _weight_of(self, config_map):
        raw = (config_map.get("data") or {}).get(self.options["key"])
        if raw is None or str(raw).strip() == "":
            return 0
        try:
            return int(str(raw).strip())
        except ValueError as err:
            raise TrafficError(f"{self.describe()} holds {raw!r}, not a whole percentage") from err

    def _targeting_of(self, config_map):
        """The published spec: a dict, None when there is none, else the text as found."""
        raw = (config_map.get("data") or {}).get(self.options["targeting_key"])
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw

    def _changes(self, config_map, weight):
        """The data keys to patch for ``weight`` and the spec; empty when both are in force."""
        changes = {}
        if self._weight_of(config_map) != weight:
            changes[self.options["key"]] = str(weight)
        spec = self.options.get("targeting")
        # Compared as data, so a spec only re-indented by hand is left as it is.
        if self._targeting_of(config_map) != spec:
            changes[self.options["targeting_key"]] = (
                None if spec is None else json.dumps(spec, indent=2, ensure_ascii=False)
            )
        return changes

    def _existing(self):
        config_map = self._fetch()
        if config_map is None:
            raise TrafficError(self.missing())
        return config_map

    def read_weight(self):
        config_map = self._fetch()
        return None if config_map is None else self._weight_of(config_map)

    def apply_weight(self, previous, weight):
        return self.write_weight(weight)

    def write_weight(self, weight):
        """Patch the weight and the published spec where they differ; return whether it did."""
        changes = self._changes(self._existing(), weight)
        if changes:
            # A merge patch: the other keys are the application's; a null removes a key.
            self.cluster.merge_patch(
                "v1", "ConfigMap", self.options["name"], self.namespace, {"data": changes}
            )
        return bool(changes)

    def preview(self, weight):
        """``(before, after)``: the weight and the published spec now, and once set.

        Read only, so the module can show what ``set_weight`` changes in check mode too.
        """
        config_map = self._existing()
        before = {
            "weight": self._weight_of(config_map),
            "targeting": self._targeting_of(config_map),
        }
        return before, {"weight": weight, "targeting": self.options.get("targeting")}
