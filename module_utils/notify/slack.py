"""Slack incoming webhooks, and the chat tools that accept the same payload.

Mattermost, Rocket.Chat and Zulip's Slack-compatible endpoints take ``{"text": ...}``
with an optional ``channel`` and ``username``. The URL carries the credential: secret.
"""

from ansible.module_utils.notify.delivery import Request

NAME = "slack"


def payload(settings, message):
    body = {"text": message["text"]}
    for key in ("channel", "username"):
        if settings.get(key):
            body[key] = settings[key]
    return body


def request(settings, message):
    return Request(
        url=settings["url"], payload=payload(settings, message), secrets=(settings["url"],)
    )
