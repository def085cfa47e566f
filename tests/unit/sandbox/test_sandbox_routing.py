"""The router's choice: forced header, sticky weight, fallback and round-robin."""

import pytest

from sandbox import routing
from sandbox.routing import CANARY, STABLE, bucketing

USERS = [f"user-{n:06d}" for n in range(500)]


@pytest.mark.parametrize(
    ("header", "track"), [("always", CANARY), ("Always", CANARY), ("never", STABLE), ("x", None)]
)
def test_forced_track_follows_ingress_nginx_canary_by_header(header, track):
    assert routing.forced_track(header) == track


def test_weighted_choice_is_exactly_the_project_bucketing():
    for user in USERS:
        expected = CANARY if bucketing.in_canary(user, 20) else STABLE
        assert routing.choose(user, 20, None, canary_ready=True).track == expected


def test_weight_zero_and_hundred():
    assert {routing.choose(u, 0, None, True).track for u in USERS} == {STABLE}
    assert {routing.choose(u, 100, None, True).track for u in USERS} == {CANARY}


def test_forced_routing_overrides_the_weight():
    assert routing.choose("u", 0, CANARY, True) == routing.Choice(CANARY)
    assert routing.choose("u", 100, STABLE, True) == routing.Choice(STABLE)


def test_canary_without_ready_backend_forced_is_503_weighted_falls_back_to_stable():
    assert routing.choose("u", 100, CANARY, canary_ready=False) == routing.Choice(CANARY, 503)
    assert routing.choose("u", 100, None, canary_ready=False) == routing.Choice(STABLE)


def test_user_id_from_header_then_cookie_then_random():
    assert routing.user_id({"X-User-Id": "user-1"}, "user_id=user-2") == "user-1"
    assert routing.user_id({}, "theme=dark; user_id=user-2") == "user-2"
    first, second = routing.user_id({}, None), routing.user_id({}, "bad cookie ;;=")
    assert first != second
    assert len(first) == 32


def test_backends_from_endpoint_slices_and_round_robin():
    def endpoint(pod, address, **conditions):
        return {"addresses": [address], "conditions": conditions, "targetRef": {"name": pod}}

    slices = [
        {
            "endpoints": [endpoint("pod-b", "10.244.0.3", ready=True)],
            "ports": [{"name": "http", "port": 8080}],
        },
        {
            "endpoints": [
                endpoint("pod-a", "10.244.0.2"),  # no condition: ready, as the API defines it
                endpoint("pod-c", "10.244.0.4", ready=False, serving=True, terminating=True),
            ],
            "ports": [{"name": "http", "port": 8080}],
        },
        {"endpoints": [endpoint("pod-d", "10.244.0.5", ready=True)], "ports": []},
        {"endpoints": None, "ports": None},  # a Service without pods
    ]
    backends = routing.backends_from_slices(slices)
    assert [(b.pod, b.host, b.port) for b in backends] == [
        ("pod-a", "10.244.0.2", 8080),
        ("pod-b", "10.244.0.3", 8080),
    ]
    assert routing.backends_from_slices(None) == []
    pool = routing.RoundRobin()
    assert pool.next() is None
    pool.update(backends)
    assert [pool.next().pod for _ in range(4)] == ["pod-a", "pod-b", "pod-a", "pod-b"]
    assert len(pool) == 2
