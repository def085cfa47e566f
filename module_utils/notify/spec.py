"""The ``canary.notifications`` section of the release spec: its shape and its checks.

``ARGUMENT_SPEC`` is an Ansible argument spec (types, choices, required fields,
unknown keys); ``check_notifications`` checks what it cannot express (URLs, the
message template, the timeout) and fills ``timeout_seconds`` and each channel's
``events``. Three fields are secrets (``module_utils/secrets.py``): the Slack and
webhook URLs carry their own credential, and the webhook headers usually do. No
message here ever shows their values.
"""

import string
import urllib.parse

from ansible.module_utils.analysis.spec import is_http_url
from ansible.module_utils.durations import DurationError, parse_duration
from ansible.module_utils.notify.message import (
    DEFAULT_TEMPLATE,
    EVENTS,
    PLACEHOLDERS,
    render,
    sample_context,
)

PREFIX = "canary.notifications"
HEADER_NAME = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~")


def _events(default=None):
    """A channel's own event list, or the section's (``default`` None)."""
    spec = {"type": "list", "elements": "str", "choices": list(EVENTS)}
    return {**spec, "default": default} if default is not None else spec


ARGUMENT_SPEC = {
    "events": _events(list(EVENTS)),
    "template": {"type": "str", "default": DEFAULT_TEMPLATE},
    "timeout": {"type": "raw", "default": "5s"},
    "slack": {
        "type": "dict",
        "options": {
            "url": {"type": "str", "required": True, "no_log": True},
            "channel": {"type": "str"},
            "username": {"type": "str"},
            "events": _events(),
        },
    },
    "webhook": {
        "type": "dict",
        "options": {
            "url": {"type": "str", "required": True, "no_log": True},
            "headers": {"type": "dict", "default": {}, "no_log": True},
            "validate_certs": {"type": "bool", "default": True},
            "events": _events(),
        },
    },
    "alertmanager": {
        "type": "dict",
        "options": {
            "url": {"type": "str", "required": True},
            "validate_certs": {"type": "bool", "default": True},
            "events": _events(),
        },
    },
}

CHANNELS = ("slack", "webhook", "alertmanager")


def _secret_url_problem(value):
    """Why a secret URL is unusable, without showing it (a query is allowed: some carry a key)."""
    try:
        parts = urllib.parse.urlsplit(value) if isinstance(value, str) else None
        port_ok = parts is not None and parts.port != 0
    except ValueError:
        parts, port_ok = None, False
    if parts and parts.scheme in ("http", "https") and parts.hostname and port_ok:
        return None
    return "must be an http:// or https:// URL with a host (the value is a secret, not shown)"


def _template_problems(template):
    try:
        fields = [
            field for _, field, _, _ in string.Formatter().parse(template) if field is not None
        ]
    except ValueError as err:
        return [f"{err} in {template!r}; write a literal brace as {{{{ or }}}}"]
    unknown = [f"{{{field}}}" for field in fields if field not in PLACEHOLDERS]
    if unknown:
        allowed = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        return [f"unknown placeholder {', '.join(unknown)} in {template!r}; use {allowed}"]
    try:
        render(template, sample_context())
    except (ValueError, TypeError, KeyError, IndexError) as err:
        return [f"cannot be rendered ({err}): {template!r}"]
    return []


def _header_problems(headers):
    problems = []
    for name, value in headers.items():
        if not name or not set(str(name)) <= HEADER_NAME:
            problems.append("has a header whose name is not a valid HTTP header name")
        elif not isinstance(value, (str, int, float)) or isinstance(value, bool):
            problems.append(f"header {name}: its value must be a string (not shown: a secret)")
        elif any(ch in str(value) for ch in "\r\n"):
            problems.append(f"header {name}: its value must be one line (not shown: a secret)")
    return problems


def check_notifications(notifications):
    """Check the validated ``notifications`` section; return errors naming each field.

    On success the section is completed in place: ``timeout_seconds``, and every
    configured channel's ``events`` (the section's when it gives none).
    """
    errors = []

    def add(field, message):
        errors.append(f"{PREFIX}.{field}: {message}")

    for message in _template_problems(notifications["template"]):
        add("template", message)
    try:
        seconds = parse_duration(notifications["timeout"])
        if seconds <= 0:
            raise DurationError(f"must be greater than zero, got {notifications['timeout']!r}")
        notifications["timeout_seconds"] = seconds
    except DurationError as err:
        add("timeout", str(err))
    for name in ("slack", "webhook"):
        channel = notifications.get(name)
        if channel:
            problem = _secret_url_problem(channel["url"])
            if problem:
                add(f"{name}.url", problem)
    if notifications.get("webhook"):
        for message in _header_problems(notifications["webhook"]["headers"] or {}):
            add("webhook.headers", message)
    alertmanager = notifications.get("alertmanager")
    if alertmanager and not is_http_url(alertmanager["url"]):
        # Shown, unless it may carry a password (user:password@host).
        got = (
            "(not shown: it holds credentials)"
            if "@" in alertmanager["url"]
            else repr(alertmanager["url"])
        )
        add(
            "alertmanager.url",
            f"must be an http:// or https:// URL with a host and no query, got {got}",
        )
    for name in CHANNELS:
        channel = notifications.get(name)
        if channel and channel.get("events") is None:
            channel["events"] = list(notifications["events"])
    return errors
