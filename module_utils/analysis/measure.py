"""One measurement: every configured check, queried once, judged, summed up.

This is the unit the stage bake loop repeats every interval, so it stays cheap: no
discovery, no state, one HTTP request per check. All checks are evaluated at the same
instant, so one measurement describes one moment of the canary.
"""

import math
import time

from ansible.module_utils.analysis.checks import CHECK_TYPES, build_query
from ansible.module_utils.analysis.judge import FAIL, PASS, error, judge
from ansible.module_utils.analysis.prometheus import (
    PrometheusClient,
    PrometheusError,
    PrometheusTimeout,
    PrometheusUnreachable,
    single_value,
)
from ansible.module_utils.analysis.spec import validate_analysis


def measure(analysis, at=None):
    """Run every check of ``analysis`` once, at unix time ``at`` (now when None).

    Returns ``{verdict, checks, failed, time}``. ``verdict`` is ``pass`` only when every
    check passed; ``failed`` names the checks that did not (fail, no_data or error).
    Once Prometheus proves unreachable or unresponsive, the remaining checks are
    marked ``error`` without being queried, so an outage costs one timeout, not one
    per check. Raises ``AnalysisSpecError`` for an invalid spec; Prometheus problems
    never raise, they become ``error`` results.
    """
    analysis = validate_analysis(analysis)
    at = time.time() if at is None else float(at)
    settings = analysis["prometheus"]
    client = PrometheusClient(settings["url"], settings["timeout"], settings["validate_certs"])
    outage = None
    checks = []
    for check in analysis["checks"]:
        name, query, value = check["name"], build_query(check, analysis), None
        if outage is not None:
            result, reason = error(name, f"not queried after: {outage}")
        else:
            try:
                value = single_value(client.query(query, at))
            except (PrometheusUnreachable, PrometheusTimeout) as exc:
                outage = exc
                result, reason = error(name, str(exc))
            except PrometheusError as exc:
                result, reason = error(name, str(exc))
            else:
                infinite_is_data = CHECK_TYPES[check["type"]].infinite_is_data
                result, reason = judge(name, value, check["min"], check["max"], infinite_is_data)
        checks.append(
            {
                "name": name,
                "type": check["type"],
                "query": query,
                "value": value if value is not None and math.isfinite(value) else None,
                "bound": {"min": check["min"], "max": check["max"]},
                "result": result,
                "reason": reason,
            }
        )
    failed = [check["name"] for check in checks if check["result"] != PASS]
    return {"verdict": FAIL if failed else PASS, "checks": checks, "failed": failed, "time": at}
