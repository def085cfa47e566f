"""The plan's alert tiers as Prometheus alerting rules, one rule group per tier.

``SIGNALS`` is the only place that knows what can be alerted on: the alert's name,
which side of the threshold is bad, and how to print a value. A tier maps signals to
thresholds; a signal's PromQL comes from the caller (the role's defaults), so every
expression can be pointed at other exporters without touching this file. Each rule
keeps the labels its expression returns (``track`` for the service's own series) and
adds ``severity`` (the tier), ``service`` and ``namespace``.
"""

import math
from collections import namedtuple

from ansible.module_utils.monitoring.promql import MonitoringError, check_duration, expand

Signal = namedtuple("Signal", "alert comparison unit what")
Signal.__doc__ = """One thing an alert can watch.

alert: the alert's name, the same in every tier (Alertmanager's inhibition pairs tiers by it).
comparison: ``>`` when high values are bad, ``<`` when low values are.
unit: ``ratio`` (0-1, printed as a percentage), ``seconds`` or ``per_second``.
what: the signal in words, for the alert's summary.
"""

SIGNALS = {
    "error_rate": Signal("HighErrorRate", ">", "ratio", "error rate"),
    "latency_p99": Signal("HighResponseTime", ">", "seconds", "p99 response time"),
    "availability": Signal("LowAvailability", "<", "ratio", "availability"),
    "db_connection_failures": Signal(
        "DatabaseConnectionFailures", ">", "per_second", "failed database connections"
    ),
    "cpu": Signal("HighCPUUsage", ">", "ratio", "CPU use (of its limit)"),
    "memory": Signal("HighMemoryUsage", ">", "ratio", "memory use (of its limit)"),
    "disk": Signal("HighDiskUsage", ">", "ratio", "disk use"),
    "cache_hit_rate": Signal("LowCacheHitRate", "<", "ratio", "cache hit rate"),
}
# Most urgent first: the order of the rule groups, the routes and the inhibition.
TIERS = ("critical", "important", "general")
RESERVED_LABELS = ("severity", "service", "namespace", "alertname")
VALUE_FORMATS = {
    "ratio": "{{ $value | humanizePercentage }}",
    "seconds": "{{ $value | humanizeDuration }}",
    "per_second": '{{ printf "%.3g" $value }}/s',
}
TRACK = "{{ with $labels.track }} ({{ . }}){{ end }}"


def threshold_text(unit, threshold):
    """A threshold as people read it: 1%, 1.5s, 0/s."""
    if unit == "ratio":
        return f"{threshold * 100:.10g}%"
    if unit == "seconds":
        return f"{threshold:.10g}s"
    return f"{threshold:.10g}/s"


def alert_rule(release, tier, settings, name, query, threshold, extra_labels):
    """One alerting rule: ``(query) <comparison> threshold``, labelled with its tier."""
    signal = SIGNALS[name]
    side = "above" if signal.comparison == ">" else "below"
    limit = threshold_text(signal.unit, threshold)
    rule = {
        "alert": signal.alert,
        "expr": f"({query}) {signal.comparison} {threshold:.12g}",
    }
    if settings.get("for"):
        rule["for"] = settings["for"]
    rule["labels"] = {
        "severity": tier,
        "service": release["service"],
        "namespace": release["namespace"],
        **extra_labels,
    }
    rule["annotations"] = {
        "summary": f"{release['service']}{TRACK}: {signal.what} {side} {limit}",
        "description": (
            f"{signal.what[0].upper()}{signal.what[1:]} of {release['service']}{TRACK}: "
            f"{VALUE_FORMATS[signal.unit]}, {side} the {tier} threshold of {limit}."
        ),
    }
    return rule


def render_rule_groups(release, settings, values):
    """The rule groups of every tier with thresholds, most urgent first.

    ``settings``: ``tiers`` (tier -> ``{for, thresholds: {signal: number}}``),
    ``queries`` (signal -> PromQL with variables) and ``alert_labels``.
    ``values``: the variables' values. Raises ``MonitoringError``.
    """
    errors = []
    queries = _queries(settings.get("queries"), values, errors)
    extra_labels = _labels(settings.get("alert_labels"), errors)
    tiers = settings.get("tiers")
    if not isinstance(tiers, dict) or not any(tiers.values()):
        errors.append(f"tiers: required, a mapping of {', '.join(TIERS)} to thresholds")
        raise MonitoringError(errors)
    for tier in sorted(set(tiers) - set(TIERS)):
        errors.append(f"tiers.{tier}: unknown tier; the tiers are {', '.join(TIERS)}")
    groups = []
    for tier in TIERS:
        tier_settings = tiers.get(tier) or {}
        thresholds = _thresholds(tier, tier_settings, queries, errors)
        if tier_settings.get("for") is not None:
            check_duration(tier_settings["for"], f"tiers.{tier}.for", errors)
        rules = [
            alert_rule(release, tier, tier_settings, name, queries[name], threshold, extra_labels)
            for name, threshold in thresholds
        ]
        if rules:
            groups.append({"name": f"canary-{release['service']}-{tier}", "rules": rules})
    if errors:
        raise MonitoringError(errors)
    return groups


def prometheus_rule(release, options, groups):
    """The same groups as a prometheus-operator PrometheusRule manifest."""
    labels = {"app.kubernetes.io/managed-by": "canary-runbooks", **(options.get("labels") or {})}
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": options.get("name") or f"{release['service']}-canary-alerts",
            "namespace": options.get("namespace") or release["namespace"],
            "labels": labels,
        },
        "spec": {"groups": groups},
    }


def _queries(queries, values, errors):
    if not isinstance(queries, dict):
        errors.append(f"queries: required, a mapping of {', '.join(SIGNALS)} to PromQL")
        return {}
    expanded = {}
    for name, template in queries.items():
        if name not in SIGNALS:
            errors.append(f"queries.{name}: unknown signal; known: {', '.join(SIGNALS)}")
            continue
        expanded[name] = expand(template, values, f"queries.{name}", errors)
    return expanded


def _labels(labels, errors):
    labels = labels or {}
    if not isinstance(labels, dict):
        errors.append("alert_labels: must be a mapping of label names to values")
        return {}
    for name in labels:
        if name in RESERVED_LABELS:
            errors.append(f"alert_labels.{name}: set by the rules themselves, cannot be changed")
    return {str(k): str(v) for k, v in labels.items() if k not in RESERVED_LABELS}


def _thresholds(tier, settings, queries, errors):
    """``[(signal, threshold)]`` of one tier in ``SIGNALS`` order."""
    if not isinstance(settings, dict):
        errors.append(f"tiers.{tier}: must be a mapping with 'thresholds' (and 'for')")
        return []
    unknown = sorted(set(settings) - {"for", "thresholds"})
    if unknown:
        errors.append(
            f"tiers.{tier}: unknown field(s) {', '.join(unknown)}; allowed: for, thresholds"
        )
    thresholds = settings.get("thresholds") or {}
    if not isinstance(thresholds, dict):
        errors.append(f"tiers.{tier}.thresholds: must be a mapping of signals to numbers")
        return []
    for name in sorted(set(thresholds) - set(SIGNALS)):
        errors.append(
            f"tiers.{tier}.thresholds.{name}: unknown signal; known: {', '.join(SIGNALS)}"
        )
    result = []
    for name in SIGNALS:
        if name not in thresholds:
            continue
        value = thresholds[name]
        field = f"tiers.{tier}.thresholds.{name}"
        if not _is_number(value):
            errors.append(f"{field}: {value!r} is not a finite number")
        elif name not in queries:
            errors.append(f"{field}: no query for this signal (queries.{name})")
        elif queries[name]:
            result.append((name, float(value)))
    return result


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
