"""Readers of live traffic objects: what share of users the canary gets, and how to force it.

One small reader per kind of traffic object, picked by ``traffic.provider`` in the
router config, each returning ``TrafficRules``. The ConfigMap provider is the seed's
behaviour (ConfigMap ``traffic-config``, key ``canary_percentage``); Gateway API
HTTPRoute, canary Ingress, Istio VirtualService and OpenShift Route readers slot into
``READERS`` the same way.

Fail closed: a missing object or a value that is not an integer in 0..100 means
weight 0, and the reason is logged once per distinct problem.
"""

import dataclasses
import logging

LOG = logging.getLogger("sandbox.traffic")
DEFAULT_HEADER = "X-Canary"


@dataclasses.dataclass(frozen=True)
class TrafficRules:
    """The canary weight (0..100) and the header that forces a track (always/never)."""

    weight: int = 0
    canary_header: str = DEFAULT_HEADER
    problem: str = ""


def parse_weight(raw):
    """Return (weight, problem): an int in 0..100, or 0 with the reason it was refused."""
    text = str(raw).strip() if raw is not None else ""
    try:
        weight = int(text)
    except ValueError:
        return 0, f"canary weight {raw!r} is not an integer; using 0"
    if not 0 <= weight <= 100:
        return 0, f"canary weight {weight} is outside 0..100; using 0"
    return weight, ""


class ConfigMapReader:
    """Weight from a key of a ConfigMap; the forced-routing header comes from the config."""

    kind = "ConfigMap"

    def __init__(self, settings):
        self.namespace = settings.get("namespace", "yyc3-short-drama")
        self.name = settings.get("name", "traffic-config")
        self.key = settings.get("key", "canary_percentage")
        self.header = settings.get("header", DEFAULT_HEADER)

    def read(self, client):
        configmap = client.get("ConfigMap", self.namespace, self.name)
        if configmap is None:
            problem = f"ConfigMap {self.namespace}/{self.name} not found; using weight 0"
            return TrafficRules(0, self.header, problem)
        weight, problem = parse_weight((configmap.get("data") or {}).get(self.key))
        return TrafficRules(weight, self.header, problem)


READERS = {"configmap": ConfigMapReader}


def make_reader(traffic_config):
    """Build the reader named by ``provider`` from its own section of the config."""
    provider = traffic_config.get("provider", "configmap")
    if provider not in READERS:
        raise ValueError(f"traffic.provider {provider!r} is not one of {sorted(READERS)}")
    return READERS[provider](traffic_config.get(provider) or {})
