"""One measurement: every configured check, queried once, judged, weighed by its severity.

This is the unit the stage bake loop repeats every interval, so it stays cheap: no
discovery, no state, one HTTP request per check (plus one for the request count when
``min_requests`` is set). All checks are evaluated at the same instant, so one
measurement describes one moment of the canary.
"""

import math
import time

from ansible.module_utils.analysis import policy
from ansible.module_utils.analysis.checks import CHECK_TYPES, build_query, requests_query
from ansible.module_utils.analysis.judge import NO_DATA, error, judge
from ansible.module_utils.analysis.prometheus import (
    PrometheusClient,
    PrometheusError,
    PrometheusTimeout,
    PrometheusUnreachable,
    single_value,
)
from ansible.module_utils.analysis.spec import validate_analysis


class _Session:
    """The queries of one measurement: stops querying once Prometheus proved unreachable."""

    def __init__(self, analysis, at):
        self.client = PrometheusClient.from_settings(analysis["prometheus"])
        self.at = at
        self.outage = None

    def value(self, query):
        """Return ``(value, problem)``: the query's number, or why there is none."""
        if self.outage is not None:
            return None, f"not queried after: {self.outage}"
        try:
            return single_value(self.client.query(query, self.at)), None
        except (PrometheusUnreachable, PrometheusTimeout) as exc:
            self.outage = exc
            return None, str(exc)
        except PrometheusError as exc:
            return None, str(exc)


def measure(analysis, at=None):
    """Run every check of ``analysis`` once, at unix time ``at`` (now when None).

    Returns ``{verdict, reason, checks, failed, requests, time}``. Each check has its
    ``result`` (pass, fail, no_data, error), its ``effect`` on the stage under its
    severity and the no-data policy (see ``policy``), and a ``reason`` that says both.
    ``verdict`` is the worst effect (fail, error, hold, else pass); ``failed`` names the
    checks that did not pass, whatever their effect. Once Prometheus proves unreachable
    or unresponsive, the remaining checks are marked ``error`` without being queried, so
    an outage costs one timeout, not one per check. Raises ``AnalysisSpecError`` for an
    invalid spec; Prometheus problems never raise.
    """
    analysis = validate_analysis(analysis)
    at = time.time() if at is None else float(at)
    session = _Session(analysis, at)
    requests, traffic = _traffic(session, analysis)
    checks = [_check(session, analysis, check, traffic) for check in analysis["checks"]]
    verdict = policy.verdict({check["effect"] for check in checks})
    reasons = [check["reason"] for check in checks if check["effect"] == verdict]
    return {
        "verdict": verdict,
        "reason": "; ".join(reasons) if verdict != policy.PASS else "every check passed",
        "checks": checks,
        "failed": [check["name"] for check in checks if check["result"] != policy.PASS],
        "requests": requests,
        "time": at,
    }


def _traffic(session, analysis):
    """Return ``(requests, problem)`` under ``min_requests``; ``problem`` is None, or
    ``(result, text)`` that every traffic-based check takes: ``no_data`` for too few
    requests, ``error`` when the count itself could not be queried."""
    minimum = analysis["min_requests"]
    if not minimum:
        return None, None
    requests, problem = session.value(requests_query(analysis))
    if problem is not None:
        return None, ("error", f"request count: {problem}")
    if requests is None or math.isnan(requests):
        requests = 0.0
    if requests < minimum:
        text = f"{requests:.0f} requests in {analysis['window']} < min_requests {minimum}"
        return requests, (NO_DATA, text)
    return requests, None


def _check(session, analysis, check, traffic):
    name, query, value = check["name"], build_query(check, analysis), None
    kind = CHECK_TYPES[check["type"]]
    if traffic and kind.needs_traffic:
        result, text = traffic
        reason = f"{name}: no data ({text})" if result == NO_DATA else error(name, text)[1]
    else:
        value, problem = session.value(query)
        if problem is not None:
            result, reason = error(name, problem)
        else:
            result, reason = judge(name, value, check["min"], check["max"], kind.infinite_is_data)
    effect, note = policy.effect(result, check["severity"], analysis["no_data"])
    return {
        "name": name,
        "type": check["type"],
        "severity": check["severity"],
        "query": query,
        "value": value if value is not None and math.isfinite(value) else None,
        "bound": {"min": check["min"], "max": check["max"]},
        "result": result,
        "effect": effect,
        "reason": f"{reason} ({note})" if note else reason,
    }
