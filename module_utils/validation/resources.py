"""Resource usage of the canary's pods against their limits, from Prometheus.

The plan holds a stage when the canary uses more than 80 % of its CPU or 85 % of its
memory limit. The figures come from the exporters most clusters run (cAdvisor through the
kubelet, kube-state-metrics for the limits); where they are missing the check says so
and is skipped, since a cluster without them cannot answer and no data here is not the
canary's fault. Every other problem (a query error, an unreachable Prometheus) fails.
"""

import math

from ansible.module_utils.analysis.prometheus import PrometheusClient, PrometheusError, single_value
from ansible.module_utils.analysis.templating import QueryTemplateError, render_query

# Share of the limit in use, over the canary namespace's containers.
DEFAULT_QUERIES = {
    "cpu": (
        'sum(rate(container_cpu_usage_seconds_total{namespace="{{ canary_namespace }}",'
        'container!="",container!="POD"}[{{ window }}])) / sum(kube_pod_container_resource_limits'
        '{namespace="{{ canary_namespace }}",resource="cpu"})'
    ),
    "memory": (
        'sum(container_memory_working_set_bytes{namespace="{{ canary_namespace }}",'
        'container!="",container!="POD"}) / sum(kube_pod_container_resource_limits'
        '{namespace="{{ canary_namespace }}",resource="memory"})'
    ),
}
DEFAULT_MAX = {"cpu": 0.8, "memory": 0.85}


def prepare(options, variables):
    """Each resource's query (rendered) and bound; raises ``ValueError`` naming the field."""
    settings = {}
    for name, given in (options or {}).items():
        if name not in DEFAULT_QUERIES:
            raise ValueError(f"{name}: unknown resource; one of {', '.join(DEFAULT_QUERIES)}")
        given = given or {}
        unknown = sorted(set(given) - {"max", "query"})
        if unknown:
            raise ValueError(f"{name}: unknown field(s) {', '.join(unknown)}; allowed: max, query")
        bound = given.get("max", DEFAULT_MAX[name])
        if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not 0 < bound <= 1:
            raise ValueError(f"{name}.max: {bound!r} is not a share between 0 and 1 (0.8 is 80 %)")
        try:
            query = render_query(given.get("query") or DEFAULT_QUERIES[name], variables)
        except QueryTemplateError as exc:
            raise ValueError(f"{name}.query: {exc}") from None
        settings[name] = {"query": query, "max": float(bound)}
    return settings


def check_resources(settings, prometheus):
    """Query each resource's share of its limit; ``prometheus`` is the analysis' section."""
    client = PrometheusClient.from_settings(prometheus)
    results, failures = {}, []
    for name, setting in settings.items():
        result = {"query": setting["query"], "max": setting["max"], "value": None}
        try:
            value = single_value(client.query(setting["query"]))
        except PrometheusError as exc:
            result["result"] = "fail"
            failures.append(f"resources.{name}: query failed: {exc}")
        else:
            if value is None or not math.isfinite(value):
                result["result"] = "skipped"
                result["reason"] = (
                    f"resources.{name}: no data (cAdvisor or kube-state-metrics missing?)"
                )
            elif value > setting["max"]:
                result.update(value=value, result="fail")
                failures.append(
                    f"resources.{name}: {value:.1%} of the limit > max {setting['max']:.0%}"
                )
            else:
                result.update(value=value, result="pass")
        results[name] = result
    return {"results": results, "failures": failures}
