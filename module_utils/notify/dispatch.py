"""Send an event to every configured channel that wants it; one line per channel.

Adding a channel is one file with ``NAME`` and ``request(settings, message)`` and one
entry in ``CHANNELS``, plus its options in ``spec.ARGUMENT_SPEC``.
"""

from ansible.module_utils.durations import parse_duration
from ansible.module_utils.notify import alertmanager, delivery, message, slack, webhook

CHANNELS = {channel.NAME: channel for channel in (slack, webhook, alertmanager)}


def wanted(notifications, name, event):
    """Whether channel ``name`` is configured and its events include ``event``."""
    settings = notifications.get(name)
    if not settings:
        return False
    events = settings.get("events")
    if events is None:
        events = notifications.get("events") or message.EVENTS
    return event in events


def notify(notifications, release, event, check_mode=False, send=delivery.post, **details):
    """Notify ``event``; return ``(text, results)``, one result per channel addressed.

    ``notifications`` is the section with its secrets in place; ``details`` are
    ``message.context``'s stage, reason, image and now. A result is ``{channel, sent,
    status, error, payload}``; in check mode nothing is sent. Never raises for a
    receiver's fault: ``error`` says what went wrong.
    """
    values = message.context(release, event, **details)
    text = message.render(notifications.get("template") or message.DEFAULT_TEMPLATE, values)
    timeout = notifications.get("timeout_seconds") or parse_duration(
        notifications.get("timeout") or "5s"
    )
    results = []
    for name, channel in CHANNELS.items():
        if not wanted(notifications, name, event):
            continue
        request = channel.request(notifications[name], {**values, "text": text})
        result = {"channel": name, "sent": False, "status": None, "error": None}
        if not check_mode:
            result["status"], result["error"] = send(request, timeout)
            result["sent"] = result["error"] is None
        result["payload"] = request.payload
        results.append(result)
    return text, results
