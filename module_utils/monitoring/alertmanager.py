"""Alertmanager routing for the alert tiers: one route per tier, one webhook receiver each.

Critical alerts page (short waits, frequent repeats), important ones go to the team,
general ones to a low-noise channel. Routes sit under a route that matches the service,
so the tree can be merged into a shared configuration. Inhibition mutes a lower tier's
alert while a higher tier's alert of the same name fires for the same service and track.
"""

import json
import re
import urllib.parse

from ansible.module_utils.monitoring.promql import MonitoringError, check_duration
from ansible.module_utils.monitoring.rules import TIERS

DEFAULT_GROUP_BY = ["alertname", "namespace", "service", "track"]
TIMINGS = ("group_wait", "group_interval", "repeat_interval")
RECEIVER_FIELDS = ("name", "url", "send_resolved", *TIMINGS)
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def matcher(label, value, operator="="):
    """An Alertmanager matcher such as ``severity="critical"``."""
    return f"{label}{operator}{json.dumps(value)}"


def render_alertmanager(release, settings):
    """The Alertmanager configuration (a dict) for the service's tiers.

    ``settings``: ``receivers`` (tier -> ``{name, url, send_resolved, group_wait,
    group_interval, repeat_interval}``) and ``group_by``. Receiver names are prefixed
    with the service. Raises ``MonitoringError`` listing every problem.
    """
    errors = []
    group_by = _group_by(settings.get("group_by"), errors)
    receivers = settings.get("receivers")
    if not isinstance(receivers, dict):
        raise MonitoringError([f"receivers: required, a mapping of {', '.join(TIERS)} to webhooks"])
    for tier in sorted(set(receivers) - set(TIERS)):
        errors.append(f"receivers.{tier}: unknown tier; the tiers are {', '.join(TIERS)}")
    routes, configs = [], {}
    for tier in TIERS:
        receiver = _receiver(release, tier, receivers.get(tier), errors)
        if receiver is None:
            continue
        name, webhook = receiver["name"], {"url": receiver["url"]}
        webhook["send_resolved"] = bool(receiver.get("send_resolved", True))
        if name in configs and configs[name] != webhook:
            errors.append(
                f"receivers.{tier}.name: {name} is already a receiver with another webhook"
            )
        configs[name] = webhook
        route = {"matchers": [matcher("severity", tier)], "receiver": name}
        route.update({key: receiver[key] for key in TIMINGS if receiver.get(key)})
        routes.append(route)
    if errors:
        raise MonitoringError(errors)
    general = routes[-1]
    return {
        "route": {
            # Anything that matches no tier (no severity) is low noise.
            "receiver": general["receiver"],
            "group_by": group_by,
            **{key: general[key] for key in TIMINGS if key in general},
            "routes": [
                {
                    "matchers": [
                        matcher("service", release["service"]),
                        matcher("namespace", release["namespace"]),
                    ],
                    "routes": routes,
                }
            ],
        },
        "inhibit_rules": _inhibit_rules(group_by),
        "receivers": [
            {"name": name, "webhook_configs": [webhook]} for name, webhook in configs.items()
        ],
    }


def _inhibit_rules(group_by):
    """Each tier mutes every less urgent tier's alert of the same name, service and track."""
    equal = list(dict.fromkeys(["alertname", "namespace", "service", "track", *group_by]))
    rules = []
    for index, tier in enumerate(TIERS[:-1]):
        lower = TIERS[index + 1 :]
        target = (
            matcher("severity", lower[0])
            if len(lower) == 1
            else matcher("severity", "|".join(lower), "=~")
        )
        rules.append(
            {
                "source_matchers": [matcher("severity", tier)],
                "target_matchers": [target],
                "equal": equal,
            }
        )
    return rules


def _group_by(value, errors):
    if value is None:
        return list(DEFAULT_GROUP_BY)
    if not isinstance(value, list) or not value:
        errors.append("group_by: must be a non-empty list of label names")
        return list(DEFAULT_GROUP_BY)
    for label in value:
        if label != "..." and not (isinstance(label, str) and LABEL_NAME.match(label)):
            errors.append(f"group_by: {label!r} is not a label name")
    return list(value)


def _receiver(release, tier, receiver, errors):
    field = f"receivers.{tier}"
    if not isinstance(receiver, dict):
        errors.append(f"{field}: required, a mapping with name and url")
        return None
    unknown = sorted(set(receiver) - set(RECEIVER_FIELDS))
    if unknown:
        errors.append(
            f"{field}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(RECEIVER_FIELDS)}"
        )
    name = receiver.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(f"{field}.name: required, a non-empty string")
        return None
    url = receiver.get("url")
    if not _is_webhook_url(url):
        # The URL may hold a token: never repeat it.
        errors.append(f"{field}.url: required, an http:// or https:// URL with a host")
    for key in TIMINGS:
        if receiver.get(key) is not None:
            check_duration(receiver[key], f"{field}.{key}", errors)
    return {**receiver, "name": f"{release['service']}-{name.strip()}"}


def _is_webhook_url(url):
    if not isinstance(url, str):
        return False
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
