"""The API server's refusal of a write, in one form: ``403 Forbidden: <its message>``.

The canary modules get it from the dynamic client's exception (``cluster.Refused``).
kubernetes.core's own modules put the whole Status body into their message, as text or
as the bytes' repr (``Failed to create object: b'{"kind":"Status",...,"code":422}'``); a role's
rescue turns that back into the same form, so a user reads the server's reason and
not a JSON dump. Dry runs (check mode) get the same answers.
"""

import ast
import http
import json
import re

# The Status body kubernetes.core formats into its message with "{0}".format(e.body).
_STATUS_BODY = re.compile(r"""b(['"])\{.*\}(?:\\n)?\1|\{.*\}""", re.S)


def in_words(code, message):
    """``422 Unprocessable Entity: <message>``."""
    try:
        phrase = http.HTTPStatus(int(code)).phrase
    except ValueError:
        phrase = "Error"
    return f"{code} {phrase}: {message}"


def from_core_message(message):
    """kubernetes.core's failure message with its Status body in words; others as they are."""
    match = _STATUS_BODY.search(message or "")
    if not match:
        return message
    body = match.group(0)
    try:
        status = json.loads(ast.literal_eval(body).decode("utf-8") if match.group(1) else body)
    except (ValueError, SyntaxError, UnicodeDecodeError):
        return message
    if not isinstance(status, dict) or status.get("kind") != "Status" or not status.get("code"):
        return message
    refusal = in_words(status["code"], status.get("message") or status.get("reason"))
    return f"{message[: match.start()]}{refusal}{message[match.end() :]}"
