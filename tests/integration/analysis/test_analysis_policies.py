"""Severities, no-data and error policies, the bake loop and the baseline judge against a
real Prometheus holding a known history (see conftest.py). Each asserts the verdict and
the reason it gives."""

import pytest
from ansible.module_utils.analysis.compare import compare
from ansible.module_utils.analysis.measure import measure
from ansible.module_utils.bake import Limits, bake

TIERS = [
    {"name": "error_rate", "type": "error_rate", "max": 0.01},
    {"name": "error_rate_important", "type": "error_rate", "max": 0.005, "severity": "important"},
    {"name": "error_rate_general", "type": "error_rate", "max": 0.001, "severity": "general"},
]


def analysis(history, case, checks=TIERS, **extra):
    return {
        "prometheus": {"url": history.url, "timeout": 5},
        "window": "1m",
        "selector": f'namespace="case-{case}",track="canary"',
        "checks": checks,
        **extra,
    }


def effects(measurement):
    return {check["name"]: check["effect"] for check in measurement["checks"]}


@pytest.mark.parametrize(
    ("case", "verdict", "expected"),
    [
        ("errors", "fail", {"error_rate": "fail", "error_rate_important": "hold"}),
        ("important", "hold", {"error_rate": "pass", "error_rate_important": "hold"}),
        ("general", "pass", {"error_rate": "pass", "error_rate_important": "pass"}),
    ],
)
def test_each_tier_costs_what_the_plan_says(history, case, verdict, expected):
    result = measure(analysis(history, case), at=history.end)
    assert result["verdict"] == verdict
    assert {**expected, "error_rate_general": "recorded"} == effects(result)


def test_an_important_failure_explains_the_hold(history):
    result = measure(analysis(history, "important"), at=history.end)
    assert result["reason"] == (
        "error_rate_important = 0.007 > max 0.005 (important: holds promotion)"
    )


@pytest.mark.parametrize(
    ("policy", "verdict", "note"),
    [
        ("fail", "fail", "no_data: fail, critical: counts toward failure_limit"),
        ("hold", "hold", "no_data: hold"),
        ("ignore", "pass", "no_data: ignore"),
    ],
)
def test_no_traffic_follows_the_no_data_policy(history, policy, verdict, note):
    result = measure(analysis(history, "idle", no_data=policy), at=history.end)
    assert result["verdict"] == verdict
    assert result["checks"][0]["reason"] == f"error_rate = NaN: no data ({note})"


def test_traffic_below_min_requests_is_no_data(history):
    quiet = analysis(history, "quiet", no_data="hold", min_requests=20)
    result = measure(quiet, at=history.end)
    assert result["verdict"] == "hold"
    assert result["requests"] == pytest.approx(6, abs=0.5)
    assert result["checks"][0]["reason"] == (
        "error_rate: no data (6 requests in 1m < min_requests 20) (no_data: hold)"
    )


def test_traffic_above_min_requests_is_judged(history):
    result = measure(analysis(history, "quiet", min_requests=5), at=history.end)
    assert result["verdict"] == "pass"
    assert [check["value"] for check in result["checks"]] == [0, 0, 0]


class HistoryClock:
    """The bake loop's clock, walking through the stored history one interval at a time."""

    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def bake_over_history(history, spec, seconds, **limits):
    clock = HistoryClock(history.end - seconds)
    decisions = []
    result = bake(
        measure=lambda: measure(spec, at=clock.now),
        record=lambda measurement, count: decisions.append(measurement["decision"]["outcome"]),
        limits=Limits(**{"duration": seconds, "interval": 30, "failure_limit": 3, **limits}),
        clock=clock,
        sleep=clock.sleep,
    )
    return result, decisions


def test_flapping_fails_once_failures_add_up_not_in_a_row(history):
    result, decisions = bake_over_history(history, analysis(history, "flapping"), 300)
    assert decisions.count("fail") == 3
    assert "pass" in decisions[: decisions.index("fail", decisions.index("fail") + 1)]
    assert result["verdict"] == "fail"
    assert result["reason"].startswith("failed measurement 3 (failure_limit 3): error_rate = ")


def test_flapping_never_gives_success_limit_passes_in_a_row(history):
    spec = analysis(history, "flapping", checks=TIERS[1:])  # important and general only
    result, decisions = bake_over_history(
        history, spec, 240, failure_limit=1, success_limit=3, hold_timeout=60
    )
    assert result["verdict"] == "hold"
    assert "fail" not in decisions and "hold" in decisions
    assert "success_limit 3" in result["reason"]


def test_prometheus_errors_fail_the_stage_after_error_limit(history):
    # A real execution error: many-to-many matching is refused by Prometheus.
    broken = {
        "name": "broken",
        "type": "promql",
        "query": "http_requests_total + on(namespace) http_requests_total",
        "max": 1,
    }
    spec = analysis(history, "healthy", checks=[broken])
    result, decisions = bake_over_history(history, spec, 300, error_limit=3)
    assert decisions == ["error"] * 3
    assert result["verdict"] == "fail" and result["failed_checks"] == 0
    assert result["reason"].startswith(
        "measurement error 3 in a row (error_limit 3): broken: query failed: HTTP 422: execution: "
    )


def baseline(history, case, **settings):
    # Samples of non-overlapping windows: overlapping ones are so correlated that the
    # test finds "significant" differences in noise.
    spec = analysis(
        history,
        case,
        checks=[],
        window="10s",
        baseline={
            "selector": f'namespace="case-{case}",track="stable"',
            "step": "10s",
            "metrics": [
                {"name": "error_rate", "type": "error_rate", "critical": True},
                {"name": "latency_p99", "type": "latency", "quantile": 0.99},
            ],
            **settings,
        },
    )
    from ansible.module_utils.analysis.spec import validate_analysis

    return compare(validate_analysis(spec), history.end - 590, history.end)


def test_a_degraded_baseline_does_not_blame_an_equally_degraded_canary(history):
    # 5 % errors and p99 2.5 s on both tracks: every absolute threshold fails...
    assert measure(analysis(history, "degraded", checks=TIERS), at=history.end)["verdict"] == "fail"
    # ...but the canary is no worse than what it replaces.
    judged = baseline(history, "degraded")
    assert judged["verdict"] == "pass", [m["reason"] for m in judged["metrics"]]
    assert judged["score"] == 100
    assert [m["result"] for m in judged["metrics"]] == ["pass", "pass"]
    assert judged["metrics"][0]["canary_samples"] == 60


def test_a_canary_worse_than_a_healthy_stable_fails_the_baseline(history):
    judged = baseline(history, "regression")
    assert judged["verdict"] == "fail" and judged["score"] == 0
    error_rate = judged["metrics"][0]
    assert error_rate["result"] == "high"
    assert error_rate["reason"].startswith("error_rate: canary median 0.00")
    assert error_rate["reason"].endswith(": high")
    assert "critical error_rate high" in judged["reason"]


def test_too_few_samples_is_no_data_under_the_policy(history):
    judged = baseline(history, "regression", min_samples=100)
    assert all(m["result"] == "no_data" for m in judged["metrics"])
    assert judged["verdict"] == "fail" and judged["score"] == 0
    assert "60" in judged["metrics"][0]["reason"]


def test_a_range_query_prometheus_refuses_is_no_data_with_its_reason(history):
    # Over 11,000 points per series: Prometheus refuses the range query.
    judged = baseline(history, "degraded", step="0.01s")
    assert judged["verdict"] == "fail"
    assert all(m["result"] == "no_data" for m in judged["metrics"])
    assert "exceeded maximum resolution" in judged["metrics"][0]["reason"]
