"""The Grafana dashboard: its panels and annotations, and the schema it must satisfy."""

import copy
import json

import jsonschema
import pytest
from ansible.module_utils.monitoring import render
from ansible.module_utils.monitoring.dashboard import dashboard_uid, render_dashboard
from ansible.module_utils.monitoring.promql import MonitoringError, variables

from tests.monitoring_settings import RELEASE, SCHEMA, release, settings

SELECTOR = 'namespace=~"yyc3-short-drama|yyc3-short-drama-canary",track=~"stable|canary"'


@pytest.fixture(scope="module")
def schema():
    loaded = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(loaded)
    return loaded


def dashboard(**overrides):
    return render_dashboard(RELEASE, settings(**overrides), variables(RELEASE))


def panel(board, title):
    (found,) = [p for p in board["panels"] if p["title"].startswith(title)]
    return found


def test_the_rendered_file_is_json_that_satisfies_the_schema(schema):
    texts, _ = render(RELEASE, settings())
    jsonschema.validate(json.loads(texts["dashboard.json"]), schema)


def test_request_rate_error_rate_and_latency_quantiles_by_track():
    board = dashboard()
    (rate,) = panel(board, "Request rate by track")["targets"]
    assert (
        rate["expr"]
        == f"sum by (track) (rate(http_requests_total{{{SELECTOR}}}[$__rate_interval]))"
    )
    assert rate["legendFormat"] == "{{track}}"
    (errors,) = panel(board, "Error rate")["targets"]
    assert errors["expr"] == (
        f'sum by (track) (rate(http_requests_total{{{SELECTOR},code=~"5.."}}[$__rate_interval]))'
        f" / sum by (track) (rate(http_requests_total{{{SELECTOR}}}[$__rate_interval]))"
    )
    latency = panel(board, "Latency")["targets"]
    assert [t["legendFormat"] for t in latency] == [
        "p50 {{track}}",
        "p95 {{track}}",
        "p99 {{track}}",
    ]
    assert [t["refId"] for t in latency] == ["A", "B", "C"]
    assert latency[2]["expr"] == (
        "histogram_quantile(0.99, sum by (track, le) "
        f"(rate(http_request_duration_seconds_bucket{{{SELECTOR}}}[$__rate_interval])))"
    )


def test_tier_thresholds_are_drawn_on_error_rate_and_latency():
    board = dashboard()
    steps = panel(board, "Error rate")["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps == [
        {"color": "green", "value": None},
        {"color": "blue", "value": 0.001},
        {"color": "orange", "value": 0.005},
        {"color": "red", "value": 0.01},
    ]
    steps = panel(board, "Latency")["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [s["value"] for s in steps] == [None, 1.0, 1.5, 2.0]


def test_the_canary_weight_panel_and_stage_annotations_use_the_weight_query():
    board = dashboard(weight_query='max(kube_configmap_info{namespace="$namespace"})')
    weight = panel(board, "Canary weight")
    assert weight["targets"][0]["expr"] == 'max(kube_configmap_info{namespace="yyc3-short-drama"})'
    assert weight["fieldConfig"]["defaults"]["unit"] == "percent"
    builtin, stages = board["annotations"]["list"]
    assert builtin["builtIn"] == 1
    assert stages["name"] == "Stage changes"
    assert stages["expr"] == (
        'changes((max(kube_configmap_info{namespace="yyc3-short-drama"}))[1m:15s]) > 0'
    )
    assert stages["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_the_default_weight_is_the_sandbox_routers_gauge():
    assert panel(dashboard(), "Canary weight")["targets"][0]["expr"] == "max(router_canary_weight)"


def test_panels_have_unique_ids_and_do_not_overlap():
    board = dashboard()
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    cells = set()
    for p in board["panels"]:
        grid = p["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        area = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & area, p["title"]
        cells |= area


def test_uid_is_stable_unique_per_namespace_and_short_enough():
    assert dashboard_uid(RELEASE) == dashboard_uid(copy.deepcopy(RELEASE))
    assert dashboard_uid(RELEASE) != dashboard_uid(release(namespace="staging"))
    long = release(service="a-very-long-service-name-that-goes-on-and-on")
    assert len(dashboard_uid(long)) <= 40


def test_title_defaults_to_the_service_and_namespace():
    assert dashboard()["title"] == "frontend canary release (yyc3-short-drama)"
    assert dashboard(dashboard_title="Frontend")["title"] == "Frontend"


def test_a_missing_weight_query_is_an_error():
    with pytest.raises(MonitoringError) as error:
        dashboard(weight_query=None)
    assert "weight_query: must be a non-empty PromQL expression" in str(error.value)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda b: b["panels"][0].pop("targets"), "targets"),
        (lambda b: b["panels"][1]["gridPos"].update(w=30), "30"),
        (lambda b: b.update(uid="x" * 41), "uid"),
        (lambda b: b["annotations"]["list"][1].pop("expr"), "expr"),
        (lambda b: b["panels"][2]["targets"][0].update(expr=""), "expr"),
    ],
)
def test_the_schema_rejects_a_broken_dashboard(schema, change, path):
    board = dashboard()
    change(board)
    with pytest.raises(jsonschema.ValidationError) as error:
        jsonschema.validate(board, schema)
    assert path in str(error.value)
