"""Durations in the release spec: ``90``, ``"30s"``, ``"10m"``, ``"1h30m"``, ``"2d"``.

Bake times in the plan run from seconds (the sandbox) to days (production), so
the spec accepts both plain seconds and Prometheus-style unit strings.
"""

import math
import re

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


class DurationError(ValueError):
    """A value that is not a non-negative duration."""


def parse_duration(value):
    """Return the duration in seconds (float); raise DurationError when malformed or negative."""
    if isinstance(value, bool):
        raise DurationError(f"expected a duration such as 30, '30s', '10m' or '2h', got {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise DurationError(f"must be a finite number of seconds, got {value!r}")
        if value < 0:
            raise DurationError(f"must not be negative, got {value}")
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"-\s*\d.*", text):
        raise DurationError(f"must not be negative, got {value!r}")
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise DurationError(f"expected a duration such as 30, '30s', '10m' or '2h', got {value!r}")
    return float(sum(float(number) * _UNITS[unit] for number, unit in parts))
