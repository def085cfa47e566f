"""Alertmanager's API v2: one alert per event, POSTed to ``/api/v2/alerts``.

Labels identify the alert (``alertname`` from the event, ``service``, ``namespace``,
``severity``), so a repeated event updates the same alert. Progress events (severity
info) carry an ``endsAt`` and resolve on their own after ``INFO_SECONDS``; the others
stay firing until Alertmanager's ``resolve_timeout``, as an alert sent once does.
"""

import datetime

from ansible.module_utils.notify.delivery import Request
from ansible.module_utils.notify.message import severity

NAME = "alertmanager"
ALERTS_PATH = "/api/v2/alerts"
INFO_SECONDS = 300


def alertname(event):
    """``rolled_back`` -> ``CanaryRolledBack``."""
    return "Canary" + "".join(part.capitalize() for part in event.split("_"))


def payload(settings, message):
    level = severity(message["event"])
    alert = {
        "labels": {
            "alertname": alertname(message["event"]),
            "service": message["service"],
            "namespace": message["namespace"],
            "severity": level,
        },
        "annotations": {
            "summary": message["text"],
            "description": message["reason"] or message["summary"],
        },
        "startsAt": message["time"],
    }
    if level == "info":
        started = datetime.datetime.fromisoformat(message["time"].replace("Z", "+00:00"))
        ends = started + datetime.timedelta(seconds=INFO_SECONDS)
        alert["endsAt"] = ends.strftime("%Y-%m-%dT%H:%M:%SZ")
    return [alert]


def request(settings, message):
    url = settings["url"].rstrip("/") + ALERTS_PATH
    return Request(
        url=url,
        payload=payload(settings, message),
        validate_certs=settings.get("validate_certs", True),
        # Not a secret, unless it holds a password (user:password@host).
        secrets=(url,) if "@" in url else (),
    )
