"""A generic JSON webhook: the event's whole context and the rendered text.

The URL and the header values are secrets (a token in the path or an Authorization
header); ``validate_certs`` turns TLS verification off for a receiver with its own CA.
"""

from ansible.module_utils.notify.delivery import Request
from ansible.module_utils.notify.message import severity

NAME = "webhook"
FIELDS = ("service", "namespace", "stage", "stages", "weight", "image", "reason", "summary")


def payload(settings, message):
    body = {"event": message["event"], "severity": severity(message["event"])}
    body.update({key: message[key] for key in FIELDS})
    body["text"] = message["text"]
    body["time"] = message["time"]
    return body


def request(settings, message):
    headers = {str(name): str(value) for name, value in (settings.get("headers") or {}).items()}
    return Request(
        url=settings["url"],
        payload=payload(settings, message),
        headers=headers,
        validate_certs=settings.get("validate_certs", True),
        secrets=(settings["url"], *headers.values()),
    )
