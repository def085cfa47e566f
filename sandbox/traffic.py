"""Readers of live traffic objects: what share of users the canary gets, and how to force it.

One reader per kind of traffic object (``sandbox/readers/``), picked by
``traffic.provider`` in the router config and configured by the section named after
it, each returning ``TrafficRules``:

- ``configmap``: ConfigMap ``traffic-config``, key ``canary_percentage`` (the seed's);
- ``gateway_api``: HTTPRoute ``frontend`` (backendRefs weights, header matches);
- ``ingress_nginx``: the canary Ingress beside Ingress ``frontend`` (annotations);
- ``istio``: VirtualService ``frontend`` (route weights, header matches);
- ``openshift_route``: Route ``frontend`` (spec.to and alternateBackends weights);
- ``replicas``: no object, the share of ready pods.

Fail closed: a missing object, or one the real controller would refuse, sends every
request to stable (weight 0), and the router logs the reason once per distinct problem.
"""

from sandbox.readers.configmap import ConfigMapReader
from sandbox.readers.gateway_api import HTTPRouteReader
from sandbox.readers.ingress_nginx import IngressReader
from sandbox.readers.istio import VirtualServiceReader
from sandbox.readers.openshift_route import RouteReader
from sandbox.readers.replicas import ReplicasReader
from sandbox.readers.rules import DEFAULT_HEADER, Tracks, TrafficRules, parse_weight

__all__ = ["DEFAULT_HEADER", "READERS", "TrafficRules", "make_reader", "parse_weight"]

READERS = {
    "configmap": ConfigMapReader,
    "gateway_api": HTTPRouteReader,
    "ingress_nginx": IngressReader,
    "istio": VirtualServiceReader,
    "openshift_route": RouteReader,
    "replicas": ReplicasReader,
}
DEFAULT_BACKENDS = {
    "stable": {"namespace": "yyc3-short-drama", "service": "frontend"},
    "canary": {"namespace": "yyc3-short-drama-canary", "service": "frontend-canary"},
}


def make_reader(traffic_config, backends=None):
    """Build the reader named by ``provider`` from its own section of the config.

    ``backends`` are the router's two Services (track -> namespace and service): the
    readers map the object's Service references onto them.
    """
    provider = traffic_config.get("provider", "configmap")
    if provider not in READERS:
        raise ValueError(f"traffic.provider {provider!r} is not one of {sorted(READERS)}")
    tracks = Tracks(backends or DEFAULT_BACKENDS)
    return READERS[provider](traffic_config.get(provider) or {}, tracks)
