"""Traffic through a ConfigMap key that the application's router reads.

This is the original plan's mechanism: ``traffic-config`` with the key
``canary_percentage`` holding the share of users (by the sticky md5 bucket)
that the application routes to the canary.
"""

from typing import ClassVar

from ansible.module_utils.traffic.base import TrafficError, TrafficProvider


class ConfigMapTraffic(TrafficProvider):
    name = "configmap"
    OPTIONS: ClassVar[dict] = {
        "name": {"type": "str", "default": "traffic-config"},
        "namespace": {"type": "str"},
        "key": {"type": "str", "default": "canary_percentage"},
    }

    def describe(self):
        return f"ConfigMap {self.namespace}/{self.options['name']} key {self.options['key']}"

    def read_weight(self):
        config_map = self.cluster.get("v1", "ConfigMap", self.options["name"], self.namespace)
        if config_map is None:
            return None
        raw = (config_map.get("data") or {}).get(self.options["key"])
        if raw is None or str(raw).strip() == "":
            return 0
        try:
            return int(str(raw).strip())
        except ValueError as err:
            raise TrafficError(f"{self.describe()} holds {raw!r}, not a whole percentage") from err

    def write_weight(self, weight):
        self.cluster.merge_patch(
            "v1",
            "ConfigMap",
            self.options["name"],
            self.namespace,
            {"data": {self.options["key"]: str(weight)}},
        )
