"""The built-in load test against a local server that counts what it receives."""

import json
import shutil
import time

import canary_load
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible.module_utils.validation.loadreport import LoadTestError, check_thresholds, percentile
from ansible.module_utils.validation.loadtest import compare, normalize, run

from .loadserver import CountingServer, closed_url


def test_sends_exactly_the_requests_asked_over_one_connection_per_worker():
    with CountingServer() as server:
        report = run({"url": server.url, "requests": 200, "concurrency": 4})
    assert server.count == 200
    assert server.connections <= 4
    assert (report["sent"], report["completed"], report["errors"]) == (200, 200, 0)
    assert report["error_breakdown"] == {}
    assert report["error_ratio"] == 0.0
    assert report["tool"] == "builtin"
    assert report["requests_per_second"] > 0
    assert 0 < report["latency_p50"] <= report["latency_p95"] <= report["latency_max"]


def test_never_has_more_requests_in_flight_than_workers():
    with CountingServer(delay=lambda n: 0.02) as server:
        run({"url": server.url, "requests": 60, "concurrency": 5})
    assert server.count == 60
    assert 2 <= server.max_in_flight <= 5


def test_rate_paces_requests_evenly():
    with CountingServer() as server:
        started = time.monotonic()
        report = run({"url": server.url, "duration": 1.0, "rate": 50, "concurrency": 5})
        elapsed = time.monotonic() - started
    assert server.count == report["sent"]
    assert 45 <= report["sent"] <= 50
    assert elapsed >= 0.9


def test_requests_and_rate_together_take_the_paced_time():
    with CountingServer() as server:
        report = run({"url": server.url, "requests": 20, "rate": 40, "concurrency": 4})
    assert server.count == 20
    assert report["duration"] >= 0.45


def test_method_headers_and_body_are_sent():
    with CountingServer() as server:
        run(
            {
                "url": server.url,
                "requests": 3,
                "method": "post",
                "headers": {"X-Canary": "always", "Content-Type": "application/json"},
                "body": '{"prompt": "x"}',
            }
        )
    assert all(h["X-Canary"] == "always" for h in server.seen_headers)
    assert all(h["Content-Length"] == "15" for h in server.seen_headers)


def test_error_answers_are_counted_by_status():
    status = {3: 500, 7: 500, 9: 503, 10: 404}
    with CountingServer(status=lambda n: status.get(n, 200)) as server:
        report = run({"url": server.url, "requests": 20, "concurrency": 1})
    assert report["completed"] == 20
    assert report["errors"] == 4
    assert report["error_breakdown"] == {"404": 1, "500": 2, "503": 1}
    assert report["error_ratio"] == pytest.approx(0.2)


def test_redirects_are_not_errors():
    with CountingServer(status=lambda n: 302) as server:
        report = run({"url": server.url, "requests": 5})
    assert report["errors"] == 0


def test_connection_refused_is_counted_as_errors():
    report = run({"url": closed_url(), "requests": 10, "concurrency": 2})
    assert (report["sent"], report["completed"], report["errors"]) == (10, 0, 10)
    assert report["error_breakdown"] == {"connection_refused": 10}
    assert report["error_ratio"] == 1.0
    assert report["latency_p95"] is None


def test_a_slow_answer_is_a_timeout_error():
    with CountingServer(delay=lambda n: 0.5 if n == 1 else 0.0) as server:
        report = run({"url": server.url, "requests": 3, "timeout": 0.1})
    assert report["error_breakdown"] == {"timeout": 1}
    assert report["completed"] == 2


def test_percentiles_are_exact_over_all_samples():
    with CountingServer(delay=lambda n: 0.2 if n % 10 == 0 else 0.0) as server:
        report = run({"url": server.url, "requests": 50, "concurrency": 5})
    assert report["latency_p50"] < 0.1
    assert report["latency_p95"] >= 0.2
    assert report["latency_p99"] >= 0.2
    assert report["latency_max"] >= 0.2


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert [percentile(values, p) for p in (50, 95, 99, 100)] == [50, 95, 99, 100]
    assert percentile([7], 99) == 7
    assert percentile([], 50) is None


def test_thresholds_name_metric_value_and_bound():
    report = {
        "error_ratio": 0.05,
        "latency_p95": 0.3,
        "latency_p99": 0.9,
        "requests_per_second": 40.0,
    }
    thresholds = {
        "max_error_ratio": 0.01,
        "max_p95": 0.5,
        "max_p99": 0.5,
        "min_requests_per_second": 100,
    }
    failures = check_thresholds(report, thresholds)
    assert [f["metric"] for f in failures] == ["error_ratio", "latency_p99", "requests_per_second"]
    assert failures[0] == {
        "metric": "error_ratio",
        "value": 0.05,
        "bound": 0.01,
        "reason": "error_ratio = 0.05 > max 0.01",
    }
    assert failures[2]["reason"] == "requests_per_second = 40 < min 100"
    assert check_thresholds(report, {"max_p95": 0.3}) == []


def test_a_latency_threshold_without_answers_fails():
    report = {"error_ratio": 1.0, "latency_p95": None, "requests_per_second": 0.0}
    (failure,) = check_thresholds(report, {"max_p95": 1.0})
    assert failure["reason"] == "latency_p95 has no value (no request was answered), max 1.0"


def test_comparison_runs_the_same_load_on_both_and_gives_ratios():
    slow, fast = CountingServer(delay=lambda n: 0.05), CountingServer()
    with slow, fast:
        result = compare(
            {"url": slow.url, "requests": 30, "concurrency": 3, "headers": {"X-Canary": "always"}},
            {"url": fast.url, "headers": {"X-Canary": "never"}},
        )
    assert slow.count == fast.count == 30
    assert slow.seen_headers[0]["X-Canary"] == "always"
    assert fast.seen_headers[0]["X-Canary"] == "never"
    assert result["canary"]["latency_p95"] >= 0.05
    assert result["ratio"]["p95"] > 1
    assert result["ratio"]["p99"] > 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "http://127.0.0.1:1/"}, "one of requests or duration is required"),
        ({"url": "ftp://x/", "requests": 1}, "url must be an http or https URL"),
        ({"url": "http://127.0.0.1:1/", "requests": 0}, "requests must be at least 1"),
        ({"url": "http://127.0.0.1:1/", "duration": 1, "rate": 0}, "rate must be greater"),
        ({"url": "http://127.0.0.1:1/", "requests": 1, "concurrency": 0}, "concurrency must"),
    ],
)
def test_bad_options_are_refused(options, message):
    with pytest.raises(LoadTestError, match=message):
        run(options)


def test_an_external_tool_not_installed_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(LoadTestError, match="tool wrk was asked for but is not installed"):
        run({"url": "http://127.0.0.1:1/", "duration": 1, "tool": "wrk"})


def run_module(capsys, args):
    """Run the module's main() with ``args``; return (exit code, parsed output)."""
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        canary_load.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def test_module_reports_and_passes_within_thresholds(capsys):
    with CountingServer() as server:
        code, result = run_module(
            capsys,
            {"url": server.url, "requests": 20, "concurrency": 2, "thresholds": {"max_p99": 5}},
        )
    assert code == 0
    assert result["report"]["completed"] == 20
    assert result["failures"] == []


def test_module_fails_naming_the_crossed_threshold(capsys):
    with CountingServer(status=lambda n: 500 if n % 2 else 200) as server:
        code, result = run_module(
            capsys,
            {"url": server.url, "requests": 10, "thresholds": {"max_error_ratio": 0.01}},
        )
    assert code == 1
    assert result["failed"] is True
    assert result["msg"] == "load test thresholds crossed: error_ratio = 0.5 > max 0.01"
    assert result["failures"][0]["metric"] == "error_ratio"


def test_module_compares_with_stable(capsys):
    with CountingServer() as canary, CountingServer() as stable:
        code, result = run_module(
            capsys,
            {"url": canary.url, "requests": 10, "duration": "10s", "compare": {"url": stable.url}},
        )
    assert code == 0
    assert result["stable_report"]["completed"] == 10
    assert set(result["ratio"]) == {"p95", "p99"}


def test_module_check_mode_sends_nothing(capsys):
    with CountingServer() as server:
        code, result = run_module(
            capsys, {"url": server.url, "requests": 10, "_ansible_check_mode": True}
        )
    assert code == 0
    assert result["skipped"] is True
    assert server.count == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"url": "http://127.0.0.1:1/"}, "one of the following is required: requests, duration"),
        ({"url": "http://127.0.0.1:1/", "duration": "soon"}, "duration: expected a duration"),
        ({"url": "http://127.0.0.1:1/", "requests": 1, "tool": "siege"}, "value of tool must"),
        ({"url": "http://127.0.0.1:1/", "requests": 1, "thresholds": {"p95": 1}}, "p95"),
        ({"url": "http://127.0.0.1:1/", "requests": 1, "compare": {}}, "url"),
        ({"url": "localhost", "requests": 1}, "url must be an http or https URL"),
    ],
)
def test_module_refuses_bad_arguments_before_any_load(capsys, args, message):
    code, result = run_module(capsys, {**args, "_ansible_check_mode": True})
    assert code == 1
    assert message in result["msg"]


def test_a_structured_body_is_sent_as_json():
    options = normalize({"url": "http://127.0.0.1:9/x", "requests": 1, "body": {"email": "a@b.c"}})
    assert options["body"] == '{"email": "a@b.c"}'
    assert options["headers"]["Content-Type"] == "application/json"
