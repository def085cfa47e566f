"""Posting a notification: one JSON request, and what came of it, never an exception.

A notification that cannot be delivered must never stop a release or a rollback, so
``post`` turns every way a request can go wrong into an error text. Error texts end up
in job output: every secret a request carries (its URL, header values) is masked in them.
"""

import dataclasses
import http.client
import json
import urllib.error
import urllib.parse

from ansible.module_utils.neterrors import NO_ANSWER, short_reason
from ansible.module_utils.urls import open_url

USER_AGENT = "canary-runbooks-notify"
MASK = "********"
ERROR_BODY_CHARS = 200


@dataclasses.dataclass
class Request:
    """What a channel sends: a JSON ``payload`` POSTed to ``url``.

    ``secrets`` are the texts never to show (the URL when it holds a credential,
    header values).
    """

    url: str
    payload: object
    headers: dict = dataclasses.field(default_factory=dict)
    validate_certs: bool = True
    secrets: tuple = ()


def _mask(text, secrets):
    hidden = set()
    for secret in secrets:
        if not secret:
            continue
        hidden.add(str(secret))
        parts = urllib.parse.urlsplit(str(secret))
        # The path alone (a Slack hook's token) or the host and path without the scheme.
        if parts.scheme and parts.path not in ("", "/"):
            hidden.add(parts.path)
            hidden.add(parts.netloc + parts.path)
        if parts.password:
            hidden.add(parts.password)
    for value in sorted(hidden, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def post(request, timeout):
    """POST ``request``; return ``(HTTP status or None, error text or None)``."""
    headers = {"Content-Type": "application/json", **request.headers}
    try:
        response = open_url(
            request.url,
            data=json.dumps(request.payload).encode("utf-8"),
            headers=headers,
            method="POST",
            timeout=timeout,
            validate_certs=request.validate_certs,
            http_agent=USER_AGENT,
        )
        with response:
            response.read()
            return response.status, None
    except urllib.error.HTTPError as err:
        try:
            body = err.read(ERROR_BODY_CHARS).decode("utf-8", "replace").strip()
        except (OSError, http.client.HTTPException):
            body = ""
        error = f"HTTP {err.code} {err.reason}" + (f": {body}" if body else "")
        return err.code, _mask(" ".join(error.split()), request.secrets)
    except NO_ANSWER as err:
        return None, _mask(short_reason(err), request.secrets)
