"""The variables of the monitoring queries, and the checks every rendered value shares.

Queries are PromQL with ``$name`` variables (Python's ``string.Template``), filled per
service by the module. ``$`` cannot clash with PromQL's braces nor with Ansible's Jinja,
so a query in the role's defaults needs no escaping and may still use Jinja for anything
else. ``$1`` (``label_replace`` replacements) and ``$$`` (a literal ``$``) pass through.
"""

import re
import string

from ansible.module_utils.analysis.spec import DURATION_RE

VARIABLES = {
    "service": "the service's name",
    "namespace": "the stable namespace",
    "canary_namespace": "the canary namespace",
    "namespaces": "both namespaces as a regular expression (ns|ns-canary)",
    "selector": "label matchers of the service's series of both tracks",
    "window": "the rate() window",
    "requests": "the requests counter (analysis.metrics.requests)",
    "duration": "the duration histogram (analysis.metrics.duration; ${duration}_bucket)",
    "up": "the scrape-health metric (analysis.metrics.up)",
    "pod_track": "kube-state-metrics' kube_pod_labels with the pods' track label as `track`",
}
TRACKS = 'track=~"stable|canary"'


class MonitoringError(ValueError):
    """Settings that cannot be rendered; ``errors`` lists one message per bad option."""

    def __init__(self, errors):
        super().__init__("; ".join(errors))
        self.errors = errors


def namespaces(release):
    """Both namespaces of the release as a PromQL regular expression."""
    names = dict.fromkeys((release["namespace"], release.get("canary_namespace") or ""))
    return "|".join(name for name in names if name)


def default_selector(release):
    """The service's series of both tracks: its two namespaces, tracks stable and canary."""
    return f'namespace=~"{namespaces(release)}",{TRACKS}'


def variables(release, selector=None, window=None):
    """The values of every variable for ``release`` (the completed release spec)."""
    analysis = release.get("analysis") or {}
    metrics = analysis.get("metrics") or {}
    values = {
        "service": release["service"],
        "namespace": release["namespace"],
        "canary_namespace": release.get("canary_namespace") or release["namespace"],
        "namespaces": namespaces(release),
        "selector": (selector or "").strip() or default_selector(release),
        "window": window or analysis.get("window") or "5m",
        "requests": metrics.get("requests") or "http_requests_total",
        "duration": metrics.get("duration") or "http_request_duration_seconds",
        "up": metrics.get("up") or "up",
    }
    values["pod_track"] = (
        f'label_replace(kube_pod_labels{{namespace=~"{values["namespaces"]}",'
        'label_track=~"stable|canary"}, "track", "$1", "label_track", "(.+)")'
    )
    return values


def unknown_variables(template, values):
    """The ``$name`` variables in ``template`` that ``values`` does not define."""
    found = []
    for match in string.Template.pattern.finditer(template):
        name = match.group("named") or match.group("braced")
        if name and name not in values and name not in found:
            found.append(name)
    return found


def expand(template, values, field, errors):
    """Fill the variables of one query; record an unknown one under ``field``."""
    if not isinstance(template, str) or not template.strip():
        errors.append(f"{field}: must be a non-empty PromQL expression")
        return ""
    unknown = unknown_variables(template, values)
    if unknown:
        errors.append(
            f"{field}: unknown variable(s) {', '.join('$' + n for n in unknown)}; "
            f"known: {', '.join('$' + n for n in values)}"
        )
        return ""
    return string.Template(template).safe_substitute(values).strip()


def check_duration(value, field, errors):
    """A positive Prometheus duration such as 30s, 5m or 1h30m."""
    if not isinstance(value, str) or not DURATION_RE.match(value) or not re.search(r"[1-9]", value):
        errors.append(f"{field}: {value!r} is not a positive Prometheus duration such as 30s or 5m")
    return value
