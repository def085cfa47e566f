"""The registry of traffic providers: one line per provider."""

from ansible.module_utils.traffic.base import TrafficError
from ansible.module_utils.traffic.configmap import ConfigMapTraffic
from ansible.module_utils.traffic.gateway_api import GatewayApiTraffic
from ansible.module_utils.traffic.ingress_nginx import IngressNginxTraffic
from ansible.module_utils.traffic.istio import IstioTraffic
from ansible.module_utils.traffic.openshift_route import OpenShiftRouteTraffic
from ansible.module_utils.traffic.replicas import ReplicasTraffic

PROVIDERS = {
    provider.name: provider
    for provider in (
        ConfigMapTraffic,
        GatewayApiTraffic,
        IngressNginxTraffic,
        IstioTraffic,
        OpenShiftRouteTraffic,
        ReplicasTraffic,
    )
}


def make_provider(cluster, provider, options, namespace):
    """Return the provider named in the spec, bound to the cluster."""
    if provider not in PROVIDERS:
        raise TrafficError(
            f"unknown traffic provider {provider!r}; choose one of {', '.join(sorted(PROVIDERS))}"
        )
    return PROVIDERS[provider](cluster, options or {}, namespace)
