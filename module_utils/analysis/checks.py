"""Check types: how each kind of check turns the analysis spec into one PromQL query.

``CHECK_TYPES`` is the only place that knows the kinds. A new kind is one builder
function and one registry line; validation, the module's ``choices`` and the
measurement loop all read the registry. Every builder takes the track it measures, so
the same check measures the canary and, for the baseline judge, the stable track.
"""

from collections import namedtuple

from ansible.module_utils.analysis.templating import render_query

CheckType = namedtuple("CheckType", "build fields infinite_is_data needs_traffic per_route")
CheckType.__doc__ = """One kind of check.

build: ``build(check, analysis, track) -> str``, the PromQL of the check on ``track``.
fields: check fields the kind requires and that no other kind accepts.
infinite_is_data: whether ±Inf is a real measurement (a quantile beyond the largest
    finite bucket) rather than an artefact such as a division by zero.
needs_traffic: whether the value means anything without requests (``min_requests``).
per_route: whether a check may be limited to one API route (``route``): the requests'
    ``metrics.route_label`` label (``path``) equal to it.
"""


def matchers(selector, *extra):
    """Join the canary's label matchers with check-specific ones into ``{...}``."""
    return "{" + ",".join(part for part in (selector, *extra) if part) + "}"


def route_matcher(check, analysis):
    """``path="/api/ai/generate"`` for a check limited to a route; None for all of them."""
    route = check.get("route")
    if not route:
        return None
    return f'{analysis["metrics"]["route_label"]}="{route}"'


def error_rate_query(check, analysis, track):
    """Share of 5xx responses.

    A canary without 5xx series has an empty numerator, which ``or vector(0)`` turns
    into 0; a canary without requests keeps an empty (or 0/0 = NaN) result: no data,
    never a perfect score.
    """
    requests, window = analysis["metrics"]["requests"], analysis["window"]
    selector, route = track_selector(analysis, track), route_matcher(check, analysis)
    server_errors = matchers(selector, route, 'code=~"5.."')
    errors = f"sum(rate({requests}{server_errors}[{window}]))"
    total = f"sum(rate({requests}{matchers(selector, route)}[{window}]))"
    return f"({errors} or vector(0)) / {total}"


def latency_query(check, analysis, track):
    """The configured quantile of request duration in seconds, from the histogram."""
    selector = matchers(track_selector(analysis, track), route_matcher(check, analysis))
    buckets = f"{analysis['metrics']['duration']}_bucket{selector}"
    return (
        f"histogram_quantile({check['quantile']:g}, "
        f"sum by (le) (rate({buckets}[{analysis['window']}])))"
    )


def availability_query(check, analysis, track):
    """Share of the track's scrape targets that were up over the window."""
    up = f"{analysis['metrics']['up']}{matchers(track_selector(analysis, track))}"
    return f"avg(avg_over_time({up}[{analysis['window']}]))"


def promql_query(check, analysis, track):
    """Free PromQL, rendered as a Jinja template (see ``query_variables``)."""
    return render_query(check["query"], query_variables(analysis, track))


def requests_query(analysis):
    """Requests the canary served over the window: what ``min_requests`` is checked against."""
    counter = f"{analysis['metrics']['requests']}{matchers(analysis['selector'])}"
    return f"sum(increase({counter}[{analysis['window']}]))"


CHECK_TYPES = {
    "error_rate": CheckType(error_rate_query, (), False, True, True),
    "latency": CheckType(latency_query, ("quantile",), True, True, True),
    "availability": CheckType(availability_query, (), False, False, False),
    "promql": CheckType(promql_query, ("query",), False, True, False),
}


def track_selector(analysis, track):
    """Label matchers of ``track``: the canary's, or the baseline judge's stable ones."""
    return analysis["selector"] if track == "canary" else analysis["baseline"]["selector"]


def query_variables(analysis, track):
    """What a free query can use: the spec's ``variables``, then track, selector, window."""
    return {
        **(analysis.get("variables") or {}),
        "track": track,
        "selector": track_selector(analysis, track),
        "window": analysis["window"],
    }


def build_query(check, analysis, track="canary"):
    """The PromQL for ``check`` on ``track`` (``canary``, or ``stable`` for the baseline)."""
    return CHECK_TYPES[check["type"]].build(check, analysis, track)
