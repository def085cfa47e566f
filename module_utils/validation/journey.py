"""Functional journeys: ordered HTTP steps sent to the canary or to stable.

One health request proves little. What a release has to keep working is a user's path
through the service (log in, generate a script, list content), each step using what an
earlier one returned. A journey describes that path as data, so the very same definition
runs against the canary and against stable and the two outcomes can be compared.

What a step sends (header values, body) and what it captures (a token) are secrets:
results name a step by its path *template*, never the rendered path, and every reason
built from an answer is masked before it leaves this module.
"""

import http.client
import json
import string
import time
import urllib.error
import urllib.parse

from ansible.module_utils.neterrors import NO_ANSWER, short_reason
from ansible.module_utils.urls import open_url

try:
    import jmespath
except ImportError:  # reported by the module with missing_required_lib
    jmespath = None

USER_AGENT = "canary-runbooks-probe"
MASK = "********"
READ_ONLY_METHODS = ("GET", "HEAD")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
TARGETS = ("canary", "stable")
DEFAULT_CANARY_HEADER = "X-Canary"
# The value of the forcing header that sends a request to each target (the router's contract).
FORCE_VALUES = {"canary": "always", "stable": "never"}
SHOWN_CHARS = 200

STEP_ARGUMENT_SPEC = {
    "name": {"type": "str"},
    "method": {"type": "str", "default": "GET"},
    "path": {"type": "str", "required": True},
    "headers": {"type": "dict", "default": {}, "no_log": True},
    "body": {"type": "raw", "no_log": True},
    "status": {"type": "raw", "default": 200},
    "assert": {"type": "list", "elements": "str", "default": []},
    "capture": {"type": "dict", "default": {}},
    "timeout": {"type": "float"},
    "retries": {"type": "int", "default": 0},
    "retry_delay": {"type": "float", "default": 1.0},
}
ROUTE_ARGUMENT_SPEC = {
    "header": {"type": "dict", "default": {}},
    "cookie": {"type": "dict", "default": {}},
    "url": {"type": "str"},
}
ARGUMENT_SPEC = {
    "url": {"type": "str", "required": True},
    "journeys": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "name": {"type": "str", "required": True},
            "steps": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": STEP_ARGUMENT_SPEC,
            },
        },
    },
    "targets": {
        "type": "list",
        "elements": "str",
        "default": list(TARGETS),
        "choices": list(TARGETS),
    },
    "canary_header": {"type": "str", "default": DEFAULT_CANARY_HEADER},
    "route": {
        "type": "dict",
        "options": {target: {"type": "dict", "options": ROUTE_ARGUMENT_SPEC} for target in TARGETS},
    },
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path"},
    "timeout": {"type": "float", "default": 10.0},
}


class JourneySpecError(ValueError):
    """Invalid journeys; ``errors`` lists every problem, each naming its field."""

    def __init__(self, errors):
        super().__init__("; ".join(errors))
        self.errors = errors


# --- validation -----------------------------------------------------------------------


def _placeholders(text):
    """The field names of ``{...}`` placeholders in ``text``; ValueError for bad braces."""
    return [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]


def _string_leaves(value, where):
    """``(field, text)`` for every string in a header dict or a JSON body."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _string_leaves(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_leaves(item, f"{where}[{index}]")


def _check_placeholders(step, where, known, errors):
    """Every placeholder must be a plain name captured by an earlier step.

    Checked before anything is sent, so a typo cannot leave a journey half-run. Only plain
    names are allowed: ``{token.upper}`` or ``{items[0]}`` would let a template reach into
    a captured value's attributes.
    """
    fields = [(f"{where}.path", step["path"])]
    fields += list(_string_leaves(step["headers"], f"{where}.headers"))
    fields += list(_string_leaves(step["body"], f"{where}.body"))
    available = ", ".join(sorted(known)) or "nothing"
    for field, text in fields:
        try:
            names = _placeholders(text)
        except ValueError as exc:
            errors.append(f"{field}: {exc} (write a literal brace as {{{{ or }}}})")
            continue
        for name in names:
            if not name.isidentifier():
                errors.append(f"{field}: placeholder {{{name}}} must be a plain name")
            elif name not in known:
                errors.append(
                    f"{field}: unknown placeholder {{{name}}}; captured before this step: {available}"
                )


def _status_codes(value):
    """The accepted statuses as a list of ints, or None when ``value`` is not one."""
    values = value if isinstance(value, list) else [value]
    codes = []
    for item in values:
        if isinstance(item, bool):
            return None
        try:
            code = int(item)
        except (TypeError, ValueError):
            return None
        if not 100 <= code <= 599 or str(item).strip() != str(code):
            return None
        codes.append(code)
    return codes or None


def _check_step(raw, where, known, errors):
    step = {key: spec.get("default") for key, spec in STEP_ARGUMENT_SPEC.items()}
    step.update({key: value for key, value in raw.items() if value is not None})
    unknown = sorted(set(raw) - set(STEP_ARGUMENT_SPEC))
    if unknown:
        errors.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    if not isinstance(step["path"], str) or not step["path"].startswith("/"):
        errors.append(f"{where}.path: must be a string starting with '/'")
        return None
    step["method"] = str(step["method"]).upper()
    if step["method"] not in METHODS:
        errors.append(f"{where}.method: {raw.get('method')!r} is not one of {', '.join(METHODS)}")
    step["name"] = step["name"] or f"{step['method']} {step['path']}"
    step["status"] = _status_codes(step["status"])
    if step["status"] is None:
        errors.append(
            f"{where}.status: {raw.get('status')!r} is not an HTTP status (100-599) or a list of them"
        )
    if not isinstance(step["headers"], dict):
        errors.append(f"{where}.headers: must be a mapping of header names to values")
        step["headers"] = {}
    step["headers"] = {str(key): str(value) for key, value in step["headers"].items()}
    if step["timeout"] is not None and not step["timeout"] > 0:
        errors.append(f"{where}.timeout: must be greater than 0")
    if not isinstance(step["retries"], int) or step["retries"] < 0:
        errors.append(f"{where}.retries: must be an integer of at least 0")
    if not isinstance(step["retry_delay"], (int, float)) or step["retry_delay"] < 0:
        errors.append(f"{where}.retry_delay: must be a number of at least 0")
    if not isinstance(step["assert"], list):
        errors.append(f"{where}.assert: must be a list of JMESPath expressions")
        step["assert"] = []
    if not isinstance(step["capture"], dict):
        errors.append(f"{where}.capture: must be a mapping of names to JMESPath expressions")
        step["capture"] = {}
    compiled = {}
    for index, expression in enumerate(step["assert"]):
        compiled[expression] = _compile(expression, f"{where}.assert[{index}]", errors)
    for name, expression in step["capture"].items():
        if not str(name).isidentifier():
            errors.append(f"{where}.capture: {name!r} is not a plain name usable as {{name}}")
        compiled[expression] = _compile(expression, f"{where}.capture.{name}", errors)
    step["compiled"] = compiled
    _check_placeholders(step, where, known, errors)
    known.update(str(name) for name in step["capture"])
    return step


def _compile(expression, where, errors):
    try:
        return jmespath.compile(str(expression))
    except jmespath.exceptions.JMESPathError as exc:
        errors.append(f"{where}: invalid JMESPath {expression!r}: {' '.join(str(exc).split())}")
        return None


def validate_journeys(journeys, prefix="journeys"):
    """Check ``journeys`` and return them completed with defaults.

    Raises ``JourneySpecError`` listing every problem, each prefixed with its field
    (``journeys[0].steps[1].status``). The checks are the ones Ansible's argument spec
    cannot make: statuses, JMESPath syntax, placeholders, ranges, unique names.
    """
    errors = []
    if not isinstance(journeys, list) or not journeys:
        raise JourneySpecError([f"{prefix}: must be a non-empty list of journeys"])
    result, names = [], set()
    for index, journey in enumerate(journeys):
        where = f"{prefix}[{index}]"
        if not isinstance(journey, dict):
            errors.append(f"{where}: must be a mapping with name and steps")
            continue
        name = journey.get("name")
        if not name:
            errors.append(f"{where}.name: required")
        elif name in names:
            errors.append(f"{where}.name: {name!r} is used by an earlier journey")
        names.add(name)
        steps = journey.get("steps")
        if not isinstance(steps, list) or not steps:
            errors.append(f"{where}.steps: must be a non-empty list of steps")
            continue
        known, checked = set(), []
        for number, step in enumerate(steps):
            if not isinstance(step, dict):
                errors.append(f"{where}.steps[{number}]: must be a mapping")
                continue
            checked.append(_check_step(step, f"{where}.steps[{number}]", known, errors))
        result.append({"name": name, "steps": checked})
    if errors:
        raise JourneySpecError(errors)
    return result


def read_only(journey):
    """True when no step of ``journey`` can change anything (only GET and HEAD)."""
    return all(step["method"] in READ_ONLY_METHODS for step in journey["steps"])


# --- routing --------------------------------------------------------------------------


def build_routes(url, route=None, canary_header=DEFAULT_CANARY_HEADER):
    """How to reach each target: ``{target: {url, header, cookie}}``.

    A target without an explicit route gets the router's forcing header
    (``<canary_header>: always`` for the canary, ``never`` for stable) and ``url``.
    An explicit route replaces that default entirely (a cookie instead of a header, or
    the canary Service's own URL), its missing ``url`` falling back to ``url``.
    """
    routes = {}
    for target in TARGETS:
        given = (route or {}).get(target)
        if given:
            routes[target] = {
                "url": given.get("url") or url,
                "header": {str(k): str(v) for k, v in (given.get("header") or {}).items()},
                "cookie": {str(k): str(v) for k, v in (given.get("cookie") or {}).items()},
            }
        else:
            routes[target] = {
                "url": url,
                "header": {canary_header: FORCE_VALUES[target]},
                "cookie": {},
            }
    return routes


def shown_url(url):
    """``url`` without user information, fit for results and messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=host))


def route_headers(route, headers):
    """The step's headers with the route's forcing header and cookie applied.

    The route wins over a step's own header of the same name: a journey meant for the
    canary must not end up on stable because a step set the header by copy-paste.
    """
    merged = {**headers, **route["header"]}
    if route["cookie"]:
        cookie = "; ".join(f"{name}={value}" for name, value in route["cookie"].items())
        existing = next((k for k in merged if k.lower() == "cookie"), None)
        if existing:
            cookie = f"{merged.pop(existing)}; {cookie}"
        merged["Cookie"] = cookie
    return merged


# --- running --------------------------------------------------------------------------


class _Masker:
    """Hides every secret text (sent or captured) in texts that leave the module.

    Only strings are masked: credentials are strings, and masking numbers (a captured
    id 7) would garble every figure in an error body.
    """

    def __init__(self):
        self.values = set()

    def add(self, value):
        self.values.update(text for _, text in _string_leaves(value, "") if text)

    def __call__(self, text):
        for value in sorted(self.values, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text


def _render(value, captures):
    """Fill placeholders in the string leaves of ``value`` from ``captures``.

    A string that is exactly one placeholder takes the captured value itself, so a
    captured number stays a number in a JSON body.
    """
    if isinstance(value, str):
        names = _placeholders(value)
        if len(names) == 1 and value == f"{{{names[0]}}}":
            return captures[names[0]]
        return value.format_map(captures)
    if isinstance(value, dict):
        return {key: _render(item, captures) for key, item in value.items()}
    if isinstance(value, list):
        return [_render(item, captures) for item in value]
    return value


def _send(url, method, headers, data, timeout, tls):
    """One request: ``(status, body bytes, None)`` or ``(None, b"", error text)``.

    Non-2xx answers are answers, not errors: the step judges their status.
    """
    try:
        with open_url(
            url,
            method=method,
            headers=headers,
            data=data,
            timeout=timeout,
            http_agent=USER_AGENT,
            **tls,
        ) as response:
            return response.status, response.read(), None
    except urllib.error.HTTPError as err:
        try:
            body = err.read()
        except (OSError, http.client.HTTPException):
            body = b""
        return err.code, body, None
    except NO_ANSWER as err:
        return None, b"", short_reason(err)


def _truthy(value):
    """JMESPath truthiness: null, false and empty strings, lists and objects are false; 0 is true."""
    return not (
        value is None or value is False or (isinstance(value, (str, list, dict)) and not value)
    )


def _judge(step, status, body, captures, mask):
    """Why the answer fails the step (None when it passes); fills ``captures``."""
    if status not in step["status"]:
        expected = " or ".join(str(code) for code in step["status"])
        # Masked before it is cut, so a secret across the cut cannot show in part.
        snippet = mask(" ".join(body.decode("utf-8", "replace").split()))[:SHOWN_CHARS]
        return f"status {status}, expected {expected}" + (f": {snippet}" if snippet else "")
    if not step["assert"] and not step["capture"]:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return "the answer is not JSON, so assert and capture cannot apply"
    failed = []
    for expression in step["assert"]:
        value = step["compiled"][expression].search(document)
        if not _truthy(value):
            # Only falsy values fail (null, false, "", [], {}): none can show a secret.
            failed.append(f"assert {expression!r} evaluated to {json.dumps(value)}")
    for name, expression in step["capture"].items():
        value = step["compiled"][expression].search(document)
        if value is None:
            failed.append(f"capture {name} ({expression!r}) found nothing")
        else:
            captures[name] = value
            mask.add(value)
    return "; ".join(failed) or None


def run_step(step, base_url, route, captures, mask, timeout, tls):
    """Send ``step`` (with retries) and judge it; return its result (no secret in it)."""
    started = time.monotonic()
    own_headers = {name: str(value) for name, value in _render(step["headers"], captures).items()}
    body = _render(step["body"], captures)
    # The route's values (always, never) are not secrets and would mask words in reasons.
    mask.add(own_headers)
    mask.add(body)
    headers = route_headers(route, own_headers)
    if body is None:
        data = None
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:
        data = json.dumps(body).encode("utf-8")
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"
    url = base_url.rstrip("/") + step["path"].format_map(captures)
    step_timeout = step["timeout"] or timeout
    attempts = 0
    while True:
        attempts += 1
        status, answer, error = _send(url, step["method"], headers, data, step_timeout, tls)
        retryable = error is not None or (status >= 500 and status not in step["status"])
        if not retryable or attempts > step["retries"]:
            break
        time.sleep(step["retry_delay"])
    if error is not None:
        reason = f"no answer: {mask(error)}"
    else:
        reason = _judge(step, status, answer, captures, mask)
    if reason and attempts > 1:
        reason += f" (after {attempts} attempts)"
    return {
        "name": step["name"],
        "method": step["method"],
        "path": step["path"],
        "status": status,
        "attempts": attempts,
        "duration": round(time.monotonic() - started, 3),
        "result": "fail" if reason else "pass",
        "reason": reason or f"status {status}",
    }


def _skipped_step(step, reason):
    return {
        "name": step["name"],
        "method": step["method"],
        "path": step["path"],
        "status": None,
        "attempts": 0,
        "duration": 0.0,
        "result": "skipped",
        "reason": reason,
    }


def run_journey(journey, target, route, timeout=10.0, validate_certs=True, ca_path=None):
    """Run a validated ``journey`` against ``target`` through ``route``; return its result.

    Steps run in order and stop at the first failure; the remaining steps are reported
    as skipped. Captures live only for the journey, so a journey on stable never sees
    the canary's token.
    """
    started = time.monotonic()
    tls = {"validate_certs": validate_certs, "ca_path": ca_path}
    captures, mask, steps, reason = {}, _Masker(), [], None
    for number, step in enumerate(journey["steps"], start=1):
        if reason:
            steps.append(_skipped_step(step, "not run: an earlier step failed"))
            continue
        result = run_step(step, route["url"], route, captures, mask, timeout, tls)
        steps.append(result)
        if result["result"] == "fail":
            reason = (
                f"step {number} {step['name']!r} ({step['method']} {step['path']}): "
                f"{result['reason']}"
            )
    return {
        "name": journey["name"],
        "target": target,
        "url": shown_url(route["url"]),
        "result": "fail" if reason else "pass",
        "steps": steps,
        "reason": reason or f"all {len(steps)} steps passed",
        "duration": round(time.monotonic() - started, 3),
    }


def skip_journey(journey, target, route, reason):
    """The result of a journey that is not run (check mode), with what it would send."""
    return {
        "name": journey["name"],
        "target": target,
        "url": shown_url(route["url"]),
        "result": "skipped",
        "steps": [_skipped_step(step, reason) for step in journey["steps"]],
        "reason": reason,
        "duration": 0.0,
    }
