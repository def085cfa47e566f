"""The report as data: built from ledgers the runbooks' own code recorded, valid against
its schema."""

import json

import jsonschema
import pytest
from ansible.module_utils.report import render
from ansible.module_utils.report.build import ReportError, build
from canary_bake import baseline_event

from tests.conftest import PROJECT_ROOT

from . import ledgers

SCHEMA = json.loads(
    (PROJECT_ROOT / "roles" / "canary_report" / "files" / "report.schema.json").read_text()
)
SCENARIOS = [
    ledgers.promoted,
    ledgers.rolled_back,
    ledgers.held,
    ledgers.resumed,
    ledgers.second_release,
    ledgers.hostile,
]


def events(state, name):
    return [entry for entry in state["history"] if entry["event"] == name]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_every_report_follows_the_schema_and_is_strict_json(scenario):
    spec, state = scenario()
    report, texts = render(spec, state)
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    jsonschema.validate(report, SCHEMA, cls=jsonschema.Draft7Validator)
    name = f"{report['service']}-{report['release_id']}.json"
    assert json.loads(texts[name]) == report
    assert texts[name] == texts[f"{report['service']}-latest.json"]


def test_promoted_release():
    spec, state = ledgers.promoted()
    report = build(spec, state)
    assert report["outcome"] == "promoted" and report["status"] == "promoted"
    assert report["reason"] == "every stage passed"
    assert report["images"] == {"canary": ledgers.IMAGE, "stable": ledgers.STABLE}
    assert (report["service"], report["namespace"], report["canary_namespace"]) == (
        "frontend",
        "yyc3-short-drama",
        "yyc3-short-drama-canary",
    )
    assert report["release_id"] == "20250101T120000Z"
    assert report["started_at"] == "2025-01-01T12:00:00.000Z"
    # Prepared in 4 s, four stages of 11 s (six measurements 2 s apart, then the next
    # stage 1 s later), finalized in 6 s.
    assert report["ended_at"] == events(state, "promoted")[0]["at"] == "2025-01-01T12:00:54.000Z"
    assert report["duration_seconds"] == 54.0
    assert [
        (s["number"], s["weight"], s["replicas"], s["bake_seconds"]) for s in report["stages"]
    ] == [
        (1, 5, 1, 10.0),
        (2, 20, 1, 10.0),
        (3, 50, 2, 10.0),
        (4, 100, 2, 10.0),
    ]
    for stage in report["stages"]:
        assert stage["outcome"] == "passed" and stage["failed_checks"] == 0
        assert stage["validation"] == ledgers.VALIDATION
        assert len(stage["runs"]) == 1 and len(stage["measurements"]) == 6
        assert stage["started_at"] == stage["runs"][0]["started_at"]
        assert stage["duration_seconds"] == 10.0
        assert all(m["verdict"] == "pass" for m in stage["measurements"])
    # At stage 3 the general error-rate check failed twice: recorded, never a failure.
    general = [m["checks"]["error_rate_general"] for m in report["stages"][2]["measurements"]]
    assert [g["result"] for g in general] == ["pass", "fail", "fail", "pass", "pass", "pass"]
    assert {g["effect"] for g in general if g["result"] == "fail"} == {"recorded"}
    assert general[1]["value"] == 0.002 and general[1]["side"] == "max"
    assert [p["weight"] for p in report["weights"]] == [0, 5, 20, 50, 100, 0]
    assert report["weight"] == 0
    bounds = {c["name"]: (c["min"], c["max"], c["severity"]) for c in report["checks"]}
    assert bounds["availability"] == (0.99, None, "critical")
    assert bounds["latency_p99_important"] == (None, 1.5, "important")
    assert [a["event"] for a in report["actions"]] == [
        "release_started",
        "canary_prepared",
        *["stage_started", "stage_passed"] * 4,
        "weight_set",
        "promoted",
    ]
    assert report["actions"][0]["details"]["by"] == ledgers.HOLDER


def test_rolled_back_release_keeps_the_failure_and_the_outage():
    spec, state = ledgers.rolled_back()
    report = build(spec, state)
    assert report["outcome"] == "rolled_back"
    assert report["reason"].startswith("Stage 2 (20%) failed its analysis: failed measurement 2")
    assert "error_rate = 0.0312 > max 0.01" in report["reason"]
    first, second, third, fourth = report["stages"]
    assert (first["outcome"], second["outcome"]) == ("passed", "failed")
    assert (
        second["failed_checks"] == 2
        and second["reason"] == events(state, "stage_failed")[0]["reason"]
    )
    assert [m["decision"] for m in second["measurements"]] == ["pass", "fail", "fail"]
    assert (third["outcome"], fourth["outcome"]) == ("not_started", "not_started")
    assert third["runs"] == [] and third["started_at"] is None
    # Prometheus was unreachable for one measurement of stage 1: no value, an error.
    outage = first["measurements"][2]
    assert outage["verdict"] == "error" and outage["decision"] == "error"
    assert outage["checks"]["error_rate"] == {
        "value": None,
        "result": "error",
        "effect": "error",
        "side": "max",
    }
    assert report["weights"][-1] == {
        "at": report["ended_at"],
        "weight": 0,
        "event": "rolled_back",
    }
    assert report["stage"] == 2 and report["weight"] == 0
    # Rollbacks of earlier versions left the stage's weight in the ledger's field.
    state["weight"] = 20
    assert build(spec, state)["weight"] == 0


def test_held_release_is_not_over():
    spec, state = ledgers.held()
    report = build(spec, state)
    assert report["status"] == "paused" and report["outcome"] == "held"
    assert report["reason"].startswith("stage 1 held: 0 passing measurement(s) in a row")
    assert report["ended_at"] is None
    assert report["duration_seconds"] > 10
    stage = report["stages"][0]
    assert stage["outcome"] == "held" and len(stage["measurements"]) == 8
    assert {m["verdict"] for m in stage["measurements"]} == {"hold"}
    assert report["weight"] == 5


def test_interrupted_stage_is_resumed_in_a_second_run():
    spec, state = ledgers.resumed()
    report = build(spec, state)
    assert report["outcome"] == "in_progress" and report["ended_at"] is None
    stage = report["stages"][1]
    assert [(r["outcome"], r["resumed"]) for r in stage["runs"]] == [
        ("interrupted", False),
        ("passed", True),
    ]
    assert stage["outcome"] == "passed" and len(stage["measurements"]) == 2 + 6
    assert [m["run"] for m in stage["measurements"]] == [1, 1, 2, 2, 2, 2, 2, 2]
    assert stage["started_at"] == stage["runs"][0]["started_at"]
    assert stage["duration_seconds"] > 30
    assert [a["event"] for a in report["actions"]][-3:] == [
        "resumed",
        "stage_resumed",
        "stage_passed",
    ]


def test_only_the_latest_release_is_reported():
    spec, state = ledgers.second_release()
    assert len(events(state, "release_started")) == 2
    report = build(spec, state)
    second_start = events(state, "release_started")[1]["at"]
    assert report["started_at"] == second_start and report["release_id"] == "20250101T130009Z"
    assert report["outcome"] == "promoted"
    assert [a["event"] for a in report["actions"]].count("release_started") == 1
    assert all(s["outcome"] == "passed" for s in report["stages"])
    assert len(report["stages"][0]["runs"]) == 1


def test_a_stage_baking_when_the_release_was_rolled_back_was_stopped():
    spec = ledgers.release()
    recorder = ledgers.Recorder(spec)
    recorder.start()
    recorder.stage(1, interrupt_after=3)
    recorder.roll_back("rolled back by an operator")
    report = build(spec, recorder.state())
    stage = report["stages"][0]
    assert stage["outcome"] == "stopped" and stage["ended_at"] is None
    assert len(stage["measurements"]) == 3
    assert report["reason"] == "rolled back by an operator"


def test_a_check_gone_from_the_spec_is_reported_without_bounds():
    spec, state = ledgers.rolled_back()
    spec["analysis"]["checks"] = [
        c for c in spec["analysis"]["checks"] if c["name"] != "latency_p99"
    ]
    report = build(spec, state)
    gone = [c for c in report["checks"] if c["name"] == "latency_p99"]
    assert gone == [
        {
            "name": "latency_p99",
            "type": None,
            "severity": None,
            "min": None,
            "max": None,
            "side": "max",
        }
    ]
    assert report["checks"][-1] == gone[0]


def test_values_of_earlier_ledger_versions():
    spec, state = ledgers.held()
    for entry in events(state, "measurement"):
        entry["values"] = {
            "availability": [0.98, "fail"],
            "latency_p99": [float("nan"), "no_data", "max"],
        }
        del entry["decision"]
    report = build(spec, state)
    first = report["stages"][0]["measurements"][0]
    assert first["checks"]["availability"] == {
        "value": 0.98,
        "result": "fail",
        "effect": None,
        "side": "min",
    }
    assert first["checks"]["latency_p99"]["value"] is None
    assert first["decision"] == "hold"
    render(spec, state)  # strict JSON: the NaN is gone


def test_compaction_is_counted():
    spec, state = ledgers.promoted()
    state["history"].insert(0, {"event": "history_compacted", "dropped_entries": 12})
    assert build(spec, state)["ledger"]["dropped_entries"] == 12


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda spec, state: state.update(history=[], status=""), "ledger: no release of frontend"),
        (lambda spec, state: state.update(service="backend"), "ledger.service: 'backend'"),
        (lambda spec, state: state.update(history="x"), "ledger.history: required, a list"),
        (
            lambda spec, state: state["history"][3].update(at="yesterday"),
            r"ledger.history\[3\].at: not a timestamp: 'yesterday'",
        ),
        (
            lambda spec, state: state["history"].append({"at": "2025-01-01T13:00:00Z"}),
            r"ledger.history\[\d+\]: must be a mapping with an event",
        ),
        (
            lambda spec, state: events(state, "measurement")[0].update(values={"error_rate": 0.1}),
            r"ledger.history\[\d+\].values.error_rate: must be \[value, result, side, effect\]",
        ),
        (
            lambda spec, state: events(state, "measurement")[0].update(stage="one"),
            r"ledger.history\[\d+\].stage: must be a stage number",
        ),
        (lambda spec, state: spec.pop("namespace"), "release.namespace: required"),
    ],
)
def test_bad_input_names_the_field(change, message):
    spec, state = ledgers.held()
    change(spec, state)
    with pytest.raises(ReportError, match=message):
        build(spec, state)


def test_a_stage_beyond_the_spec_is_still_reported():
    spec, state = ledgers.resumed()
    spec["stages"] = spec["stages"][:1]
    report = build(spec, state)
    assert [s["number"] for s in report["stages"]] == [1, 2]
    second = report["stages"][1]
    assert (second["name"], second["weight"], second["replicas"]) == ("#2", 20, None)


def test_baseline_judgements_are_kept_with_their_stage():
    spec, state = ledgers.held()
    judged = baseline_event(
        1,
        {
            "verdict": "marginal",
            "score": 80.0,
            "reason": "score 80 < pass_score 95: latency_p99 high",
            "metrics": [
                {"name": "latency_p99", "result": "high"},
                {"name": "errors", "result": "pass"},
            ],
        },
    )
    state["history"].insert(-1, {"at": "2025-01-01T12:00:19.000Z", **judged})
    report, texts = render(spec, state)
    assert report["stages"][0]["baseline"] == [
        {
            "at": "2025-01-01T12:00:19.000Z",
            "verdict": "marginal",
            "score": 80.0,
            "reason": "score 80 < pass_score 95: latency_p99 high",
            "metrics": {"latency_p99": "high", "errors": "pass"},
        }
    ]
    assert "baseline" not in [a["event"] for a in report["actions"]]
    jsonschema.validate(report, SCHEMA, cls=jsonschema.Draft7Validator)
    page = texts["frontend-latest.html"]
    assert "<td>latency_p99: high, errors: pass</td>" in page
    assert "score 80 &lt; pass_score 95: latency_p99 high" in page
