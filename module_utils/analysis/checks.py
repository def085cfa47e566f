"""Check types: how each kind of check turns the analysis spec into one PromQL query.

``CHECK_TYPES`` is the only place that knows the kinds. A new kind is one builder
function and one registry line; validation, the module's ``choices`` and the
measurement loop all read the registry.
"""

from collections import namedtuple

CheckType = namedtuple("CheckType", "build fields infinite_is_data")
CheckType.__doc__ = """One kind of check.

build: ``build(check, analysis) -> str``, the PromQL of the check.
fields: check fields the kind requires and that no other kind accepts.
infinite_is_data: whether ±Inf is a real measurement (a quantile beyond the largest
    finite bucket) rather than an artefact such as a division by zero.
"""


def matchers(selector, *extra):
    """Join the canary's label matchers with check-specific ones into ``{...}``."""
    return "{" + ",".join(part for part in (selector, *extra) if part) + "}"


def error_rate_query(check, analysis):
    """Share of 5xx responses.

    A canary without 5xx series has an empty numerator, which ``or vector(0)`` turns
    into 0; a canary without requests keeps an empty (or 0/0 = NaN) result: no data,
    never a perfect score.
    """
    requests, selector, window = (
        analysis["metrics"]["requests"],
        analysis["selector"],
        analysis["window"],
    )
    server_errors = matchers(selector, 'code=~"5.."')
    errors = f"sum(rate({requests}{server_errors}[{window}]))"
    total = f"sum(rate({requests}{matchers(selector)}[{window}]))"
    return f"({errors} or vector(0)) / {total}"


def latency_query(check, analysis):
    """The configured quantile of request duration in seconds, from the histogram."""
    buckets = f"{analysis['metrics']['duration']}_bucket{matchers(analysis['selector'])}"
    return (
        f"histogram_quantile({check['quantile']:g}, "
        f"sum by (le) (rate({buckets}[{analysis['window']}])))"
    )


def availability_query(check, analysis):
    """Share of the canary's scrape targets that were up over the window."""
    up = f"{analysis['metrics']['up']}{matchers(analysis['selector'])}"
    return f"avg(avg_over_time({up}[{analysis['window']}]))"


def promql_query(check, analysis):
    """Free PromQL, used as written."""
    return check["query"]


CHECK_TYPES = {
    "error_rate": CheckType(error_rate_query, (), False),
    "latency": CheckType(latency_query, ("quantile",), True),
    "availability": CheckType(availability_query, (), False),
    "promql": CheckType(promql_query, ("query",), False),
}


def build_query(check, analysis):
    """The PromQL for ``check`` under a validated ``analysis``."""
    return CHECK_TYPES[check["type"]].build(check, analysis)
