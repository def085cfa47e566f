"""The security headers a canary answers with, compared with expectations.

A new build can drop a header the stable one set (a middleware removed, a proxy config
changed) without any error or latency showing it, so the canary's response headers are
compared with what the release expects. The request goes through ``open_url`` so it
inherits Ansible's TLS, CA and proxy handling; verification stays on unless turned off.
Headers are judged on any HTTP answer, error pages included: they protect those too.
"""

import re
import urllib.error

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.urls import open_url

# Mozilla's HTTP Observatory asks HSTS for at least six months.
HSTS_MIN_MAX_AGE = 15768000
DEFAULT_EXPECT = {
    "Strict-Transport-Security": {"present": True, "min_max_age": HSTS_MIN_MAX_AGE},
    "X-Content-Type-Options": {"present": True, "equals": "nosniff"},
    "X-Frame-Options": {"present": True, "matches": "^(DENY|SAMEORIGIN)$"},
    "Content-Security-Policy": {"present": True},
}
_KEYS = {"present", "equals", "matches", "min_max_age"}
_MAX_AGE = re.compile(r"(?:^|;)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:;|$)", re.IGNORECASE)


def prepare(options):
    """Validated settings; raises ``ValueError("<field>: why")`` naming the bad field."""
    url = options.get("url") or ""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"url: {url!r} is not an http:// or https:// URL")
    expect = options.get("expect")
    expect = DEFAULT_EXPECT if expect is None else expect
    if not isinstance(expect, dict) or not expect:
        raise ValueError("expect: must be a non-empty mapping of header name to expectation")
    prepared = {}
    for name, rule in expect.items():
        field = f"expect.{name}"
        rule = {} if rule is None else rule
        if not isinstance(rule, dict):
            raise ValueError(f"{field}: must be a mapping with {sorted(_KEYS)}")
        unknown = set(rule) - _KEYS
        if unknown:
            raise ValueError(f"{field}: unknown keys {sorted(unknown)}, expected {sorted(_KEYS)}")
        rule = {"present": True, **rule}
        if not isinstance(rule["present"], bool):
            raise ValueError(f"{field}.present: {rule['present']!r} is not a boolean")
        if "matches" in rule:
            try:
                re.compile(rule["matches"])
            except (re.error, TypeError) as exc:
                raise ValueError(f"{field}.matches: invalid regular expression: {exc}") from None
        if "min_max_age" in rule and (
            not isinstance(rule["min_max_age"], int) or rule["min_max_age"] < 0
        ):
            raise ValueError(
                f"{field}.min_max_age: {rule['min_max_age']!r} is not a count of seconds"
            )
        prepared[name] = rule
    request_headers = options.get("request_headers") or {}
    if not isinstance(request_headers, dict):
        raise ValueError("request_headers: must be a mapping of header name to value")
    return {
        "url": url,
        "request_headers": {str(k): str(v) for k, v in request_headers.items()},
        "expect": prepared,
        "timeout": options.get("timeout") or 10,
        "validate_certs": options.get("validate_certs", True) is not False,
        "ca_path": options.get("ca_path"),
    }


def _fetch(settings):
    """(status, headers) of a GET of the URL, whatever the status."""
    try:
        response = open_url(
            settings["url"],
            headers=settings.get("request_headers") or {},
            timeout=settings["timeout"],
            validate_certs=settings["validate_certs"],
            ca_path=settings["ca_path"],
            http_agent="canary-security",
        )
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers
    with response:
        return response.status, response.headers


def judge(name, rule, value):
    """The reason ``value`` (None when absent) breaks ``rule``, or None when it holds."""
    if value is None:
        return f"headers.{name}: missing" if rule["present"] else None
    if not rule["present"]:
        return f"headers.{name}: present ({value!r}) but expected absent"
    if "equals" in rule and value.strip().lower() != str(rule["equals"]).lower():
        return f"headers.{name}: {value!r} does not equal {rule['equals']!r}"
    if "matches" in rule and not re.search(rule["matches"], value.strip(), re.IGNORECASE):
        return f"headers.{name}: {value!r} does not match {rule['matches']!r}"
    if "min_max_age" in rule:
        found = _MAX_AGE.search(value)
        if not found:
            return f"headers.{name}: {value!r} has no max-age, min {rule['min_max_age']}"
        if int(found.group(1)) < rule["min_max_age"]:
            return f"headers.{name}: max-age {found.group(1)} is below min {rule['min_max_age']}"
    return None


def check_headers(settings):
    """Fetch the URL and judge its headers; ``settings`` come from ``prepare``.

    Equality and patterns ignore case (header values such as ``nosniff`` or ``DENY`` are
    case-insensitive tokens). A header sent several times is judged on its values joined
    with a comma, as HTTP defines.
    """
    result = {"url": settings["url"], "failures": []}
    try:
        status, headers = _fetch(settings)
    except Exception as exc:  # open_url raises many unrelated types for one failed request
        result["failures"].append(f"headers.fetch: {settings['url']}: {to_text(exc)}")
        return result
    result["status"] = status
    result["headers"] = {}
    for name, rule in settings["expect"].items():
        values = headers.get_all(name)
        value = ", ".join(values) if values else None
        result["headers"][name] = value
        reason = judge(name, rule, value)
        if reason:
            result["failures"].append(reason)
    return result
