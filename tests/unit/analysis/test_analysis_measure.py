"""One measurement against the fake Prometheus: verdict, per-check results, outages."""

import time

import pytest
from ansible.module_utils.analysis.measure import measure
from ansible.module_utils.analysis.spec import AnalysisSpecError


def promql(name, query, **bounds):
    return {"name": name, "type": "promql", "query": query, **bounds}


def spec(url, *checks, timeout=2):
    return {
        "prometheus": {"url": url, "timeout": timeout},
        "selector": 'track="canary"',
        "checks": list(checks),
    }


def test_every_check_passing_is_a_pass(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "0.004")
    result = measure(
        spec(url, promql("a", "q_a", max=0.01), promql("b", "q_b", min=0)), at=1700000000
    )
    assert result == {
        "verdict": "pass",
        "failed": [],
        "time": 1700000000.0,
        "checks": [
            {
                "name": "a",
                "type": "promql",
                "query": "q_a",
                "value": 0.004,
                "bound": {"min": None, "max": 0.01},
                "result": "pass",
                "reason": "a = 0.004 <= max 0.01",
            },
            {
                "name": "b",
                "type": "promql",
                "query": "q_b",
                "value": 0.004,
                "bound": {"min": 0, "max": None},
                "result": "pass",
                "reason": "b = 0.004 >= min 0",
            },
        ],
    }
    assert [r["time"] for r in fake_prometheus.requests] == ["1700000000.000"] * 2


def test_one_bad_check_fails_the_verdict_and_each_keeps_its_own_result(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "0.5", query="ok")
    fake_prometheus.respond_vector("prom", "0.0312", query="high")
    fake_prometheus.respond_vector("prom", "NaN", query="nan")
    fake_prometheus.respond_vector("prom", query="empty")
    fake_prometheus.respond_vector("prom", "1", "2", query="split")
    fake_prometheus.respond(
        "prom",
        {"status": "error", "errorType": "bad_data", "error": "parse error"},
        status=400,
        query="bad",
    )
    checks = [promql(q, q, max=0.6) for q in ("ok", "high", "nan", "empty", "split", "bad")]
    checks[1]["max"] = 0.01
    result = measure(spec(url, *checks), at=1700000000)
    assert result["verdict"] == "fail"
    assert result["failed"] == ["high", "nan", "empty", "split", "bad"]
    assert [(c["result"], c["value"], c["reason"]) for c in result["checks"]] == [
        ("pass", 0.5, "ok = 0.5 <= max 0.6"),
        ("fail", 0.0312, "high = 0.0312 > max 0.01"),
        ("no_data", None, "nan = NaN: no data"),
        ("no_data", None, "empty: no data (empty result)"),
        (
            "error",
            None,
            'split: query failed: query returned 2 series ({pod="pod-0"}; {pod="pod-1"}); '
            "aggregate it to a single series, e.g. with sum()",
        ),
        ("error", None, "bad: query failed: HTTP 400: bad_data: parse error"),
    ]


def test_infinite_latency_fails_but_infinite_ratio_is_no_data(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "+Inf")
    latency = {"name": "p99", "type": "latency", "quantile": 0.99, "max": 2.0}
    ratio = promql("ratio", "q", min=0.99)
    result = measure(spec(url, latency, ratio), at=1700000000)
    assert [(c["result"], c["value"], c["reason"]) for c in result["checks"]] == [
        ("fail", None, "p99 = +Inf > max 2"),
        ("no_data", None, "ratio = +Inf: no data"),
    ]


def test_unreachable_prometheus_is_an_error_on_every_check(refused_url):
    result = measure(spec(refused_url, promql("a", "q", max=1), promql("b", "q", max=1)))
    assert result["verdict"] == "fail"
    assert result["failed"] == ["a", "b"]
    assert [c["result"] for c in result["checks"]] == ["error", "error"]
    assert "Connection refused" in result["checks"][0]["reason"]
    assert result["checks"][1]["reason"].startswith("b: query failed: not queried after: ")


def test_an_unresponsive_prometheus_costs_one_timeout_not_one_per_check(fake_prometheus):
    url = fake_prometheus.respond("prom", {}, delay=2.0)
    checks = [promql(name, "q", max=1) for name in ("a", "b", "c")]
    started = time.monotonic()
    result = measure(spec(url, *checks, timeout=0.3))
    assert time.monotonic() - started < 1.0
    assert len(fake_prometheus.requests) == 1
    assert [c["result"] for c in result["checks"]] == ["error"] * 3
    assert "no answer within 0.3s" in result["checks"][2]["reason"]


def test_without_time_all_checks_share_the_current_instant(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "0")
    before = time.time()
    result = measure(spec(url, promql("a", "qa", max=1), promql("b", "qb", max=1)))
    assert before <= result["time"] <= time.time()
    sent = {r["time"] for r in fake_prometheus.requests}
    assert sent == {f"{result['time']:.3f}"}


def test_invalid_spec_raises_before_any_query(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "0")
    with pytest.raises(AnalysisSpecError, match=r"analysis.checks\[0\]: set min, max or both"):
        measure(spec(url, promql("a", "q")))
    assert fake_prometheus.requests == []
