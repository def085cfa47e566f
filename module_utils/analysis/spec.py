"""The analysis section of the release spec: its argument spec and its validation.

``ANALYSIS_ARGUMENT_SPEC`` is shared by every module that takes an analysis (the
kubernetes.core way of sharing argument specs), so a field is declared once.
``validate_analysis`` adds what an argument spec cannot say (cross-field rules,
PromQL durations, URLs) and fills defaults, so plain Python callers such as the
stage bake loop get the same checks and the same defaults as the module.
"""

import math
import os
import re
import urllib.parse

from ansible.module_utils.analysis.checks import CHECK_TYPES, query_variables
from ansible.module_utils.analysis.templating import (
    QUERY_VARIABLES,
    QueryTemplateError,
    render_query,
)
from ansible.module_utils.durations import DurationError, parse_duration

DEFAULT_TIMEOUT = 5.0
DEFAULT_WINDOW = "1m"
SEVERITIES = ("critical", "important", "general")
NO_DATA_POLICIES = ("fail", "hold", "ignore")
DIRECTIONS = ("increase", "decrease", "either")
DEFAULT_METRICS = {
    "requests": "http_requests_total",
    "duration": "http_request_duration_seconds",
    "up": "up",
    # The requests' label naming the API route, which a check's ``route`` selects.
    "route_label": "path",
}
CHECK_FIELDS = ("name", "type", "quantile", "query", "route", "min", "max", "severity")
# An API route as a PromQL label value: a path, nothing to escape.
ROUTE_RE = re.compile(r'/[^"\\\s]*')
BASELINE_DEFAULTS = {
    "confidence": 0.98,
    "tolerance": 0.25,
    "min_samples": 50,
    "step": None,
    "pass_score": 95.0,
    "marginal_score": 75.0,
}
BASELINE_METRIC_FIELDS = (
    "name",
    "type",
    "quantile",
    "query",
    "direction",
    "effect_size",
    "critical",
)

# Prometheus durations: units from years to milliseconds, each at most once, in order.
DURATION_RE = re.compile(r"^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$")
METRIC_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")

# What a check and a baseline metric share: what to measure.
QUERY_OPTIONS = {
    "name": {"type": "str", "required": True},
    "type": {"type": "str", "required": True, "choices": sorted(CHECK_TYPES)},
    "quantile": {"type": "float"},
    "query": {"type": "str"},
}

ANALYSIS_ARGUMENT_SPEC = {
    "prometheus": {
        "type": "dict",
        "required": True,
        "options": {
            "url": {"type": "str", "required": True},
            "timeout": {"type": "raw", "default": DEFAULT_TIMEOUT},
            "validate_certs": {"type": "bool", "default": True},
            "ca_path": {"type": "path"},
            "client_cert": {"type": "path"},
            "client_key": {"type": "path"},
            "bearer_token": {"type": "str", "no_log": True},
            "username": {"type": "str"},
            "password": {"type": "str", "no_log": True},
        },
    },
    "window": {"type": "str", "default": DEFAULT_WINDOW},
    "selector": {"type": "str", "required": True},
    "metrics": {
        "type": "dict",
        "apply_defaults": True,
        "options": {
            key: {"type": "str", "default": default} for key, default in DEFAULT_METRICS.items()
        },
    },
    "checks": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            **QUERY_OPTIONS,
            "route": {"type": "str"},
            "min": {"type": "float"},
            "max": {"type": "float"},
            "severity": {"type": "str", "default": "critical", "choices": list(SEVERITIES)},
        },
    },
    "no_data": {"type": "str", "default": "fail", "choices": list(NO_DATA_POLICIES)},
    "min_requests": {"type": "int", "default": 0},
    "variables": {"type": "dict", "default": {}},
    "baseline": {
        "type": "dict",
        "options": {
            "selector": {"type": "str"},
            "confidence": {"type": "float", "default": BASELINE_DEFAULTS["confidence"]},
            "tolerance": {"type": "float", "default": BASELINE_DEFAULTS["tolerance"]},
            "min_samples": {"type": "int", "default": BASELINE_DEFAULTS["min_samples"]},
            "step": {"type": "raw"},
            "pass_score": {"type": "float", "default": BASELINE_DEFAULTS["pass_score"]},
            "marginal_score": {"type": "float", "default": BASELINE_DEFAULTS["marginal_score"]},
            "metrics": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    **QUERY_OPTIONS,
                    "direction": {
                        "type": "str",
                        "default": "increase",
                        "choices": list(DIRECTIONS),
                    },
                    "effect_size": {"type": "float"},
                    "critical": {"type": "bool", "default": False},
                },
            },
        },
    },
}


class AnalysisSpecError(ValueError):
    """The analysis spec is invalid; ``errors`` lists one message per bad field."""

    def __init__(self, errors):
        super().__init__("; ".join(errors))
        self.errors = errors


def validate_analysis(analysis, prefix="analysis"):
    """Return a validated copy of ``analysis`` with defaults filled in.

    Messages name the field by its path under ``prefix`` (``analysis.checks[1].max``).
    Keys of the analysis section and of ``prometheus`` that are not about measuring
    (interval, failure limit, derived values...) belong to other parts of the release
    and are passed through untouched. ``prometheus.timeout`` comes back in seconds.
    Raises ``AnalysisSpecError`` listing every problem found.
    """
    errors = []
    if not isinstance(analysis, dict):
        raise AnalysisSpecError([f"{_path(prefix)}: must be a mapping"])
    result = dict(analysis)
    result["prometheus"] = _prometheus(
        analysis.get("prometheus"), _path(prefix, "prometheus"), errors
    )
    result["window"] = _window(analysis.get("window"), _path(prefix, "window"), errors)
    result["selector"] = _selector(analysis.get("selector"), _path(prefix, "selector"), errors)
    result["metrics"] = _metrics(analysis.get("metrics"), _path(prefix, "metrics"), errors)
    result["variables"] = _variables(analysis.get("variables"), _path(prefix, "variables"), errors)
    result["no_data"] = _choice(
        analysis.get("no_data"), "fail", NO_DATA_POLICIES, _path(prefix, "no_data"), errors
    )
    result["min_requests"] = _count(
        analysis.get("min_requests"), 0, 0, _path(prefix, "min_requests"), errors
    )
    result["baseline"] = _baseline(
        analysis.get("baseline"), result["window"], _path(prefix, "baseline"), errors
    )
    result["checks"] = _checks(
        analysis.get("checks"), _path(prefix, "checks"), errors, optional=bool(result["baseline"])
    )
    if not errors:
        _render_queries(result, prefix, errors)
    if errors:
        raise AnalysisSpecError(errors)
    return result


def _path(prefix, *parts):
    path = prefix
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else part
    return path


def _prometheus(value, path, errors):
    if not isinstance(value, dict):
        errors.append(f"{path}: required, a mapping with at least 'url'")
        return value
    url = value.get("url")
    if not is_http_url(url):
        errors.append(f"{_path(path, 'url')}: {url!r} is not an http:// or https:// URL")
    timeout = value.get("timeout")
    try:
        seconds = DEFAULT_TIMEOUT if timeout is None else parse_duration(timeout)
    except DurationError:
        seconds = 0
    if not seconds:
        errors.append(
            f"{_path(path, 'timeout')}: {timeout!r} is not a positive duration such as 5 or '5s'"
        )
    validate_certs = value.get("validate_certs")
    validate_certs = True if validate_certs is None else validate_certs
    if not isinstance(validate_certs, bool):
        errors.append(f"{_path(path, 'validate_certs')}: {validate_certs!r} is not a boolean")
    _credentials(value, path, errors)
    return {**value, "url": url, "timeout": seconds, "validate_certs": validate_certs}


def _credentials(value, path, errors):
    """One way to authenticate, complete; files that exist. Secret values are never echoed."""
    for field in ("bearer_token", "username", "password"):
        given = value.get(field)
        if given is not None and (not isinstance(given, str) or not given):
            errors.append(f"{_path(path, field)}: must be a non-empty string")
    if value.get("bearer_token") and (value.get("username") or value.get("password")):
        errors.append(
            f"{_path(path, 'bearer_token')}: give a bearer token or username and password, not both"
        )
    if value.get("password") and not value.get("username"):
        errors.append(f"{_path(path, 'username')}: required with password")
    if value.get("username") and not value.get("password"):
        errors.append(f"{_path(path, 'password')}: required with username")
    if value.get("client_key") and not value.get("client_cert"):
        errors.append(f"{_path(path, 'client_cert')}: required with client_key")
    for field in ("ca_path", "client_cert", "client_key"):
        given = value.get(field)
        if given is not None and not (isinstance(given, str) and os.path.isfile(given)):
            errors.append(f"{_path(path, field)}: {given!r} is not a readable file")


def is_http_url(url):
    """An http(s) URL with a host, a valid port, and no query or fragment."""
    if not isinstance(url, str):
        return False
    try:
        parts = urllib.parse.urlsplit(url)
        port_ok = parts.port != 0  # .port raises ValueError when not a number in range
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and port_ok
        and not parts.query
        and not parts.fragment
    )


def _window(value, path, errors):
    value = DEFAULT_WINDOW if value is None else value
    if (
        not isinstance(value, str)
        or not value
        or not DURATION_RE.match(value)
        or not any(ch in "123456789" for ch in value)
    ):
        errors.append(
            f"{path}: {value!r} is not a positive Prometheus duration such as 30s, 1m or 1h30m"
        )
    return value


def _selector(value, path, errors):
    if not isinstance(value, str) or not value.strip():
        errors.append(f'{path}: required, label matchers such as \'namespace="x",track="canary"\'')
    elif value.strip().startswith("{") or value.strip().endswith("}"):
        errors.append(f"{path}: give the label matchers without the surrounding braces")
    return value


def _metrics(value, path, errors):
    value = {} if value is None else value
    if not isinstance(value, dict):
        errors.append(f"{path}: must be a mapping of {', '.join(DEFAULT_METRICS)}")
        return value
    unknown = sorted(set(value) - set(DEFAULT_METRICS))
    if unknown:
        errors.append(
            f"{path}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(DEFAULT_METRICS)}"
        )
    metrics = {}
    for key, default in DEFAULT_METRICS.items():
        name = value.get(key)
        name = default if name is None else name
        if not isinstance(name, str) or not METRIC_NAME_RE.match(name):
            errors.append(f"{_path(path, key)}: {name!r} is not a Prometheus metric name")
        metrics[key] = name
    return metrics


def _checks(value, path, errors, optional=False):
    if optional and value in (None, []):
        return []
    if not isinstance(value, list) or not value:
        errors.append(f"{path}: required, a non-empty list of checks (or a baseline judge)")
        return value
    seen = set()
    checks = []
    for index, check in enumerate(value):
        check_path = _path(path, index)
        if not isinstance(check, dict):
            errors.append(f"{check_path}: must be a mapping")
            continue
        name = check.get("name")
        if not isinstance(name, str) or not name:
            errors.append(f"{_path(check_path, 'name')}: required, a non-empty string")
        elif name in seen:
            errors.append(f"{_path(check_path, 'name')}: duplicate check name {name!r}")
        else:
            seen.add(name)
        checks.append(_check(check, check_path, errors))
    return checks


def _check(check, path, errors):
    unknown = sorted(set(check) - set(CHECK_FIELDS))
    if unknown:
        errors.append(
            f"{path}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(CHECK_FIELDS)}"
        )
    result = {field: check.get(field) for field in CHECK_FIELDS}
    result["severity"] = _choice(
        check.get("severity"), "critical", SEVERITIES, _path(path, "severity"), errors
    )
    if _type_fields(check, path, errors):
        _bounds(check, path, errors)
    return result


def _type_fields(check, path, errors):
    """The type and the fields that belong to it (quantile, query); False for an unknown type."""
    kind = check.get("type")
    if kind not in CHECK_TYPES:
        errors.append(
            f"{_path(path, 'type')}: {kind!r} is not one of {', '.join(sorted(CHECK_TYPES))}"
        )
        return False
    required = CHECK_TYPES[kind].fields
    for field in sorted({f for t in CHECK_TYPES.values() for f in t.fields}):
        given = check.get(field) is not None
        if field in required and not given:
            errors.append(f"{_path(path, field)}: required for type {kind}")
        elif given and field not in required:
            owners = ", ".join(sorted(t for t, spec in CHECK_TYPES.items() if field in spec.fields))
            errors.append(f"{_path(path, field)}: only applies to type {owners}, not {kind}")
    quantile = check.get("quantile")
    if quantile is not None and not (_is_number(quantile) and 0 < quantile < 1):
        errors.append(
            f"{_path(path, 'quantile')}: {quantile!r} must be a number strictly between 0 and 1"
        )
    query = check.get("query")
    if query is not None and (not isinstance(query, str) or not query.strip()):
        errors.append(f"{_path(path, 'query')}: must be a non-empty PromQL expression")
    route = check.get("route")
    if route is not None and not CHECK_TYPES[kind].per_route:
        per_route = ", ".join(sorted(t for t, spec in CHECK_TYPES.items() if spec.per_route))
        errors.append(f"{_path(path, 'route')}: only {per_route} checks take a route, not {kind}")
    elif route is not None and not (isinstance(route, str) and ROUTE_RE.fullmatch(route)):
        errors.append(
            f"{_path(path, 'route')}: must be an API path such as /api/ai/generate "
            f"(no quotes, backslashes or spaces), got {route!r}"
        )
    return True


def _bounds(check, path, errors):
    minimum, maximum = check.get("min"), check.get("max")
    if minimum is None and maximum is None:
        errors.append(f"{path}: set min, max or both; a check without bounds cannot fail")
        return
    for field, bound in (("min", minimum), ("max", maximum)):
        if bound is not None and not _is_number(bound):
            errors.append(f"{_path(path, field)}: {bound!r} is not a finite number")
            return
    if minimum is not None and maximum is not None and minimum > maximum:
        errors.append(f"{_path(path, 'min')}: {minimum:g} is greater than max {maximum:g}")


def _choice(value, default, choices, path, errors):
    value = default if value is None else value
    if value not in choices:
        errors.append(f"{path}: {value!r} is not one of {', '.join(choices)}")
    return value


def _count(value, default, minimum, path, errors):
    value = default if value is None else value
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        errors.append(f"{path}: {value!r} must be a whole number of at least {minimum}")
    return value


def _variables(value, path, errors):
    value = {} if value is None else value
    if not isinstance(value, dict):
        errors.append(f"{path}: must be a mapping of names to strings")
        return {}
    for name, text in value.items():
        if name in QUERY_VARIABLES:
            errors.append(f"{_path(path, name)}: reserved, set for each query by the analysis")
        elif not isinstance(text, str):
            errors.append(f"{_path(path, name)}: {text!r} is not a string")
    return dict(value)


def _baseline(value, window, path, errors):
    """The baseline judge's settings with defaults; None when the judge is off."""
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.append(f"{path}: must be a mapping with at least 'metrics'")
        return None
    # step_seconds is derived here; a validated spec validates again unchanged.
    unknown = sorted(set(value) - set(BASELINE_DEFAULTS) - {"selector", "metrics", "step_seconds"})
    if unknown:
        errors.append(f"{path}: unknown field(s) {', '.join(unknown)}")
    result = {**BASELINE_DEFAULTS, **{k: v for k, v in value.items() if v is not None}}
    if not isinstance(result.get("selector"), str) or not result["selector"].strip():
        errors.append(
            f"{_path(path, 'selector')}: required, label matchers of the stable track "
            'such as \'namespace="x",track="stable"\''
        )
    confidence = result["confidence"]
    if not (_is_number(confidence) and 0 < confidence < 1):
        errors.append(
            f"{_path(path, 'confidence')}: {confidence!r} must be strictly between 0 and 1"
        )
    if not (_is_number(result["tolerance"]) and result["tolerance"] >= 0):
        errors.append(f"{_path(path, 'tolerance')}: {result['tolerance']!r} must be 0 or more")
    _count(result["min_samples"], 50, 3, _path(path, "min_samples"), errors)
    try:
        # Non-overlapping windows by default: overlapping rates are so correlated that
        # the test would find "significant" differences in noise.
        result["step_seconds"] = (
            parse_duration(window if result["step"] is None else result["step"]) or None
        )
    except DurationError:
        result["step_seconds"] = None
    if result["step_seconds"] is None:
        errors.append(f"{_path(path, 'step')}: {result['step']!r} is not a positive duration")
    scores = [result["pass_score"], result["marginal_score"]]
    if not all(_is_number(score) and 0 <= score <= 100 for score in scores):
        errors.append(f"{path}: pass_score and marginal_score must be between 0 and 100")
    elif result["marginal_score"] > result["pass_score"]:
        errors.append(
            f"{_path(path, 'marginal_score')}: {result['marginal_score']:g} is above "
            f"pass_score {result['pass_score']:g}"
        )
    result["metrics"] = _baseline_metrics(value.get("metrics"), _path(path, "metrics"), errors)
    return result


def _baseline_metrics(value, path, errors):
    if not isinstance(value, list) or not value:
        errors.append(f"{path}: required, a non-empty list of metrics to compare")
        return []
    metrics, seen = [], set()
    for index, metric in enumerate(value):
        metric_path = _path(path, index)
        if not isinstance(metric, dict):
            errors.append(f"{metric_path}: must be a mapping")
            continue
        unknown = sorted(set(metric) - set(BASELINE_METRIC_FIELDS))
        if unknown:
            errors.append(f"{metric_path}: unknown field(s) {', '.join(unknown)}")
        name = metric.get("name")
        if not isinstance(name, str) or not name or name in seen:
            errors.append(f"{_path(metric_path, 'name')}: required, a unique non-empty string")
        seen.add(name)
        _type_fields(metric, metric_path, errors)
        result = {field: metric.get(field) for field in BASELINE_METRIC_FIELDS}
        result["direction"] = _choice(
            metric.get("direction"), "increase", DIRECTIONS, _path(metric_path, "direction"), errors
        )
        effect_size = metric.get("effect_size")
        if effect_size is not None and not (_is_number(effect_size) and effect_size > 0):
            errors.append(f"{_path(metric_path, 'effect_size')}: {effect_size!r} must be above 0")
        result["critical"] = bool(metric.get("critical"))
        metrics.append(result)
    return metrics


def _render_queries(analysis, prefix, errors):
    """Render every free query on each track it runs on, so a typo fails validation."""
    sections = [("checks", analysis["checks"], ("canary",))]
    if analysis["baseline"]:
        sections.append(("metrics", analysis["baseline"]["metrics"], ("canary", "stable")))
    for section, items, tracks in sections:
        path = (
            _path(prefix, "baseline", section) if section == "metrics" else _path(prefix, section)
        )
        for index, item in enumerate(items):
            for track in tracks if item.get("query") is not None else ():
                try:
                    render_query(item["query"], query_variables(analysis, track))
                except QueryTemplateError as exc:
                    errors.append(f"{_path(path, index, 'query')}: {exc}")
                    break


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
