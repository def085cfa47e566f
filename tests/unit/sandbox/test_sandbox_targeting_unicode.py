"""Ids and regions in other scripts: the router, the filters and the spec agree byte for byte.

Each id travels as the router's HTTP server receives it (header bytes it decodes as
ISO-8859-1): raw UTF-8 or percent-encoded, in the user-id header or the ``user_id``
cookie. The bucket the router acts on is the one ``canary_bucket`` gives for the id as
written: the router puts the user in the canary exactly at the weights above it.
"""

import http.client
import io
import urllib.parse

import pytest

from filter_plugins.canary import FilterModule
from sandbox import routing
from sandbox.routing import CANARY, STABLE

from .test_sandbox_targeting_routing import Rules

FILTERS = FilterModule().filters()
IDS = {
    "chinese": "用户-北京-0042",
    "japanese": "ユーザー・太郎",
    "arabic": "مستخدم-٤٢",
    "greek": "χρήστης-42",
    "emoji": "🎬👤-42",
}


def received(headers):
    """Header values as the router's handler has them: UTF-8 bytes read as ISO-8859-1."""
    raw = b"".join(f"{name}: ".encode() + value.encode() + b"\r\n" for name, value in headers)
    return http.client.parse_headers(io.BytesIO(raw + b"\r\n"))


def route(weight, headers=(), cookie=None, targeting=None):
    message = routing.decoded_headers(received(headers))
    cookie = routing.http_text(cookie.encode().decode("latin-1")) if cookie else None
    return routing.route(Rules(weight, targeting=targeting), message, cookie, True).track


def forms(user):
    """(headers, cookie) of every way a request may carry the id."""
    encoded = urllib.parse.quote(user, safe="")
    return {
        "header raw": ([("X-User-Id", user)], None),
        "header percent-encoded": ([("X-User-Id", encoded)], None),
        "cookie raw": ((), f"theme=dark; user_id={user}"),
        "cookie percent-encoded": ((), f'user_id="{encoded}"'),
    }


@pytest.mark.parametrize("user", IDS.values(), ids=IDS.keys())
def test_the_router_splits_every_form_of_an_id_at_the_filters_bucket(user):
    bucket = FILTERS["canary_bucket"](user)
    assert FILTERS["canary_in"](user, bucket + 1) and not FILTERS["canary_in"](user, bucket)
    for form, (headers, cookie) in forms(user).items():
        assert route(bucket + 1, headers, cookie) == CANARY, form
        assert route(bucket, headers, cookie) == STABLE, form


@pytest.mark.parametrize("user", IDS.values(), ids=IDS.keys())
def test_with_a_targeting_spec_the_router_and_canary_target_agree(user):
    spec = {"rules": [{"header": "X-Canary"}, {"name": "everyone", "share": "stage"}]}
    bucket = FILTERS["canary_bucket"](user)
    for weight in (bucket, bucket + 1):
        expected = FILTERS["canary_target"]({"headers": {"X-User-Id": user}}, spec, weight)
        assert expected["bucket"] == bucket and expected["user_id"] == user
        for form, (headers, cookie) in forms(user).items():
            assert route(weight, headers, cookie, spec) == expected["track"], (form, weight)


REGIONS = {
    "chinese": "北京",
    "japanese": "東京",
    "arabic": "القاهرة",
    "greek": "Αθήνα",
    "emoji": "🏙️",
}


@pytest.mark.parametrize("region", REGIONS.values(), ids=REGIONS.keys())
def test_a_region_rule_in_another_script_matches_that_region_only(region):
    spec = {
        "rules": [
            {"header": "X-Canary"},
            {"name": "home", "regions": [region], "share": 100},
            {"name": "rest", "share": 0},
        ]
    }
    encoded = urllib.parse.quote(region, safe="")
    for sent in (region, encoded, region.upper()):
        request = {"headers": {"X-User-Id": "u-1", "X-User-Region": sent}}
        assert FILTERS["canary_target"](request, spec, 5)["rule"] == "home", sent
        headers = [("X-User-Id", "u-1"), ("X-User-Region", sent)]
        assert route(5, headers, targeting=spec) == CANARY, sent
    other = {"headers": {"X-User-Id": "u-1", "X-User-Region": "上海"}}
    assert FILTERS["canary_target"](other, spec, 5)["rule"] == "rest"
    assert route(5, [("X-User-Id", "u-1"), ("X-User-Region", "上海")], targeting=spec) == STABLE


def test_a_percent_is_decoded_once_and_kept_when_it_encodes_nothing():
    wire_text = routing.targeting.wire_text
    assert [wire_text(v) for v in ("100%", "a%zz", "%FF", "%2541")] == [
        "100%",
        "a%zz",
        "%FF",
        "%41",
    ]
    assert FILTERS["canary_bucket"]("%41") == FILTERS["canary_bucket"]("A")
    for user in ("100%", "%FF"):
        bucket = FILTERS["canary_bucket"](user)
        assert route(bucket + 1, [("X-User-Id", user)]) == CANARY
        assert route(bucket, [("X-User-Id", user)]) == STABLE
