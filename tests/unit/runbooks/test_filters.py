import hashlib

from filter_plugins.canary import FilterModule


def test_bucket_is_the_plan_md5_rule():
    filters = FilterModule().filters()
    for user in ("user-000001", "13800138000", "ops@example.com"):
        expected = int(hashlib.md5(user.encode()).hexdigest()[:8], 16) % 100
        assert filters["canary_bucket"](user) == expected
        assert filters["canary_in"](user, expected + 1) is True
        assert filters["canary_in"](user, expected) is False


def test_canary_is_sticky_and_monotone():
    canary_in = FilterModule().filters()["canary_in"]
    users = [f"user-{i:06d}" for i in range(20000)]
    previous = set()
    for weight in (5, 20, 50, 100):
        current = {u for u in users if canary_in(u, weight)}
        assert previous <= current
        assert abs(len(current) / len(users) - weight / 100) < 0.01
        previous = current


def test_stage_summary_and_history():
    filters = FilterModule().filters()
    ledger = {
        "history": [
            {"at": "t0", "event": "stage_started", "stage": 1, "weight": 5},
            {
                "at": "t1",
                "event": "measurement",
                "stage": 1,
                "verdict": "pass",
                "failed_checks": 0,
                "values": {"error_rate": [0.0, "pass"]},
            },
            {
                "at": "t2",
                "event": "measurement",
                "stage": 1,
                "verdict": "fail",
                "failed_checks": 1,
                "values": {"error_rate": [0.031, "fail"]},
            },
            {
                "at": "t3",
                "event": "stage_failed",
                "stage": 1,
                "weight": 5,
                "reason": "error_rate = 0.031 > max 0.01",
            },
        ]
    }
    assert filters["canary_stage_summary"](ledger) == [
        "stage 1 (5%): failed, 2 measurements; worst: error_rate=0.031 (fail); "
        "failed on: error_rate = 0.031 > max 0.01"
    ]
    lines = filters["canary_history"](ledger)
    assert (
        lines[2] == "t2  measurement  error_rate=0.031 fail  failed_checks=1 stage=1 verdict=fail"
    )


def test_stage_summary_shows_a_held_stage_and_its_reason():
    filters = FilterModule().filters()
    ledger = {
        "history": [
            {"event": "stage_started", "stage": 1, "weight": 5},
            {
                "event": "measurement",
                "stage": 1,
                "verdict": "hold",
                "decision": "hold",
                "values": {"latency_p99_important": [1.9, "fail", "max", "hold"]},
            },
            {"event": "stage_held", "stage": 1, "reason": "success_limit 1 not reached"},
        ]
    }
    assert filters["canary_stage_summary"](ledger) == [
        "stage 1 (5%): held, 1 measurements; worst: latency_p99_important=1.9 (fail); "
        "held on: success_limit 1 not reached"
    ]
    line = filters["canary_history"](ledger)[1]
    assert (
        line == "  measurement  latency_p99_important=1.9 fail  decision=hold stage=1 verdict=hold"
    )


def test_stage_summary_covers_the_latest_release_only():
    filters = FilterModule().filters()
    ledger = {
        "history": [
            {"event": "release_started", "image": "a"},
            {"event": "stage_started", "stage": 1, "weight": 5},
            {"event": "stage_passed", "stage": 1},
            {"event": "release_started", "image": "b"},
            {"event": "stage_started", "stage": 1, "weight": 5},
        ]
    }
    assert filters["canary_stage_summary"](ledger) == [
        "stage 1 (5%): in progress, 0 measurements; worst: none"
    ]


def test_worst_value_respects_the_side_of_the_bound():
    filters = FilterModule().filters()
    ledger = {
        "history": [
            {"event": "stage_started", "stage": 1, "weight": 5},
            {
                "event": "measurement",
                "stage": 1,
                "values": {
                    "availability": [1.0, "pass", "min"],
                    "latency_p99": [0.2, "pass", "max"],
                },
            },
            {
                "event": "measurement",
                "stage": 1,
                "values": {
                    "availability": [0.995, "pass", "min"],
                    "latency_p99": [0.1, "pass", "max"],
                },
            },
        ]
    }
    assert filters["canary_stage_summary"](ledger) == [
        "stage 1 (5%): in progress, 2 measurements; worst: availability=0.995 (pass)  "
        "latency_p99=0.2 (pass)"
    ]


def test_public_spec_leaves_out_the_load_body_only():
    filters = FilterModule().filters()
    spec = {
        "service": "x",
        "validation": {
            "url": "u",
            "load": {"path": "/login", "body": {"password": "secret"}},
        },
    }
    public = filters["canary_public_spec"](spec)
    assert public == {"service": "x", "validation": {"url": "u", "load": {"path": "/login"}}}
    assert spec["validation"]["load"]["body"] == {"password": "secret"}


def _ledger_with(*events, **state):
    return {
        "status": "progressing",
        "stage": 2,
        "stages": 4,
        "weight": 20,
        "image": "app:2",
        "stable_image": "app:1",
        "reason": "",
        "history": [{"event": "release_started"}, *events],
        **state,
    }


def _measured(stage, verdict, error_rate):
    result = "pass" if verdict == "pass" else "fail"
    return {
        "event": "measurement",
        "stage": stage,
        "at": f"t{stage}",
        "verdict": verdict,
        "values": {"error_rate": [error_rate, result, "max", "counted"]},
    }


def test_release_stats_carry_the_latest_stage_and_its_measurements():
    stats = FilterModule().filters()["canary_release_stats"]
    ledger = _ledger_with(
        {"event": "stage_started", "stage": 1},
        _measured(1, "pass", 0.0),
        {"event": "stage_passed", "stage": 1},
        {"event": "stage_started", "stage": 2},
        _measured(2, "pass", 0.001),
        _measured(2, "fail", 0.03),
    )
    result = stats(ledger, "/reports/frontend.json")
    assert (result["stage"], result["weight"], result["status"]) == (2, 20, "progressing")
    # Stage 2 is still baking: its latest measurement speaks.
    assert result["verdict"] == "fail"
    assert [m["values"]["error_rate"] for m in result["measurements"]] == [0.001, 0.03]
    assert result["measurements"][-1]["results"] == {"error_rate": "fail"}
    assert result["report"] == "/reports/frontend.json"


def test_release_stats_verdict_is_the_ended_stage_s_outcome():
    stats = FilterModule().filters()["canary_release_stats"]
    held = _ledger_with(
        {"event": "stage_started", "stage": 2},
        _measured(2, "pass", 0.0),
        {"event": "stage_held", "stage": 2},
        status="paused",
    )
    assert stats(held)["verdict"] == "hold"
    assert stats(held)["report"] is None
    assert stats({"history": []}) == {
        "status": "none",
        "stage": 0,
        "stages": 0,
        "weight": 0,
        "verdict": None,
        "image": "",
        "stable_image": "",
        "reason": "",
        "measurements": [],
        "report": None,
    }


def test_canary_namespace_filter_names_the_releases_canary_namespace():
    stable = {"metadata": {"name": "shop", "labels": {"istio-injection": "enabled"}}}
    namespace = FilterModule().filters()["canary_namespace"](
        stable, {"canary_namespace": "shop-canary"}
    )
    assert namespace["metadata"] == {
        "name": "shop-canary",
        "labels": {"istio-injection": "enabled", "app.kubernetes.io/managed-by": "canary-runbooks"},
    }


def test_history_shows_the_latest_entries_when_asked_for_a_few():
    filters = FilterModule().filters()
    ledger = {"history": [{"at": f"t{n}", "event": "measurement"} for n in range(300)]}
    assert len(filters["canary_history"](ledger)) == 300
    assert filters["canary_history"](ledger, last=2) == ["t298  measurement", "t299  measurement"]
