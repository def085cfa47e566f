import json

import pytest
from ansible.module_utils.cluster import Conflict
from ansible.module_utils.ledger import (
    HISTORY_LIMIT_BYTES,
    Ledger,
    LedgerError,
    compact,
    next_stage,
    start_release,
)

from .fakes import FakeCluster


def ledger(cluster=None):
    return Ledger(
        cluster or FakeCluster(), "shop", "frontend-canary-ledger", "frontend", clock=lambda: 0
    )


def start(book, image="app:2", stable="app:1"):
    return book.update(lambda state: start_release(state, image, stable, 4, "ops@box:1", 0))


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


@pytest.mark.parametrize(
    ("stage", "stage_status", "expected"),
    [(0, "pending", 1), (1, "baking", 1), (1, "passed", 2), (4, "passed", 5), (2, "failed", 3)],
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


def test_compact_drops_oldest_measurements_only():
    action = {"event": "stage_started", "stage": 1}
    measurement = {"event": "measurement", "padding": "x" * 1000}
    history = [action] + [dict(measurement, n=i) for i in range(1000)]
    kept = compact(history)
    size = sum(len(json.dumps(e)) + 1 for e in kept)
    assert size <= HISTORY_LIMIT_BYTES + 100
    assert kept[0]["event"] == "history_compacted" and kept[1] == action
    assert kept[-1]["n"] == 999
