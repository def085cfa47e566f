"""No router at all: one Service selects the pods of both tracks, kube-proxy spreads them.

The reader reads that Service's EndpointSlices (``service``, default the stable Service's
name): the router then sends each request to the next of those ready pods in turn, so
the canary's share is its share of the ready pods, and a Service that does not select
the canary's pods sends it nothing, as in a cluster. Nothing can force a track.
"""

from sandbox.readers.rules import TrafficRules
from sandbox.routing import backends_from_slices, service_slices


class ReplicasReader:
    kind = "EndpointSlice"

    def __init__(self, settings, tracks):
        self.namespace = settings.get("namespace", "yyc3-short-drama")
        self.service = settings.get("service", "frontend")

    def read(self, client):
        if client.get("Service", self.namespace, self.service) is None:
            problem = (
                f"Service {self.namespace}/{self.service} (the one selecting both tracks) not "
                "found; everything goes to stable"
            )
            return TrafficRules(0, "", problem, replicas=True)
        slices = service_slices(client, self.namespace, self.service)
        return TrafficRules(0, "", "", replicas=True, pods=tuple(backends_from_slices(slices)))
