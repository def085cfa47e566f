from datetime import UTC, datetime, timedelta

import pytest
from ansible.module_utils.lock import LockHeld, ReleaseLock, micro_time, stale_reason

from .fakes import FakeCluster

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def lock(cluster, holder, host="box", pid=100, ttl=60):
    return ReleaseLock(
        cluster, "shop", "frontend-canary-lock", {"holder": holder, "host": host, "pid": pid}, ttl
    )


def test_acquire_renew_release():
    cluster = FakeCluster()
    mine = lock(cluster, "alice@box:100")
    assert mine.acquire(now=NOW) is None
    spec = mine.read()["spec"]
    assert spec["holderIdentity"] == "alice@box:100" and spec["leaseDurationSeconds"] == 60
    mine.renew(now=NOW + timedelta(seconds=30))
    assert mine.read()["spec"]["renewTime"] == micro_time(NOW + timedelta(seconds=30))
    assert mine.read()["spec"]["acquireTime"] == micro_time(NOW)
    assert mine.release() is True
    assert "holderIdentity" not in mine.read()["spec"]
    assert mine.release() is False


def test_second_run_is_refused_with_the_holder_named():
    cluster = FakeCluster()
    lock(cluster, "alice@box:100", host="box-a").acquire(now=NOW)
    with pytest.raises(LockHeld, match=r"alice@box:100 \(since .*expires in 50s"):
        lock(cluster, "bob@other:7", host="box-b").acquire(now=NOW + timedelta(seconds=10))


def test_expired_lock_is_taken_over_and_reported():
    cluster = FakeCluster()
    lock(cluster, "alice@box:100", host="box-a").acquire(now=NOW)
    bob = lock(cluster, "bob@other:7", host="box-b")
    assert bob.acquire(now=NOW + timedelta(seconds=61)) == "alice@box:100 (expired)"
    assert bob.read()["spec"]["leaseTransitions"] == 1


def test_explicit_takeover():
    cluster = FakeCluster()
    lock(cluster, "alice@box:100", host="box-a").acquire(now=NOW)
    bob = lock(cluster, "bob@other:7", host="box-b")
    assert bob.acquire(takeover=True, now=NOW) == "alice@box:100 (taken over on request)"


def test_dead_holder_on_the_same_host_is_stale():
    cluster = FakeCluster()
    # pid 2**22 + 1 is above Linux's pid_max: no such process
    lock(cluster, "alice@box:dead", host="box", pid=2**22 + 1).acquire(now=NOW)
    lease = cluster.get("coordination.k8s.io/v1", "Lease", "frontend-canary-lock", "shop")
    reason = stale_reason(lease, {"holder": "alice@box:1", "host": "box", "pid": 1}, NOW)
    assert reason == f"its run (pid {2**22 + 1} on box) has ended"


def test_renew_fails_when_another_run_took_the_lock():
    cluster = FakeCluster()
    alice = lock(cluster, "alice@box:100", host="box-a")
    alice.acquire(now=NOW)
    lock(cluster, "bob@other:7", host="box-b").acquire(takeover=True, now=NOW)
    with pytest.raises(LockHeld, match="held by bob@other:7"):
        alice.renew(now=NOW)


def test_renew_if_held_renews_our_lock_ignores_a_free_one_and_refuses_another():
    cluster = FakeCluster()
    alice = lock(cluster, "alice@box:100", host="box-a")
    alice.renew_if_held(now=NOW)  # no lease at all: nothing to renew
    alice.acquire(now=NOW)
    alice.renew_if_held(now=NOW + timedelta(seconds=5))
    assert alice.read()["spec"]["renewTime"] == micro_time(NOW + timedelta(seconds=5))
    lock(cluster, "bob@other:7", host="box-b").acquire(takeover=True, now=NOW)
    with pytest.raises(LockHeld):
        alice.renew_if_held(now=NOW)


def test_release_frees_an_expired_lock_of_another_run_but_not_a_live_one():
    cluster = FakeCluster()
    lock(cluster, "alice@box:100", host="box-a").acquire(now=NOW)
    operator = lock(cluster, "ops@box-b:9", host="box-b")
    assert operator.release(now=NOW + timedelta(seconds=10)) is False
    assert operator.read()["spec"]["holderIdentity"] == "alice@box:100"
    assert operator.release(now=NOW + timedelta(seconds=61)) is True
    assert "holderIdentity" not in operator.read()["spec"]


def test_check_available_refuses_without_writing():
    cluster = FakeCluster()
    lock(cluster, "alice@box:100", host="box-a").acquire(now=NOW)
    writes = cluster.writes
    bob = lock(cluster, "bob@other:7", host="box-b")
    with pytest.raises(LockHeld, match="alice@box:100"):
        bob.check_available(now=NOW + timedelta(seconds=5))
    bob.check_available(takeover=True, now=NOW)
    bob.check_available(now=NOW + timedelta(seconds=61))  # expired: may be taken
    assert cluster.writes == writes
