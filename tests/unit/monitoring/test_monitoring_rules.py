"""The alert rules: the plan's tiers from the role's defaults, labels, variables, errors."""

import re

import pytest
import yaml
from ansible.module_utils.monitoring import render
from ansible.module_utils.monitoring.promql import (
    VARIABLES,
    MonitoringError,
    default_selector,
    unknown_variables,
    variables,
)
from ansible.module_utils.monitoring.rules import prometheus_rule, render_rule_groups

from tests.monitoring_settings import RELEASE, release, role_defaults, settings

PLAN = {
    "critical": {
        "HighErrorRate": "> 0.01",
        "HighResponseTime": "> 2",
        "LowAvailability": "< 0.99",
        "DatabaseConnectionFailures": "> 0",
    },
    "important": {
        "HighErrorRate": "> 0.005",
        "HighResponseTime": "> 1.5",
        "HighCPUUsage": "> 0.8",
        "HighMemoryUsage": "> 0.85",
    },
    "general": {
        "HighErrorRate": "> 0.001",
        "HighResponseTime": "> 1",
        "HighDiskUsage": "> 0.7",
        "LowCacheHitRate": "< 0.9",
    },
}


def groups(**overrides):
    values = variables(RELEASE, overrides.pop("selector", None), overrides.pop("window", None))
    return render_rule_groups(RELEASE, settings(**overrides), values)


def test_the_plans_three_tiers_with_their_thresholds():
    rendered = groups()
    assert [g["name"] for g in rendered] == [
        "canary-frontend-critical",
        "canary-frontend-important",
        "canary-frontend-general",
    ]
    for group, (tier, alerts) in zip(rendered, PLAN.items(), strict=True):
        assert [rule["alert"] for rule in group["rules"]] == list(alerts)
        for rule in group["rules"]:
            assert rule["expr"].endswith(f") {alerts[rule['alert']]}"), rule["expr"]
            assert rule["for"] == {"critical": "1m", "important": "5m", "general": "10m"}[tier]
            assert rule["labels"] == {
                "severity": tier,
                "service": "frontend",
                "namespace": "yyc3-short-drama",
            }
            assert set(rule["annotations"]) == {"summary", "description"}


def test_service_series_are_grouped_by_track_with_the_release_metrics():
    custom = release(
        analysis={
            "window": "30s",
            "metrics": {"requests": "app_requests", "duration": "app_seconds", "up": "app_up"},
        }
    )
    values = variables(custom)
    rules = {
        (g["name"], r["alert"]): r["expr"]
        for g in render_rule_groups(custom, settings(), values)
        for r in g["rules"]
    }
    selector = 'namespace=~"yyc3-short-drama|yyc3-short-drama-canary",track=~"stable|canary"'
    assert rules[("canary-frontend-critical", "HighErrorRate")] == (
        f'(sum by (track) (rate(app_requests{{{selector},code=~"5.."}}[30s])) '
        f"/ sum by (track) (rate(app_requests{{{selector}}}[30s]))) > 0.01"
    )
    assert rules[("canary-frontend-critical", "HighResponseTime")] == (
        "(histogram_quantile(0.99, sum by (track, le) "
        f"(rate(app_seconds_bucket{{{selector}}}[30s])))) > 2"
    )
    assert rules[("canary-frontend-critical", "LowAvailability")] == (
        f"(avg by (track) (avg_over_time(app_up{{{selector}}}[30s]))) < 0.99"
    )


def test_every_variable_is_filled_and_only_label_replace_keeps_a_dollar():
    for group in groups():
        for rule in group["rules"]:
            left = re.findall(r"\$\w+", rule["expr"])
            assert set(left) <= {"$1"}, (rule["alert"], left)


def test_selector_and_window_can_be_overridden():
    rendered = groups(selector='app="frontend"', window="2m")
    expr = rendered[0]["rules"][0]["expr"]
    assert 'http_requests_total{app="frontend",code=~"5.."}[2m]' in expr


def test_the_roles_selector_default_is_the_modules():
    template = role_defaults()["canary_monitoring_selector"]
    rendered = template.replace("{{ canary_release.namespace }}", RELEASE["namespace"]).replace(
        "{{ canary_release.canary_namespace }}", RELEASE["canary_namespace"]
    )
    assert rendered == default_selector(RELEASE)


def test_one_namespace_for_both_tracks():
    same = release(canary_namespace="yyc3-short-drama")
    assert default_selector(same) == 'namespace=~"yyc3-short-drama",track=~"stable|canary"'


def test_extra_alert_labels_and_a_tier_left_out():
    tiers = settings()["tiers"]
    del tiers["general"]
    rendered = groups(tiers=tiers, alert_labels={"team": "short-drama"})
    assert [g["name"] for g in rendered] == [
        "canary-frontend-critical",
        "canary-frontend-important",
    ]
    assert all(r["labels"]["team"] == "short-drama" for g in rendered for r in g["rules"])


def test_summary_names_the_track_only_when_the_series_has_one():
    rule = groups()[0]["rules"][0]
    assert rule["annotations"]["summary"] == (
        "frontend{{ with $labels.track }} ({{ . }}){{ end }}: error rate above 1%"
    )
    assert "{{ $value | humanizePercentage }}" in rule["annotations"]["description"]


def test_prometheus_rule_carries_the_same_groups():
    rendered = groups()
    manifest = prometheus_rule(RELEASE, {"labels": {"release": "kube-prometheus-stack"}}, rendered)
    assert manifest["apiVersion"] == "monitoring.coreos.com/v1"
    assert manifest["kind"] == "PrometheusRule"
    assert manifest["metadata"] == {
        "name": "frontend-canary-alerts",
        "namespace": "yyc3-short-drama",
        "labels": {
            "app.kubernetes.io/managed-by": "canary-runbooks",
            "release": "kube-prometheus-stack",
        },
    }
    assert manifest["spec"]["groups"] == rendered


def test_render_writes_the_same_groups_in_both_rule_files():
    texts, manifest = render(RELEASE, settings())
    rules = yaml.safe_load(texts["rules.yml"])
    assert yaml.safe_load(texts["prometheusrule.yml"]) == manifest
    assert manifest["spec"]["groups"] == rules["groups"]
    assert texts["rules.yml"].startswith("# Generated by canary_monitoring for frontend")


def test_every_documented_variable_has_a_value():
    assert set(variables(RELEASE)) == set(VARIABLES)


def test_unknown_variables_are_found():
    values = variables(RELEASE)
    assert unknown_variables('rate($requests{$selctor}[$window]) "$1" $$', values) == ["selctor"]


def thresholds(tier, **changes):
    tiers = settings()["tiers"]
    tiers[tier]["thresholds"].update(changes)
    return tiers


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tiers": {"urgent": {"thresholds": {"error_rate": 0.1}}}}, "tiers.urgent: unknown tier"),
        (
            {"tiers": thresholds("critical", error_ratio=0.02)},
            "tiers.critical.thresholds.error_ratio: unknown signal",
        ),
        (
            {"tiers": thresholds("important", cpu="80%")},
            "tiers.important.thresholds.cpu: '80%' is not a finite number",
        ),
        (
            {"tiers": thresholds("general", disk=True)},
            "tiers.general.thresholds.disk: True is not a finite number",
        ),
        (
            {"queries": {"error_rate": "sum(rate($requests{$selctor}[$window]))"}},
            "queries.error_rate: unknown variable(s) $selctor",
        ),
        (
            {"queries": {**settings()["queries"], "latency": "x"}},
            "queries.latency: unknown signal",
        ),
        (
            {"queries": {**settings()["queries"], "disk": " "}},
            "queries.disk: must be a non-empty PromQL expression",
        ),
        (
            {"queries": {"error_rate": "x"}},
            "tiers.critical.thresholds.latency_p99: no query for this signal",
        ),
        (
            {"tiers": {**settings()["tiers"], "critical": {"for": "1 minute", "thresholds": {}}}},
            "tiers.critical.for: '1 minute' is not a positive Prometheus duration",
        ),
        ({"alert_labels": {"severity": "page"}}, "alert_labels.severity: set by the rules"),
        ({"tiers": {}}, "tiers: required"),
    ],
)
def test_bad_settings_name_the_field(overrides, message):
    with pytest.raises(MonitoringError) as error:
        groups(**overrides)
    assert message in str(error.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(MonitoringError) as error:
        render(
            RELEASE,
            settings(
                tiers=thresholds("critical", error_ratio=1),
                weight_query="",
                receivers={"critical": {"name": "pager", "url": "pager"}},
            ),
        )
    fields = [message.split(":")[0] for message in error.value.errors]
    assert "tiers.critical.thresholds.error_ratio" in fields
    assert "receivers.critical.url" in fields
    assert "receivers.important" in fields
    assert "weight_query" in fields
