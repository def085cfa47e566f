"""Judge one measured value against a check's bounds.

Fail closed: only a finite number inside the bounds is a pass. An empty result, NaN
or a meaningless infinity is ``no_data``; a query that could not run is ``error``.
Neither is ever a pass; what they cost the release is the caller's policy.
"""

import math

PASS = "pass"
FAIL = "fail"
NO_DATA = "no_data"
ERROR = "error"


def judge(name, value, minimum=None, maximum=None, infinite_is_data=False):
    """Return ``(result, reason)`` for ``value`` (a float, or None for an empty result).

    Bounds are inclusive. ``infinite_is_data`` lets ±Inf be compared with the bounds
    (a quantile beyond the largest finite histogram bucket); otherwise ±Inf is
    ``no_data``, the trace of a division by zero.
    """
    if value is None:
        return NO_DATA, f"{name}: no data (empty result)"
    if math.isnan(value) or (math.isinf(value) and not infinite_is_data):
        return NO_DATA, f"{name} = {format_value(value)}: no data"
    if maximum is not None and value > maximum:
        return FAIL, f"{name} = {format_value(value, maximum)} > max {maximum:g}"
    if minimum is not None and value < minimum:
        return FAIL, f"{name} = {format_value(value, minimum)} < min {minimum:g}"
    return PASS, f"{name} = {format_value(value, minimum, maximum)} {_within(minimum, maximum)}"


def error(name, message):
    """Return ``(result, reason)`` for a check whose query could not be evaluated."""
    return ERROR, f"{name}: query failed: {message}"


def _within(minimum, maximum):
    if minimum is None:
        return f"<= max {maximum:g}"
    if maximum is None:
        return f">= min {minimum:g}"
    return f"within [{minimum:g}, {maximum:g}]"


def format_value(value, *bounds):
    """Short form of ``value`` that never prints equal to a bound it differs from.

    Four significant digits read well (``0.0312``), but 0.98999 would print as 0.99
    next to ``min 0.99``; more digits are used until the difference shows.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    for digits in range(4, 17):
        text = f"{value:.{digits}g}"
        if all(bound is None or bound == value or float(text) != bound for bound in bounds):
            return text
    return repr(value)
