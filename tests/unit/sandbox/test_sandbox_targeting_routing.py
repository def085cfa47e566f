"""The router with a published targeting spec decides as the ``canary_target`` filter does."""

import dataclasses
import http.client
import io
import logging

from filter_plugins.canary import FilterModule
from sandbox import routing
from sandbox.routing import CANARY, STABLE, Choice
from tests.unit.targeting.plan import SEGMENTS, STAGES, headers, plan_targeting

canary_target = FilterModule().filters()["canary_target"]


@dataclasses.dataclass(frozen=True)
class Rules:
    """What a sandbox reader hands the router (``TrafficRules``), as far as routing reads it."""

    weight: float = 0
    canary_header: str = "X-Canary"
    targeting: dict = None


def message(pairs):
    """Request headers as the router's handler has them (case-insensitive, as parsed)."""
    raw = "".join(f"{name}: {value}\r\n" for name, value in pairs.items()) + "\r\n"
    return http.client.parse_headers(io.BytesIO(raw.encode()))


def test_with_a_targeting_spec_the_router_does_what_the_filter_says():
    spec = plan_targeting()
    for weight in (0, *STAGES):
        rules = Rules(weight, targeting=spec)
        for rule, attributes, _ in SEGMENTS:
            for n in range(100):
                request = {"headers": headers(f"{rule}-{n}", **attributes)}
                expected = canary_target(request, spec, weight)
                assert expected["rule"] == rule
                choice = routing.route(rules, message(request["headers"]), None, True)
                assert choice == Choice(expected["track"])


def test_without_a_spec_the_router_keeps_the_header_and_the_weight():
    rules = Rules(20, canary_header="X-Force")
    for n in range(500):
        user = f"user-{n}"
        expected = routing.choose(user, 20, None, True)
        assert routing.route(rules, message({"X-User-Id": user}), None, True) == expected
        assert routing.route(rules, message({}), f"user_id={user}", True) == expected
    assert routing.route(rules, message({"x-force": "always"}), None, False) == Choice(CANARY, 503)


def test_forced_by_cookie_and_a_canary_without_a_ready_backend():
    spec = plan_targeting()
    rules = Rules(100, targeting=spec)
    vip = headers("user-1", type="vip")
    assert routing.route(rules, message(vip), "theme=dark; canary=never", True) == Choice(STABLE)
    assert routing.route(rules, message(vip), "canary=always", False) == Choice(CANARY, 503)
    assert routing.route(rules, message({**vip, "X-Canary": "always"}), None, False) == Choice(
        CANARY, 503
    )
    # Chosen by its share, not forced: stable answers while the canary has no backend.
    assert routing.route(rules, message(vip), None, False) == Choice(STABLE)
    assert routing.route(rules, message(vip), None, True) == Choice(CANARY)


def test_a_request_without_user_id_is_split_by_the_weight():
    rules = Rules(50, targeting=plan_targeting())
    tracks = [routing.route(rules, message({}), None, True).track for _ in range(4000)]
    assert 1800 <= tracks.count(CANARY) <= 2200


def test_an_invalid_spec_sends_everything_to_stable_and_is_logged_once(caplog):
    caplog.set_level(logging.WARNING, logger="sandbox.routing")
    for _ in range(3):
        # A new object at every poll, as a reader parses the ConfigMap again.
        rules = Rules(100, targeting={"rules": [{"share": 200}]})
        for forcing in ({"X-Canary": "always"}, {"X-User-Id": "u-1"}):
            assert routing.route(rules, message(forcing), None, True) == Choice(STABLE)
    refused = [r for r in caplog.records if "targeting spec refused" in r.getMessage()]
    assert len(refused) == 1
    assert "canary.traffic.targeting.rules[0].share" in refused[0].getMessage()


def test_cookies_that_do_not_parse_are_none():
    assert routing.cookies_of("a=1; user_id=u-2") == {"a": "1", "user_id": "u-2"}
    assert routing.cookies_of('bad"cookie') == {}
    assert routing.cookies_of(None) == {}
