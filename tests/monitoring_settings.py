"""The canary_monitoring role's shipped defaults as the module's settings.

The monitoring tests render what the role renders: the tiers, the PromQL of each
signal, the receivers and the weight query come from
``roles/canary_monitoring/defaults/main.yml`` itself, so the tests check the defaults
operators get, not a copy of them.
"""

import copy
import pathlib
import re

import yaml

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
ROLE = PROJECT_ROOT / "roles" / "canary_monitoring"
SCHEMA = ROLE / "files" / "dashboard.schema.json"
SIGNALS = (
    "error_rate",
    "latency_p99",
    "availability",
    "db_connection_failures",
    "cpu",
    "memory",
    "disk",
    "cache_hit_rate",
)

# The parts of a completed release spec (the canary_release fact) the monitoring reads.
RELEASE = {
    "service": "frontend",
    "namespace": "yyc3-short-drama",
    "canary_namespace": "yyc3-short-drama-canary",
    "analysis": {
        "window": "1m",
        "metrics": {
            "requests": "http_requests_total",
            "duration": "http_request_duration_seconds",
            "up": "up",
        },
    },
}


def role_defaults():
    return yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())


def _resolve(value, defaults):
    """Fill ``{{ canary_monitoring_x }}`` references to other plain defaults."""
    if isinstance(value, dict):
        return {key: _resolve(item, defaults) for key, item in value.items()}
    if isinstance(value, str):
        match = re.fullmatch(r"\{\{ (canary_monitoring_\w+) \}\}", value)
        return defaults[match.group(1)] if match else value
    return value


def settings(**overrides):
    """The module's settings as the role passes them, with the role's defaults."""
    defaults = role_defaults()
    result = {
        "selector": None,  # the module's default equals the role's
        "window": None,  # the release's analysis.window
        "queries": {name: defaults[f"canary_monitoring_query_{name}"] for name in SIGNALS},
        "tiers": copy.deepcopy(defaults["canary_monitoring_tiers"]),
        "alert_labels": {},
        "receivers": _resolve(defaults["canary_monitoring_receivers"], defaults),
        "group_by": list(defaults["canary_monitoring_group_by"]),
        "weight_query": defaults["canary_monitoring_weight_query"],
        "prometheus_rule": {},
        "dashboard_title": None,
    }
    result.update(overrides)
    return result


def release(**changes):
    return {**copy.deepcopy(RELEASE), **changes}
