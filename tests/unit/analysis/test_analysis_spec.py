"""Validation of the analysis spec: defaults, and errors that name the field."""

import copy

import pytest
from ansible.module_utils.analysis.spec import AnalysisSpecError, validate_analysis

VALID = {
    "prometheus": {"url": "http://127.0.0.1:19090"},
    "selector": 'namespace="yyc3-short-drama-canary",track="canary"',
    "checks": [
        {"name": "error_rate", "type": "error_rate", "max": 0.01},
        {"name": "latency_p99", "type": "latency", "quantile": 0.99, "max": 2.0},
        {"name": "availability", "type": "availability", "min": 0.99},
        {"name": "ai", "type": "promql", "query": "sum(rate(x[1m]))", "max": 0.5},
    ],
}


BASELINE = {
    "selector": 'track="stable"',
    "metrics": [{"name": "error_rate", "type": "error_rate"}],
}


def errors_for(mutate):
    spec = copy.deepcopy(VALID)
    mutate(spec)
    with pytest.raises(AnalysisSpecError) as caught:
        validate_analysis(spec)
    return caught.value.errors


def test_defaults_are_filled():
    spec = validate_analysis(VALID)
    assert spec["prometheus"] == {
        "url": "http://127.0.0.1:19090",
        "timeout": 5.0,
        "validate_certs": True,
    }
    assert spec["window"] == "1m"
    assert spec["metrics"] == {
        "requests": "http_requests_total",
        "duration": "http_request_duration_seconds",
        "up": "up",
        "route_label": "path",
    }
    assert spec["checks"][0] == {
        "name": "error_rate",
        "type": "error_rate",
        "quantile": None,
        "query": None,
        "route": None,
        "min": None,
        "max": 0.01,
        "severity": "critical",
    }
    assert (spec["no_data"], spec["min_requests"], spec["variables"]) == ("fail", 0, {})
    assert spec["baseline"] is None


def test_input_is_not_modified_and_other_release_fields_pass_through():
    spec = copy.deepcopy(VALID)
    spec["interval"] = "30s"
    spec["prometheus"]["timeout_seconds"] = 5.0
    before = copy.deepcopy(spec)
    validated = validate_analysis(spec)
    assert validated["interval"] == "30s"
    assert validated["prometheus"]["timeout_seconds"] == 5.0
    assert spec == before


@pytest.mark.parametrize(
    ("timeout", "seconds"), [(2, 2.0), (0.5, 0.5), ("10s", 10.0), ("1m", 60.0)]
)
def test_timeout_is_seconds_or_a_duration(timeout, seconds):
    spec = {**VALID, "prometheus": {"url": "http://p:9090", "timeout": timeout}}
    assert validate_analysis(spec)["prometheus"]["timeout"] == seconds


def test_validated_spec_validates_again_unchanged():
    once = validate_analysis(VALID)
    assert validate_analysis(once) == once


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda s: s["checks"][0].update(type="apdex"),
            "analysis.checks[0].type: 'apdex' is not one of availability, error_rate, latency, promql",
        ),
        (
            lambda s: s["checks"][3].pop("query"),
            "analysis.checks[3].query: required for type promql",
        ),
        (
            lambda s: s["checks"][3].update(query="  "),
            "analysis.checks[3].query: must be a non-empty PromQL expression",
        ),
        (
            lambda s: s["checks"][1].pop("quantile"),
            "analysis.checks[1].quantile: required for type latency",
        ),
        (
            lambda s: s["checks"][1].update(quantile=1.0),
            "analysis.checks[1].quantile: 1.0 must be a number strictly between 0 and 1",
        ),
        (
            lambda s: s["checks"][1].update(quantile=0),
            "analysis.checks[1].quantile: 0 must be a number strictly between 0 and 1",
        ),
        (
            lambda s: s["checks"][0].update(quantile=0.5),
            "analysis.checks[0].quantile: only applies to type latency, not error_rate",
        ),
        (
            lambda s: s["checks"][2].pop("min"),
            "analysis.checks[2]: set min, max or both; a check without bounds cannot fail",
        ),
        (
            lambda s: s["checks"][2].update(max=0.5),
            "analysis.checks[2].min: 0.99 is greater than max 0.5",
        ),
        (
            lambda s: s["checks"][0].update(max="0.01"),
            "analysis.checks[0].max: '0.01' is not a finite number",
        ),
        (
            lambda s: s["checks"][0].update(max=float("nan")),
            "analysis.checks[0].max: nan is not a finite number",
        ),
        (
            lambda s: s["checks"][1].update(name="error_rate"),
            "analysis.checks[1].name: duplicate check name 'error_rate'",
        ),
        (
            lambda s: s["checks"][0].pop("name"),
            "analysis.checks[0].name: required, a non-empty string",
        ),
        (
            lambda s: s["checks"][0].update(maximum=0.01),
            "analysis.checks[0]: unknown field(s) maximum; allowed: name, type, quantile, query, "
            "route, min, max, severity",
        ),
        (
            lambda s: s.update(checks=[]),
            "analysis.checks: required, a non-empty list of checks (or a baseline judge)",
        ),
        (
            lambda s: s["checks"][0].update(severity="warning"),
            "analysis.checks[0].severity: 'warning' is not one of critical, important, general",
        ),
        (
            lambda s: s.update(no_data="skip"),
            "analysis.no_data: 'skip' is not one of fail, hold, ignore",
        ),
        (
            lambda s: s.update(min_requests=-1),
            "analysis.min_requests: -1 must be a whole number of at least 0",
        ),
        (
            lambda s: s["checks"][3].update(query='sum(x{ns="{{ namespace }}"})'),
            "analysis.checks[3].query: cannot render: 'namespace' is undefined "
            "(variables: selector, track, window)",
        ),
        (
            lambda s: s["checks"][3].update(query="sum(x{{ selector }"),
            "analysis.checks[3].query: cannot render: unexpected '}' "
            "(variables: selector, track, window)",
        ),
        (
            lambda s: s.update(variables={"track": "x"}),
            "analysis.variables.track: reserved, set for each query by the analysis",
        ),
        (
            lambda s: s["prometheus"].update(bearer_token="t0ken", username="u", password="p4ss"),
            "analysis.prometheus.bearer_token: give a bearer token or username and password, "
            "not both",
        ),
        (
            lambda s: s["prometheus"].update(password="p4ss"),
            "analysis.prometheus.username: required with password",
        ),
        (
            lambda s: s["prometheus"].update(username="u"),
            "analysis.prometheus.password: required with username",
        ),
        (
            lambda s: s["prometheus"].update(client_key="/etc/hostname"),
            "analysis.prometheus.client_cert: required with client_key",
        ),
        (
            lambda s: s["prometheus"].update(ca_path="/nonexistent/ca.pem"),
            "analysis.prometheus.ca_path: '/nonexistent/ca.pem' is not a readable file",
        ),
        (
            lambda s: s.update(baseline={"metrics": [{"name": "e", "type": "error_rate"}]}),
            "analysis.baseline.selector: required, label matchers of the stable track such as "
            '\'namespace="x",track="stable"\'',
        ),
        (
            lambda s: s.update(baseline={"selector": "t", "metrics": []}),
            "analysis.baseline.metrics: required, a non-empty list of metrics to compare",
        ),
        (
            lambda s: s.update(baseline={**BASELINE, "confidence": 1.5}),
            "analysis.baseline.confidence: 1.5 must be strictly between 0 and 1",
        ),
        (
            lambda s: s.update(baseline={**BASELINE, "marginal_score": 99}),
            "analysis.baseline.marginal_score: 99 is above pass_score 95",
        ),
        (
            lambda s: s.update(baseline={**BASELINE, "step": "often"}),
            "analysis.baseline.step: 'often' is not a positive duration",
        ),
        (
            lambda s: s.update(
                baseline={**BASELINE, "metrics": [{"name": "e", "type": "latency"}]}
            ),
            "analysis.baseline.metrics[0].quantile: required for type latency",
        ),
        (
            lambda s: s.update(
                baseline={
                    **BASELINE,
                    "metrics": [{"name": "e", "type": "error_rate", "direction": "up"}],
                }
            ),
            "analysis.baseline.metrics[0].direction: 'up' is not one of increase, decrease, either",
        ),
        (
            lambda s: s.update(
                baseline={
                    **BASELINE,
                    "metrics": [{"name": "q", "type": "promql", "query": "x{ {{ tier }} }"}],
                }
            ),
            "analysis.baseline.metrics[0].query: cannot render: 'tier' is undefined "
            "(variables: selector, track, window)",
        ),
        (lambda s: s["checks"].append("x"), "analysis.checks[4]: must be a mapping"),
        (
            lambda s: s["prometheus"].update(url="127.0.0.1:19090"),
            "analysis.prometheus.url: '127.0.0.1:19090' is not an http:// or https:// URL",
        ),
        (
            lambda s: s["prometheus"].update(url="ftp://prometheus"),
            "analysis.prometheus.url: 'ftp://prometheus' is not an http:// or https:// URL",
        ),
        (
            lambda s: s["prometheus"].update(url="http://prometheus:99999"),
            "analysis.prometheus.url: 'http://prometheus:99999' is not an http:// or https:// URL",
        ),
        (
            lambda s: s["prometheus"].update(timeout=0),
            "analysis.prometheus.timeout: 0 is not a positive duration such as 5 or '5s'",
        ),
        (
            lambda s: s["prometheus"].update(timeout="soon"),
            "analysis.prometheus.timeout: 'soon' is not a positive duration such as 5 or '5s'",
        ),
        (
            lambda s: s["prometheus"].update(validate_certs="no"),
            "analysis.prometheus.validate_certs: 'no' is not a boolean",
        ),
        (
            lambda s: s.pop("prometheus"),
            "analysis.prometheus: required, a mapping with at least 'url'",
        ),
        (
            lambda s: s.update(window="5 minutes"),
            "analysis.window: '5 minutes' is not a positive Prometheus duration such as 30s, 1m or 1h30m",
        ),
        (
            lambda s: s.update(window="0s"),
            "analysis.window: '0s' is not a positive Prometheus duration such as 30s, 1m or 1h30m",
        ),
        (
            lambda s: s.update(selector='{track="canary"}'),
            "analysis.selector: give the label matchers without the surrounding braces",
        ),
        (
            lambda s: s.update(selector=""),
            'analysis.selector: required, label matchers such as \'namespace="x",track="canary"\'',
        ),
        (
            lambda s: s.update(metrics={"requests": "http-requests"}),
            "analysis.metrics.requests: 'http-requests' is not a Prometheus metric name",
        ),
        (
            lambda s: s.update(metrics={"errors": "x"}),
            "analysis.metrics: unknown field(s) errors; allowed: requests, duration, up, route_label",
        ),
    ],
)
def test_errors_name_the_field(mutate, expected):
    assert errors_for(mutate) == [expected]


def test_credential_errors_never_echo_a_secret():
    def mutate(spec):
        spec["prometheus"].update(bearer_token="t0ken", password="p4ss", username="")

    for message in errors_for(mutate):
        assert "t0ken" not in message and "p4ss" not in message


def test_baseline_alone_is_enough_and_gets_kayentas_defaults():
    spec = validate_analysis({**VALID, "checks": [], "baseline": BASELINE})
    assert spec["checks"] == []
    assert spec["baseline"]["metrics"] == [
        {
            "name": "error_rate",
            "type": "error_rate",
            "quantile": None,
            "query": None,
            "direction": "increase",
            "effect_size": None,
            "critical": False,
        }
    ]
    assert {k: spec["baseline"][k] for k in ("confidence", "tolerance", "min_samples")} == {
        "confidence": 0.98,
        "tolerance": 0.25,
        "min_samples": 50,
    }
    assert (spec["baseline"]["pass_score"], spec["baseline"]["marginal_score"]) == (95.0, 75.0)


@pytest.mark.parametrize("window", ["30s", "1m", "1h30m", "500ms", "2d"])
def test_prometheus_durations_are_accepted(window):
    assert validate_analysis({**VALID, "window": window})["window"] == window


@pytest.mark.parametrize(
    "url",
    ["https://prometheus.example:9090", "http://127.0.0.1:19090/prometheus/", "http://[::1]:9090"],
)
def test_urls_are_accepted(url):
    assert validate_analysis({**VALID, "prometheus": {"url": url}})["prometheus"]["url"] == url


def test_every_problem_is_reported_at_once():
    def mutate(spec):
        spec["window"] = "forever"
        spec["checks"][1].pop("quantile")
        spec["checks"][2].update(min=1, max=0)

    assert errors_for(mutate) == [
        "analysis.window: 'forever' is not a positive Prometheus duration such as 30s, 1m or 1h30m",
        "analysis.checks[1].quantile: required for type latency",
        "analysis.checks[2].min: 1 is greater than max 0",
    ]


def test_message_joins_every_error():
    assert str(AnalysisSpecError(["a: bad", "b: worse"])) == "a: bad; b: worse"


def test_prefix_names_the_root():
    with pytest.raises(AnalysisSpecError, match=r"^window: "):
        validate_analysis({**VALID, "window": "x"}, prefix="")
    with pytest.raises(AnalysisSpecError, match=r"^release.analysis.window: "):
        validate_analysis({**VALID, "window": "x"}, prefix="release.analysis")


def test_not_a_mapping():
    with pytest.raises(AnalysisSpecError, match=r"^analysis: must be a mapping$"):
        validate_analysis(["checks"])
