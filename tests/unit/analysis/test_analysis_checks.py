"""Query building: one PromQL expression per check type."""

import re

import pytest
from ansible.module_utils.analysis.checks import CHECK_TYPES, build_query
from ansible.module_utils.analysis.spec import AnalysisSpecError, validate_analysis

SELECTOR = 'namespace="yyc3-short-drama-canary",track="canary"'


def analysis(check, **overrides):
    spec = {
        "prometheus": {"url": "http://127.0.0.1:19090"},
        "selector": SELECTOR,
        "checks": [check],
        **overrides,
    }
    return validate_analysis(spec)


def query_for(check, **overrides):
    spec = analysis(check, **overrides)
    return build_query(spec["checks"][0], spec)


def test_error_rate():
    assert query_for({"name": "e", "type": "error_rate", "max": 0.01}) == (
        '(sum(rate(http_requests_total{namespace="yyc3-short-drama-canary",track="canary",'
        'code=~"5.."}[1m])) or vector(0)) / '
        'sum(rate(http_requests_total{namespace="yyc3-short-drama-canary",track="canary"}[1m]))'
    )


def test_latency():
    assert query_for({"name": "l", "type": "latency", "quantile": 0.99, "max": 2.0}) == (
        "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket"
        '{namespace="yyc3-short-drama-canary",track="canary"}[1m])))'
    )


def test_error_rate_and_latency_of_one_route():
    route = {"route": "/api/ai/generate"}
    assert query_for({"name": "e", "type": "error_rate", "max": 0.01, **route}) == (
        '(sum(rate(http_requests_total{namespace="yyc3-short-drama-canary",track="canary",'
        'path="/api/ai/generate",code=~"5.."}[1m])) or vector(0)) / '
        "sum(rate(http_requests_total"
        '{namespace="yyc3-short-drama-canary",track="canary",path="/api/ai/generate"}[1m]))'
    )
    latency = {"name": "l", "type": "latency", "quantile": 0.9, "max": 2.0, **route}
    assert query_for(latency, metrics={"route_label": "handler"}) == (
        "histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket"
        '{namespace="yyc3-short-drama-canary",track="canary",handler="/api/ai/generate"}[1m])))'
    )


@pytest.mark.parametrize(
    ("check", "error"),
    [
        (
            {"type": "availability", "min": 0.99, "route": "/api/health"},
            "checks[0].route: only error_rate, latency checks take a route, not availability",
        ),
        (
            {"type": "error_rate", "max": 0.01, "route": 'x"}'},
            "checks[0].route: must be an API path such as /api/ai/generate",
        ),
        (
            {"type": "error_rate", "max": 0.01, "route": "/a b"},
            "checks[0].route: must be an API path",
        ),
    ],
)
def test_a_route_is_refused_where_it_cannot_apply_or_could_break_the_query(check, error):
    spec = {"prometheus": {"url": "http://127.0.0.1:19090"}, "selector": SELECTOR}
    with pytest.raises(AnalysisSpecError, match=re.escape(error)):
        validate_analysis({**spec, "checks": [{"name": "c", **check}]})


def test_availability():
    assert query_for({"name": "a", "type": "availability", "min": 0.99}) == (
        'avg(avg_over_time(up{namespace="yyc3-short-drama-canary",track="canary"}[1m]))'
    )


def test_promql_is_used_as_written():
    query = 'sum(rate(http_requests_total{path="/api/ai/generate",code=~"5.."}[5m]))'
    assert query_for({"name": "p", "type": "promql", "query": query, "max": 0.5}) == query


def test_window_and_metric_names_come_from_the_spec():
    query = query_for(
        {"name": "e", "type": "error_rate", "max": 0.01},
        window="30s",
        selector='track="canary"',
        metrics={"requests": "app_requests_total"},
    )
    assert query == (
        '(sum(rate(app_requests_total{track="canary",code=~"5.."}[30s])) or vector(0)) / '
        'sum(rate(app_requests_total{track="canary"}[30s]))'
    )


# A value for every type-specific field; a new field needs an entry here.
FIELD_VALUES = {"quantile": 0.5, "query": "vector(1)"}


@pytest.mark.parametrize("kind", sorted(CHECK_TYPES))
def test_every_registered_type_builds_a_query(kind):
    check = {"name": "c", "type": kind, "max": 1.0}
    check.update({field: FIELD_VALUES[field] for field in CHECK_TYPES[kind].fields})
    assert query_for(check)
