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
