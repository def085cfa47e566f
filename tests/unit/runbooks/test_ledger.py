import json

import pytest
from ansible.module_utils.cluster import Conflict
from ansible.module_utils.ledger import (
    HISTORY_LIMIT_BYTES,
    Ledger,
    LedgerError,
    _size,
    begin_stage,
    compact,
    conclude_stage,
    empty_state,
    needs_rollback,
    next_stage,
    repeated_release,
    start_release,
)

from .fakes import FakeCluster


def ledger(cluster=None):
    return Ledger(
        cluster or FakeCluster(), "shop", "frontend-canary-ledger", "frontend", clock=lambda: 0
    )


def start(book, image="app:2", stable="app:1"):
    return book.update(lambda state: start_release(state, image, stable, 4, "ops@box:1"))


def test_new_release_creates_the_ledger():
    book = ledger()
    before, after = start(book)
    assert before["status"] == ""
    assert after["status"] == "initialized" and after["image"] == "app:2" and after["stages"] == 4
    stored = book.read()
    assert stored["history"] == [
        {
            "at": "1970-01-01T00:00:00.000Z",
            "event": "release_started",
            "image": "app:2",
            "stable_image": "app:1",
        }
    ]
    data = book.cluster.get("v1", "ConfigMap", "frontend-canary-ledger", "shop")["data"]
    assert data["status"] == "initialized" and data["stage"] == "0"
    assert json.loads(data["history"].splitlines()[0])["event"] == "release_started"


def test_resume_keeps_stage_and_refuses_another_image():
    book = ledger()
    start(book)
    book.update(lambda s: s.update(stage=2, stage_status="baking", status="progressing"))
    _, resumed = start(book, image="")
    assert resumed["stage"] == 2 and resumed["history"][-1]["event"] == "resumed"
    with pytest.raises(LedgerError, match="release of frontend to app:2 is in progress"):
        start(book, image="app:3")


def test_no_release_without_image():
    with pytest.raises(LedgerError, match="no release of frontend is in progress"):
        start(ledger(), image="")


def test_new_release_after_a_finished_one_resets_the_counters():
    book = ledger()
    start(book)
    book.update(lambda s: s.update(stage=3, failed_checks=1, status="rolled_back"))
    _, after = start(book, image="app:3")
    assert (after["stage"], after["failed_checks"], after["image"]) == (0, 0, "app:3")
    assert [e["event"] for e in after["history"]] == ["release_started", "release_started"]


def promoted(image="app:2"):
    state = empty_state("frontend")
    state.update(status="promoted", image=image)
    state["history"] = [{"at": "2026-12-08T01:00:00Z", "event": "promoted", "image": image}]
    return state


def test_releasing_a_promoted_image_stable_runs_again_only_repeats_it():
    assert repeated_release(promoted(), "app:2", "app:2") == (
        "app:2 is already released: stable runs it, and its release ended promoted at "
        "2026-12-08T01:00:00Z"
    )


@pytest.mark.parametrize(
    ("state", "image", "stable"),
    [
        (promoted(), "app:3", "app:2"),  # another image
        (promoted(), "app:2", "app:1"),  # stable was moved back since
        ({**promoted(), "status": "rolled_back"}, "app:2", "app:2"),  # it never made it
        (empty_state("frontend"), "app:2", "app:2"),  # no release recorded
        (promoted(), "", "app:2"),  # no image: resume
    ],
    ids=["another-image", "stable-moved", "rolled-back", "no-ledger", "no-image"],
)
def test_anything_else_is_a_release(state, image, stable):
    assert repeated_release(state, image, stable) is None


@pytest.mark.parametrize(
    ("stage", "stage_status", "expected"),
    [(0, "pending", 1), (1, "baking", 1), (1, "passed", 2), (4, "passed", 5), (2, "failed", 2)],
)
def test_next_stage(stage, stage_status, expected):
    assert next_stage({"stage": stage, "stage_status": stage_status}) == expected


def test_update_retries_after_a_conflicting_writer():
    cluster = FakeCluster()
    book = ledger(cluster)
    start(book)
    calls = []

    def change(state):
        calls.append(1)
        if len(calls) == 1:  # another writer sneaks in between our read and our write
            other = cluster.get("v1", "ConfigMap", "frontend-canary-ledger", "shop")
            cluster.replace(other)
        state["weight"] = 5
        return {"event": "weight_set"}

    _, after = book.update(change)
    assert len(calls) == 2 and after["weight"] == 5


def test_update_gives_up_after_repeated_conflicts():
    cluster = FakeCluster()
    book = ledger(cluster)
    start(book)

    def always_raced(state):
        cluster.replace(cluster.get("v1", "ConfigMap", "frontend-canary-ledger", "shop"))
        return None

    with pytest.raises(Conflict):
        book.update(always_raced, attempts=3)


def test_promote_and_finalize_do_not_start_a_release():
    with pytest.raises(LedgerError, match="no release of frontend is in progress"):
        ledger().update(
            lambda state: start_release(state, "app:2", "app:1", 4, "ops", allow_new=False)
        )


def test_compact_drops_oldest_measurements_only():
    action = {"event": "stage_started", "stage": 1}
    measurement = {"event": "measurement", "padding": "x" * 1000}
    history = [{"event": "release_started"}, action] + [dict(measurement, n=i) for i in range(1000)]
    kept = compact(history)
    assert _size(kept) <= HISTORY_LIMIT_BYTES
    assert kept[0]["event"] == "history_compacted"
    assert kept[1:3] == [{"event": "release_started"}, action]
    assert kept[-1]["n"] == 999
    assert kept[0]["dropped_entries"] == 1002 - len(kept) + 1


def test_compact_keeps_one_marker_that_counts_across_writes():
    history = [{"event": "release_started"}]
    for n in range(1500):
        history = compact([*history, {"event": "measurement", "n": n, "padding": "x" * 1000}])
    markers = [e for e in history if e["event"] == "history_compacted"]
    assert len(markers) == 1 and history[0] is markers[0]
    assert markers[0]["dropped_entries"] + len(history) - 2 == 1500
    assert history[-1]["n"] == 1499


def test_compact_drops_earlier_releases_before_the_current_one():
    old = [{"event": "release_started", "image": "a"}] + [
        {"event": "stage_started", "stage": 1, "padding": "y" * 1000} for _ in range(400)
    ]
    current = [{"event": "release_started", "image": "b"}] + [
        {"event": "measurement", "n": n, "padding": "x" * 1000} for n in range(400)
    ]
    kept = compact(old + current)
    assert {"event": "release_started", "image": "b"} in kept
    assert all(e.get("n") is not None for e in kept if e["event"] == "measurement")
    assert len([e for e in kept if e["event"] == "measurement"]) == 400


def test_begin_stage_starts_or_resumes():
    state = {
        "stage": 1,
        "stage_status": "passed",
        "weight": 5,
        "failed_checks": 1,
        "status": "progressing",
    }
    event = begin_stage(state, 2, 20, 5)
    assert event == {"event": "stage_started", "stage": 2, "weight": 20, "previous_weight": 5}
    assert (state["stage"], state["stage_status"], state["failed_checks"]) == (2, "baking", 0)
    state["failed_checks"] = 1
    assert begin_stage(state, 2, 20, 20)["event"] == "stage_resumed"
    assert state["failed_checks"] == 1
    fresh = {
        "stage": 0,
        "stage_status": "pending",
        "weight": 0,
        "failed_checks": 0,
        "status": "initialized",
    }
    begin_stage(fresh, 1, 5, 0)
    assert fresh["status"] == "progressing"


def test_running_a_held_stage_again_ends_the_pause():
    state = {
        "stage": 1,
        "stage_status": "held",
        "weight": 5,
        "failed_checks": 0,
        "status": "paused",
        "reason": "stage 1 held: latency_p99_important = 1.9 > max 1.5",
    }
    assert begin_stage(state, 1, 5, 5)["event"] == "stage_started"
    assert (state["status"], state["stage_status"], state["reason"]) == (
        "progressing",
        "baking",
        "",
    )


@pytest.mark.parametrize(
    ("verdict", "status", "stage_status"),
    [("pass", "progressing", "passed"), ("hold", "paused", "held"), ("fail", "paused", "failed")],
)
def test_conclude_stage_pauses_a_stage_that_did_not_pass(verdict, status, stage_status):
    state = {**empty_state("frontend"), "status": "progressing", "stage": 2, "weight": 20}
    result = {"verdict": verdict, "reason": "error_rate = 0.03 > max 0.01", "failed_checks": 1}
    event = conclude_stage(state, 2, 20, result)
    assert (state["status"], state["stage_status"]) == (status, stage_status)
    assert event == {
        "event": f"stage_{stage_status}",
        "stage": 2,
        "weight": 20,
        "failed_checks": 1,
        "reason": "error_rate = 0.03 > max 0.01",
    }
    expected_reason = "" if verdict == "pass" else f"stage 2 {stage_status}: {result['reason']}"
    assert state["reason"] == expected_reason


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("", False),
        ("initialized", True),
        ("progressing", True),
        ("paused", True),
        ("promoted", False),
        ("rolled_back", False),
        ("failed", True),
    ],
)
def test_a_rollback_undoes_a_release_in_progress_or_verifies_a_failed_one_again(status, expected):
    assert needs_rollback({**empty_state("frontend"), "status": status}) is expected
