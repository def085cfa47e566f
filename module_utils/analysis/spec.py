"""The analysis section of the release spec: its argument spec and its validation.

``ANALYSIS_ARGUMENT_SPEC`` is shared by every module that takes an analysis (the
kubernetes.core way of sharing argument specs), so a field is declared once.
``validate_analysis`` adds what an argument spec cannot say (cross-field rules,
PromQL durations, URLs) and fills defaults, so plain Python callers such as the
stage bake loop get the same checks and the same defaults as the module.
"""

import math
import re
import urllib.parse

from ansible.module_utils.analysis.checks import CHECK_TYPES
from ansible.module_utils.durations import DurationError, parse_duration

DEFAULT_TIMEOUT = 5.0
DEFAULT_WINDOW = "1m"
DEFAULT_METRICS = {
    "requests": "http_requests_total",
    "duration": "http_request_duration_seconds",
    "up": "up",
}
CHECK_FIELDS = ("name", "type", "quantile", "query", "min", "max")

# Prometheus durations: units from years to milliseconds, each at most once, in order.
DURATION_RE = re.compile(r"^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$")
METRIC_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")

ANALYSIS_ARGUMENT_SPEC = {
    "prometheus": {
        "type": "dict",
        "required": True,
        "options": {
            "url": {"type": "str", "required": True},
            "timeout": {"type": "raw", "default": DEFAULT_TIMEOUT},
            "validate_certs": {"type": "bool", "default": True},
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
            "name": {"type": "str", "required": True},
            "type": {"type": "str", "required": True, "choices": sorted(CHECK_TYPES)},
            "quantile": {"type": "float"},
            "query": {"type": "str"},
            "min": {"type": "float"},
            "max": {"type": "float"},
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
    result["checks"] = _checks(analysis.get("checks"), _path(prefix, "checks"), errors)
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
    return {**value, "url": url, "timeout": seconds, "validate_certs": validate_certs}


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


def _checks(value, path, errors):
    if not isinstance(value, list) or not value:
        errors.append(f"{path}: required, a non-empty list of checks")
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
    kind = check.get("type")
    if kind not in CHECK_TYPES:
        errors.append(
            f"{_path(path, 'type')}: {kind!r} is not one of {', '.join(sorted(CHECK_TYPES))}"
        )
        return result
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
    _bounds(check, path, errors)
    return result


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


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
