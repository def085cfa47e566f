"""The report every load generator produces, and its judgement against thresholds.

Whichever tool sent the load (the built-in generator, ab, hey or wrk), its figures end up
in one shape, so thresholds, the comparison with stable and the ledger read the same
fields. Errors are answers outside 2xx/3xx and requests that got no answer (refused,
reset, timed out, TLS failure), counted by status code or by kind. Latency percentiles
are exact (nearest rank over every answered request, not a histogram or a reservoir)
wherever the tool gives every request's time, since a load test is short and its p99 is
often the figure that decides.
"""

THRESHOLDS = {
    # threshold name: (report metric, which side of the bound fails)
    "max_error_ratio": ("error_ratio", "max"),
    "max_p95": ("latency_p95", "max"),
    "max_p99": ("latency_p99", "max"),
    "min_requests_per_second": ("requests_per_second", "min"),
}


class LoadTestError(Exception):
    """The load test could not run (bad options, tool missing or failing)."""


def percentile(ordered, pct):
    """Nearest-rank percentile of a sorted list; None when it is empty."""
    if not ordered:
        return None
    rank = max(1, -(-pct * len(ordered) // 100))
    return ordered[int(rank) - 1]


def exact_latency(latencies):
    """p50, p95, p99 and max of every answered request's seconds (None when there are none)."""
    ordered = sorted(latencies)
    return {
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "max": ordered[-1] if ordered else None,
    }


def summarize(sent, outcomes, duration, tool, latency, completed=None):
    """The report shape shared by every tool.

    ``outcomes`` counts each answer by status code (int) and each failed request by kind
    (str); ``latency`` has p50, p95, p99 and max in seconds. ``completed`` is the number
    of answered requests when some answers are counted under a kind (ab's non-2xx),
    otherwise the answers counted by status code.
    """
    errors = {}
    for outcome, count in outcomes.items():
        if isinstance(outcome, str) or not 200 <= outcome < 400:
            errors[str(outcome)] = errors.get(str(outcome), 0) + count
    if completed is None:
        completed = sum(count for outcome, count in outcomes.items() if isinstance(outcome, int))
    error_count = sum(errors.values())
    return {
        "tool": tool,
        "sent": sent,
        "completed": completed,
        "errors": error_count,
        "error_breakdown": dict(sorted(errors.items())),
        "error_ratio": error_count / sent if sent else 0.0,
        "requests_per_second": completed / duration if duration > 0 else 0.0,
        "latency_p50": latency.get("p50"),
        "latency_p95": latency.get("p95"),
        "latency_p99": latency.get("p99"),
        "latency_max": latency.get("max"),
        "duration": duration,
    }


def check_thresholds(report, thresholds):
    """A failure (metric, value, bound, reason) per threshold the report crosses.

    A latency threshold on a run where nothing was answered fails: no data is not a pass.
    """
    failures = []
    for name, (metric, side) in THRESHOLDS.items():
        bound = (thresholds or {}).get(name)
        if bound is None:
            continue
        value = report[metric]
        if value is None:
            reason = f"{metric} has no value (no request was answered), {side} {bound}"
        elif side == "max" and value > bound:
            reason = f"{metric} = {value:.4g} > max {bound:g}"
        elif side == "min" and value < bound:
            reason = f"{metric} = {value:.4g} < min {bound:g}"
        else:
            continue
        failures.append({"metric": metric, "value": value, "bound": bound, "reason": reason})
    return failures
