"""Cost of one analysis round as the number of checks grows: 1, 5 and 20 checks.

Each round is one ``measure()`` of the canary against the sandbox's live Prometheus:
one instant query per check (plus the request count for ``min_requests``). The
figures are the median wall time of a round and the queries it sent.
"""

import statistics
import time

from bench.common import row

CHECK_COUNTS = (1, 5, 20)
ROUNDS = 10
KINDS = (
    {"type": "error_rate", "max": 0.01},
    {"type": "latency", "quantile": 0.99, "max": 2.0},
    {"type": "availability", "min": 0.99},
)


def analysis(count):
    checks = [{"name": f"check_{index}", **KINDS[index % len(KINDS)]} for index in range(count)]
    return {
        "prometheus": {"url": "http://127.0.0.1:19090", "timeout": 2},
        "window": "10s",
        "selector": 'namespace="yyc3-short-drama",track="stable"',
        "min_requests": 10,
        "checks": checks,
    }


def measure(sandbox):
    # bench.common (imported above) has put the project's module_utils on the path.
    from ansible.module_utils.analysis.measure import measure as measure_once

    print(f"\nAnalysis round cost (median of {ROUNDS} rounds, live Prometheus)", flush=True)
    figures = {}
    for count in CHECK_COUNTS:
        spec = analysis(count)
        times = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            result = measure_once(spec)
            times.append(time.perf_counter() - started)
        if any(check["result"] == "error" for check in result["checks"]):
            raise RuntimeError(f"queries failed: {result['reason']}")
        median = statistics.median(times)
        figures[count] = {"seconds": round(median, 4), "queries": count + 1}
        row(f"{count} check(s), {count + 1} queries", f"{median * 1000:.1f} ms")
    return figures
