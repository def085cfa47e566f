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
        "reason": "every check passed",
        "failed": [],
        "requests": None,
        "time": 1700000000.0,
        "checks": [
            {
                "name": "a",
                "type": "promql",
                "query": "q_a",
                "value": 0.004,
                "bound": {"min": None, "max": 0.01},
                "result": "pass",
                "severity": "critical",
                "effect": "pass",
                "reason": "a = 0.004 <= max 0.01",
            },
            {
                "name": "b",
                "type": "promql",
                "query": "q_b",
                "value": 0.004,
                "bound": {"min": 0, "max": None},
                "result": "pass",
                "severity": "critical",
                "effect": "pass",
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
    fail = "critical: counts toward failure_limit"
    assert [(c["result"], c["value"], c["reason"]) for c in result["checks"]] == [
        ("pass", 0.5, "ok = 0.5 <= max 0.6"),
        ("fail", 0.0312, f"high = 0.0312 > max 0.01 ({fail})"),
        ("no_data", None, f"nan = NaN: no data (no_data: fail, {fail})"),
        ("no_data", None, f"empty: no data (empty result) (no_data: fail, {fail})"),
        (
            "error",
            None,
            'split: query failed: query returned 2 series ({pod="pod-0"}; {pod="pod-1"}); '
            "aggregate it to a single series, e.g. with sum() (counts toward error_limit)",
        ),
        (
            "error",
            None,
            "bad: query failed: HTTP 400: bad_data: parse error (counts toward error_limit)",
        ),
    ]
    assert result["reason"].startswith("high = 0.0312 > max 0.01 (critical")


def test_infinite_latency_fails_but_infinite_ratio_is_no_data(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "+Inf")
    latency = {"name": "p99", "type": "latency", "quantile": 0.99, "max": 2.0}
    ratio = promql("ratio", "q", min=0.99)
    result = measure(spec(url, latency, ratio), at=1700000000)
    assert [(c["result"], c["effect"], c["value"]) for c in result["checks"]] == [
        ("fail", "fail", None),
        ("no_data", "fail", None),
    ]
    assert result["checks"][0]["reason"].startswith("p99 = +Inf > max 2 ")
    assert result["checks"][1]["reason"].startswith("ratio = +Inf: no data ")


def test_unreachable_prometheus_is_an_error_on_every_check(refused_url):
    result = measure(spec(refused_url, promql("a", "q", max=1), promql("b", "q", max=1)))
    assert result["verdict"] == "error"
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


def severities(url, policy="fail", min_requests=0):
    analysis = spec(
        url,
        promql("critical", "critical", max=1),
        promql("important", "important", max=1, severity="important"),
        promql("general", "general", max=1, severity="general"),
    )
    return {**analysis, "no_data": policy, "min_requests": min_requests}


@pytest.mark.parametrize(
    ("failing", "verdict", "effect"),
    [
        ("critical", "fail", "fail"),
        ("important", "hold", "hold"),
        ("general", "pass", "recorded"),
    ],
)
def test_a_failing_check_costs_what_its_severity_says(fake_prometheus, failing, verdict, effect):
    url = fake_prometheus.respond_vector("prom", "0.5")
    fake_prometheus.respond_vector("prom", "2", query=failing)
    result = measure(severities(url))
    assert result["verdict"] == verdict
    assert result["failed"] == [failing]
    assert {c["name"]: c["effect"] for c in result["checks"]}[failing] == effect


def test_the_worst_effect_decides_and_names_its_checks(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "2")
    result = measure(severities(url))
    assert result["verdict"] == "fail"
    assert result["reason"] == "critical = 2 > max 1 (critical: counts toward failure_limit)"
    assert [c["effect"] for c in result["checks"]] == ["fail", "hold", "recorded"]


@pytest.mark.parametrize(
    ("policy", "verdict", "effects"),
    [
        ("fail", "fail", ["fail", "hold", "recorded"]),
        ("hold", "hold", ["hold", "hold", "recorded"]),
        ("ignore", "pass", ["ignored", "ignored", "ignored"]),
    ],
)
def test_no_data_policy(fake_prometheus, policy, verdict, effects):
    url = fake_prometheus.respond_vector("prom")
    result = measure(severities(url, policy))
    assert result["verdict"] == verdict
    assert [c["effect"] for c in result["checks"]] == effects
    assert f"no_data: {policy}" in result["checks"][0]["reason"]


def test_too_few_requests_is_no_data_for_traffic_checks_only(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "0.5")
    analysis = severities(url, "hold", min_requests=10)
    analysis["checks"].append({"name": "up", "type": "availability", "min": 0.9})
    fake_prometheus.respond_vector(
        "prom", "3", query='sum(increase(http_requests_total{track="canary"}[1m]))'
    )
    result = measure(analysis)
    assert result["requests"] == 3
    assert [(c["name"], c["result"], c["effect"]) for c in result["checks"]] == [
        ("critical", "no_data", "hold"),
        ("important", "no_data", "hold"),
        ("general", "no_data", "recorded"),
        ("up", "fail", "fail"),
    ]
    assert result["checks"][0]["reason"] == (
        "critical: no data (3 requests in 1m < min_requests 10) (no_data: hold)"
    )


def test_enough_requests_lets_the_checks_run(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "0.5")
    fake_prometheus.respond_vector(
        "prom", "10", query='sum(increase(http_requests_total{track="canary"}[1m]))'
    )
    result = measure(severities(url, min_requests=10))
    assert result["verdict"] == "pass" and result["requests"] == 10


def test_request_count_error_is_an_error_not_no_data(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "0.5")
    fake_prometheus.respond(
        "prom",
        {"status": "error", "errorType": "execution", "error": "boom"},
        status=422,
        query='sum(increase(http_requests_total{track="canary"}[1m]))',
    )
    result = measure(severities(url, min_requests=10))
    assert result["verdict"] == "error"
    assert result["checks"][0]["reason"].startswith(
        "critical: query failed: request count: HTTP 422"
    )


def test_free_queries_are_rendered_with_the_track_and_window(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "0")
    query = 'sum(rate(x{ {{ selector }},svc="{{ service }}" }[{{ window }}])) # {{ track }}'
    analysis = spec(url, promql("templated", query, max=1))
    analysis["variables"] = {"service": "frontend"}
    result = measure(analysis)
    rendered = 'sum(rate(x{ track="canary",svc="frontend" }[1m])) # canary'
    assert result["checks"][0]["query"] == rendered
    assert fake_prometheus.requests[0]["query"] == rendered
