"""The canary_analysis module: argument errors name the field, results pass through."""

import json

import canary_analysis
import pytest
from ansible.module_utils.testing import patch_module_args


def run_module(capsys, args):
    """Run the module's main() with ``args``; return (exit code, parsed JSON output)."""
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        canary_analysis.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def args(url="http://127.0.0.1:19090", **overrides):
    return {
        "prometheus": {"url": url},
        "selector": 'namespace="yyc3-short-drama-canary",track="canary"',
        "checks": [
            {"name": "error_rate", "type": "error_rate", "max": 0.01},
            {"name": "latency_p99", "type": "latency", "quantile": 0.99, "max": 2.0},
            {"name": "availability", "type": "availability", "min": 0.99},
            {"name": "ai", "type": "promql", "query": "sum(rate(x[1m]))", "max": 0.5},
        ],
        **overrides,
    }


def with_check(index, **changes):
    arguments = args()
    arguments["checks"][index] = {
        k: v for k, v in {**arguments["checks"][index], **changes}.items() if v is not None
    }
    return arguments


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (with_check(0, type="apdex"), "checks"),
        (with_check(3, query=None), "invalid analysis: checks[3].query: required for type promql"),
        (
            with_check(1, quantile=None),
            "invalid analysis: checks[1].quantile: required for type latency",
        ),
        (
            with_check(1, quantile=1.5),
            "invalid analysis: checks[1].quantile: 1.5 must be a number strictly between 0 and 1",
        ),
        (
            with_check(2, min=None),
            "invalid analysis: checks[2]: set min, max or both; a check without bounds cannot fail",
        ),
        (with_check(2, max=0.5), "invalid analysis: checks[2].min: 0.99 is greater than max 0.5"),
        (
            with_check(1, name="error_rate"),
            "invalid analysis: checks[1].name: duplicate check name 'error_rate'",
        ),
        (
            args(url="localhost:9090"),
            "invalid analysis: prometheus.url: 'localhost:9090' is not an http:// or https:// URL",
        ),
        (
            args(window="5 minutes"),
            "invalid analysis: window: '5 minutes' is not a positive Prometheus duration "
            "such as 30s, 1m or 1h30m",
        ),
        (with_check(0, maximum=0.01), "maximum"),
        ({"prometheus": {"url": "http://x"}, "checks": []}, "selector"),
    ],
)
def test_bad_arguments_fail_naming_the_field(capsys, arguments, message):
    code, output = run_module(capsys, arguments)
    assert code == 1
    assert output["failed"] is True
    assert message in output["msg"]


def test_unknown_type_lists_the_choices(capsys):
    _, output = run_module(capsys, with_check(0, type="apdex"))
    assert "type" in output["msg"]
    assert "availability, error_rate, latency, promql" in output["msg"]


def test_returns_the_measurement_without_failing_on_a_fail_verdict(capsys, fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "0.5")
    arguments = args(url=url, time=1700000000, _ansible_check_mode=True)
    code, output = run_module(capsys, arguments)
    assert code == 0
    assert output["changed"] is False
    assert output["verdict"] == "fail"
    assert output["time"] == 1700000000.0
    assert output["failed_check_names"] == ["error_rate", "availability"]
    assert "failed" not in output
    assert [c["result"] for c in output["checks"]] == ["fail", "pass", "fail", "pass"]
    assert output["checks"][2]["reason"] == (
        "availability = 0.5 < min 0.99 (critical: counts toward failure_limit)"
    )
    assert output["checks"][0]["query"].startswith("(sum(rate(http_requests_total{namespace=")
