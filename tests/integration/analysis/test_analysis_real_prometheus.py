"""measure() against a real Prometheus holding a known history."""

import socket

import pytest
from ansible.module_utils.analysis.measure import measure

CRITICAL = " (critical: counts toward failure_limit)"
NO_DATA = " (no_data: fail, critical: counts toward failure_limit)"


def analysis(url, namespace, track="canary", extra=()):
    selector = f'namespace="case-{namespace}",track="{track}"'
    return {
        "prometheus": {"url": url, "timeout": 5},
        "window": "1m",
        "selector": selector,
        "checks": [
            {"name": "error_rate", "type": "error_rate", "max": 0.01},
            {"name": "latency_p99", "type": "latency", "quantile": 0.99, "max": 2.0},
            {"name": "availability", "type": "availability", "min": 0.99},
            {
                "name": "traffic",
                "type": "promql",
                "query": f"sum(rate(http_requests_total{{{selector}}}[1m]))",
                "min": 1,
            },
            *extra,
        ],
    }


def by_name(measurement):
    return {check["name"]: check for check in measurement["checks"]}


def test_healthy_canary_passes_every_check(history):
    result = measure(analysis(history.url, "healthy"), at=history.end)
    checks = by_name(result)
    assert result["verdict"] == "pass", [c["reason"] for c in result["checks"]]
    assert result["failed"] == []
    assert checks["error_rate"]["value"] == 0
    assert checks["latency_p99"]["value"] == pytest.approx(0.095)
    assert checks["availability"]["value"] == 1
    assert checks["traffic"]["value"] == pytest.approx(100, rel=0.02)


def test_stable_track_of_the_same_namespace_is_not_mixed_in(history):
    result = measure(analysis(history.url, "healthy", track="stable"), at=history.end)
    checks = by_name(result)
    assert checks["error_rate"]["value"] == pytest.approx(0.05)
    assert checks["latency_p99"]["value"] == pytest.approx(2.5)
    assert result["failed"] == ["error_rate", "latency_p99"]


def test_three_percent_errors_fail_the_error_rate_only(history):
    result = measure(analysis(history.url, "errors"), at=history.end)
    error_rate = by_name(result)["error_rate"]
    assert result["verdict"] == "fail"
    assert result["failed"] == ["error_rate"]
    assert error_rate["value"] == pytest.approx(0.03)
    assert error_rate["result"] == "fail"
    assert error_rate["reason"] == f"error_rate = 0.03 > max 0.01{CRITICAL}"


def test_slow_canary_fails_latency_with_no_errors(history):
    result = measure(analysis(history.url, "slow"), at=history.end)
    checks = by_name(result)
    assert result["failed"] == ["latency_p99"]
    assert checks["latency_p99"]["value"] == pytest.approx(2.5)
    assert checks["latency_p99"]["reason"] == f"latency_p99 = 2.5 > max 2{CRITICAL}"
    assert checks["error_rate"]["result"] == "pass"
    assert checks["error_rate"]["value"] == 0


def test_no_traffic_is_no_data_never_a_pass(history):
    result = measure(analysis(history.url, "idle"), at=history.end)
    checks = by_name(result)
    assert result["verdict"] == "fail"
    assert checks["error_rate"]["result"] == "no_data"
    assert checks["error_rate"]["reason"] == f"error_rate = NaN: no data{NO_DATA}"
    assert checks["latency_p99"]["result"] == "no_data"
    assert checks["availability"]["result"] == "pass"
    assert checks["traffic"]["reason"] == f"traffic = 0 < min 1{CRITICAL}"


def test_no_series_at_all_is_no_data(history):
    result = measure(analysis(history.url, "missing"), at=history.end)
    assert [c["result"] for c in result["checks"]] == ["no_data"] * 4
    assert by_name(result)["error_rate"]["reason"] == (
        f"error_rate: no data (empty result){NO_DATA}"
    )


def test_a_target_down_half_the_window_fails_availability(history):
    result = measure(analysis(history.url, "down"), at=history.end)
    availability = by_name(result)["availability"]
    assert result["failed"] == ["availability"]
    # (1 + 0.5) / 2 targets; Prometheus 2.x ranges include both ends (61 samples).
    assert availability["value"] == pytest.approx(0.75, abs=0.01)
    assert availability["reason"].endswith(f" < min 0.99{CRITICAL}")


def test_a_bad_query_is_an_error_and_the_other_checks_still_run(history):
    bad = {
        "name": "broken",
        "type": "promql",
        "query": "sum(rate(http_requests_total[1m])",
        "max": 1,
    }
    result = measure(analysis(history.url, "healthy", extra=[bad]), at=history.end)
    broken = by_name(result)["broken"]
    assert result["failed"] == ["broken"]
    assert broken["result"] == "error"
    assert broken["reason"].startswith("broken: query failed: HTTP 400: bad_data: ")
    assert "parse error" in broken["reason"]


def test_several_series_are_an_error(history):
    split = {
        "name": "per_code",
        "type": "promql",
        "query": 'sum by (code) (rate(http_requests_total{namespace="case-errors"}[1m]))',
        "max": 1000,
    }
    result = measure(analysis(history.url, "errors", extra=[split]), at=history.end)
    per_code = by_name(result)["per_code"]
    assert per_code["result"] == "error"
    assert '{code="200"}; {code="500"}' in per_code["reason"]


def test_unreachable_prometheus_fails_every_check(history):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{sock.getsockname()[1]}"
    result = measure(analysis(down, "healthy"), at=history.end)
    assert result["verdict"] == "error"
    assert [c["result"] for c in result["checks"]] == ["error"] * 4
    assert "Connection refused" in result["checks"][0]["reason"]
    assert result["failed"] == ["error_rate", "latency_p99", "availability", "traffic"]
