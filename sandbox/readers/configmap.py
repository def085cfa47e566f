"""The ConfigMap the application's own router reads: the seed's provider.

The weight is a key (``canary_percentage``) of ``traffic-config``; the forcing header
comes from the router config. When the configmap provider published a targeting spec
(key ``targeting``, JSON), it rides along for ``sandbox.routing`` to apply.
"""

import json

from sandbox.readers.rules import DEFAULT_HEADER, TrafficRules, parse_weight


class ConfigMapReader:
    kind = "ConfigMap"

    def __init__(self, settings, tracks):
        self.namespace = settings.get("namespace", "yyc3-short-drama")
        self.name = settings.get("name", "traffic-config")
        self.key = settings.get("key", "canary_percentage")
        self.header = settings.get("header", DEFAULT_HEADER)
        # The configmap provider's targeting_key option.
        self.targeting_key = settings.get("targeting_key", "targeting")

    def read(self, client):
        configmap = client.get("ConfigMap", self.namespace, self.name)
        if configmap is None:
            problem = f"ConfigMap {self.namespace}/{self.name} not found; using weight 0"
            return TrafficRules(0, self.header, problem)
        data = configmap.get("data") or {}
        weight, problem = parse_weight(data.get(self.key))
        raw = data.get(self.targeting_key)
        if raw is None or not raw.strip():
            return TrafficRules(weight, self.header, problem)
        try:
            targeting = json.loads(raw)
        except ValueError as error:
            targeting = error
        if not isinstance(targeting, dict):
            # Half a targeting spec could send users the release never meant to: none at all.
            problem = (
                f"ConfigMap {self.namespace}/{self.name} key {self.targeting_key} is not a JSON "
                f"object ({targeting}); using weight 0"
            )
            return TrafficRules(0, self.header, problem)
        return TrafficRules(weight, self.header, problem, targeting=targeting)
