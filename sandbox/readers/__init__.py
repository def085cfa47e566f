"""The sandbox router's readers: one per kind of traffic object, one file each.

Each reader turns the live object into ``rules.TrafficRules``: the weight the router
reports, and either nothing more (the ConfigMap: ``sandbox.routing`` decides), a table of
routes in the order the real controller would try them (HTTPRoute, canary Ingress,
VirtualService, Route), or the replica ratio (no router at all). The registry that picks
a reader by ``traffic.provider`` is ``sandbox.traffic``.
"""
