"""The targeting rules: what each kind matches, their order, and the errors of a bad spec."""

import pytest
from ansible.module_utils import targeting
from ansible.module_utils.targeting import CANARY, STABLE, Targeting

from .plan import headers

FORCED = [
    {"name": "forced", "header": "X-Canary"},
    {"name": "forced by cookie", "cookie": "canary"},
]


def spec(*rules, attributes=None):
    found = {"rules": [*FORCED, *rules]}
    if attributes is not None:
        found["attributes"] = attributes
    return found


def request(user="user-1", cookies=None, **attributes):
    return {"headers": headers(user, **attributes), "cookies": cookies or {}}


def bucket_user(low, high):
    """A user id whose bucket is in low..high."""
    return next(
        f"user-{n}" for n in range(10000) if low <= targeting.user_bucket(f"user-{n}") <= high
    )


# --- forced routing and precedence ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "track"), [("always", CANARY), (" Always ", CANARY), ("NEVER", STABLE)]
)
def test_a_header_rule_forces_always_and_never_whatever_the_weight(value, track):
    everyone = Targeting(spec({"name": "everyone", "share": "stage"}))
    for weight in (0, 50, 100):
        req = {"headers": {"x-canary": value}, "cookies": {}}
        assert everyone.decide(req, weight) == (track, "forced")
        assert everyone.explain(req, weight)["forced"] is True


def test_other_header_values_fall_through_to_the_next_rule():
    everyone = Targeting(spec({"name": "everyone", "share": "stage"}))
    user = bucket_user(0, 9)
    for value in ("yes", "", "canary"):
        req = {"headers": {"X-User-Id": user, "X-Canary": value}, "cookies": {}}
        assert everyone.decide(req, 10) == (CANARY, "everyone")
        assert everyone.decide(req, 0) == (STABLE, "everyone")


def test_header_beats_cookie_beats_attributes_as_ingress_nginx_orders_them():
    rules = Targeting(spec({"name": "vip", "match": {"type": "vip"}, "share": 100}))
    vip = request(type="vip")
    assert rules.decide(vip, 50) == (CANARY, "vip")
    with_cookie = {**vip, "cookies": {"canary": "never"}}
    assert rules.decide(with_cookie, 50) == (STABLE, "forced by cookie")
    both = {"headers": {**vip["headers"], "X-Canary": "always"}, "cookies": {"canary": "never"}}
    assert rules.decide(both, 50) == (CANARY, "forced")
    header_never = {
        "headers": {**vip["headers"], "X-Canary": "never"},
        "cookies": {"canary": "always"},
    }
    assert rules.decide(header_never, 50) == (STABLE, "forced")


def test_forced_rules_must_come_first_headers_before_cookies():
    errors = targeting.validate(
        {
            "rules": [
                {"name": "cookie", "cookie": "canary"},
                {"name": "header", "header": "X-Canary"},
                {"name": "vip", "match": {"type": "vip"}, "share": 50},
                {"name": "late cookie", "cookie": "beta"},
            ]
        }
    )
    assert errors == [
        "canary.traffic.targeting.rules[1]: a header rule must come before cookie and "
        "attribute, region and hash rules (ingress-nginx's precedence: header, cookie, weight)",
        "canary.traffic.targeting.rules[3]: a cookie rule must come before attribute, region "
        "and hash rules (ingress-nginx's precedence: header, cookie, weight)",
    ]


# --- first match wins -----------------------------------------------------------------


def test_the_first_matching_rule_decides_even_when_a_later_one_would_give_more():
    rules = Targeting(
        spec(
            {"name": "vip", "match": {"type": "vip"}, "share": 0},
            {"name": "beijing", "regions": ["beijing"], "share": 100},
            {"name": "everyone", "share": 100},
        )
    )
    assert rules.decide(request(type="vip", region="beijing"), 50) == (STABLE, "vip")
    assert rules.decide(request(type="normal", region="beijing"), 50) == (CANARY, "beijing")
    assert rules.decide(request(type="normal", region="wuhan"), 50) == (CANARY, "everyone")


def test_a_request_no_rule_matches_goes_to_stable():
    rules = Targeting(spec({"name": "vip", "match": {"type": "vip"}, "share": 100}))
    assert rules.decide(request(type="normal"), 100) == (STABLE, None)


# --- attributes -----------------------------------------------------------------------


def test_attribute_conditions_booleans_numbers_ranges_and_words():
    rules = Targeting(
        spec(
            {"name": "internal", "match": {"internal": True}, "share": 100},
            {
                "name": "keen",
                "match": {"active": True, "level": {"min": 5, "max": 8}},
                "share": 100,
            },
            {"name": "level one", "match": {"level": 1}, "share": 100},
            {"name": "paying", "match": {"type": ["vip", "svip"]}, "share": 100},
        )
    )
    assert rules.decide(request(internal="yes"), 1)[1] == "internal"
    assert rules.decide(request(internal="0", active="true", level=5), 1)[1] == "keen"
    assert rules.decide(request(active="on", level="8"), 1)[1] == "keen"
    assert rules.decide(request(active="true", level=9), 1)[1] is None
    assert rules.decide(request(active="false", level=6), 1)[1] is None
    assert rules.decide(request(active="maybe", level=6), 1)[1] is None
    assert rules.decide(request(level=" 1 "), 1)[1] == "level one"
    assert rules.decide(request(level="one"), 1)[1] is None
    assert rules.decide(request(type="SVIP"), 1)[1] == "paying"


def test_a_missing_or_blank_attribute_never_matches():
    rules = Targeting(
        spec(
            {"name": "not internal", "match": {"internal": False}, "share": 100},
            {"name": "low", "match": {"level": {"max": 3}}, "share": 100},
        )
    )
    assert rules.decide(request(), 50) == (STABLE, None)
    assert rules.decide(request(internal="  ", level=""), 50) == (STABLE, None)


def test_regions_are_case_insensitive_and_combine_with_match():
    rules = Targeting(
        spec(
            {
                "name": "normal in first-tier",
                "match": {"type": "normal"},
                "regions": ["beijing", "Shanghai"],
                "share": 100,
            }
        )
    )
    assert rules.decide(request(type="normal", region="SHANGHAI"), 5)[1] == "normal in first-tier"
    assert rules.decide(request(type="vip", region="shanghai"), 5)[1] is None
    assert rules.decide(request(type="normal", region="wuhan"), 5)[1] is None
    assert rules.decide(request(type="normal"), 5)[1] is None


def test_attributes_come_from_their_header_else_their_cookie_and_can_be_declared():
    rules = Targeting(
        spec(
            {"name": "gold", "match": {"plan": "gold"}, "share": 100},
            attributes={
                "user_id": {"cookie": "uid"},
                "plan": {"header": "X-Plan", "cookie": "plan"},
            },
        )
    )
    by_cookie = rules.explain({"headers": {}, "cookies": {"uid": "u-7", "plan": "gold"}}, 10)
    assert (by_cookie["rule"], by_cookie["user_id"]) == ("gold", "u-7")
    header_first = {"headers": {"x-plan": "silver"}, "cookies": {"plan": "gold"}}
    assert rules.decide(header_first, 10) == (STABLE, None)
    # A declared attribute replaces the default: X-User-Id is no longer read.
    assert rules.explain({"headers": {"X-User-Id": "u-1", "X-Plan": "gold"}}, 10)["user_id"] is None


# --- shares ---------------------------------------------------------------------------


def test_share_stage_follows_the_weight_within_min_and_max():
    rule = {"share": "stage", "min": 20, "max": 60}
    assert [targeting.effective_share(rule, w) for w in (0, 1, 20, 40, 60, 90)] == [
        0,
        20,
        20,
        40,
        60,
        60,
    ]
    assert [targeting.effective_share({"share": 30}, w) for w in (0, 1, 100)] == [0, 30, 30]
    assert [targeting.effective_share({}, w) for w in (0, 7, 100)] == [0, 7, 100]


def test_membership_is_the_bucket_below_the_share():
    rules = Targeting(spec({"name": "vip", "match": {"type": "vip"}, "share": "stage", "min": 50}))
    inside, outside = bucket_user(40, 49), bucket_user(50, 59)
    assert rules.decide(request(inside, type="vip"), 5) == (CANARY, "vip")
    assert rules.decide(request(outside, type="vip"), 5) == (STABLE, "vip")
    assert rules.decide(request(outside, type="vip"), 60) == (CANARY, "vip")
    decision = rules.explain(request(inside, type="vip"), 5)
    assert (decision["share"], decision["bucket"]) == (50, targeting.user_bucket(inside))


def test_weight_zero_sends_every_unforced_request_to_stable_even_with_share_100():
    rules = Targeting(spec({"name": "internal", "match": {"internal": True}, "share": 100}))
    assert rules.decide(request(internal=True), 0) == (STABLE, "internal")
    assert rules.decide(request(internal=True), 1) == (CANARY, "internal")


def test_a_request_without_user_id_uses_the_fallback_else_only_whole_shares():
    rules = Targeting(
        spec(
            {"name": "internal", "match": {"internal": True}, "share": 100},
            {"name": "everyone", "share": "stage"},
        )
    )
    anonymous = {"headers": {"X-User-Internal": "true"}}
    assert rules.decide(anonymous, 5) == (CANARY, "internal")
    assert rules.decide({"headers": {}}, 99) == (STABLE, "everyone")
    assert rules.decide({"headers": {}}, 100) == (CANARY, "everyone")
    fallback = bucket_user(0, 4)
    assert rules.decide({"headers": {}, "user_id": fallback}, 5) == (CANARY, "everyone")
    # The request's own id wins over the fallback.
    own = {"headers": {"X-User-Id": bucket_user(90, 99)}, "user_id": fallback}
    assert rules.decide(own, 5) == (STABLE, "everyone")


def test_the_default_spec_is_the_header_then_the_weight():
    default = targeting.default_spec("X-Force")
    for n in range(2000):
        user = f"user-{n}"
        expected = CANARY if targeting.in_canary(user, 20) else STABLE
        assert targeting.decide(default, {"headers": {"X-User-Id": user}}, 20) == (
            expected,
            "weight",
        )
    forced = {"headers": {"X-User-Id": "u", "x-force": "always"}}
    assert targeting.decide(default, forced, 0) == (CANARY, "forced")


# --- kinds and completion -------------------------------------------------------------


def test_rule_kinds_and_normalize():
    raw = spec(
        {"match": {"type": "vip"}, "share": 50},
        {"name": "north", "match": {"type": "normal"}, "regions": ["beijing"]},
        {"regions": ["shanghai"], "share": 20},
        {"name": "rest"},
    )
    assert targeting.validate(raw) == []
    assert targeting.rule_kinds(raw) == {"header", "cookie", "attribute", "region", "hash"}
    assert [targeting.kinds_of(r) for r in raw["rules"][2:]] == [
        {"attribute"},
        {"attribute", "region"},
        {"region"},
        {"hash"},
    ]
    normalized = targeting.normalize(raw)
    assert [r["name"] for r in normalized["rules"]] == [
        "forced",
        "forced by cookie",
        "rules[2]",
        "north",
        "rules[4]",
        "rest",
    ]
    assert [r.get("share") for r in normalized["rules"]] == [None, None, 50, "stage", 20, "stage"]
    assert normalized["attributes"] == targeting.DEFAULT_ATTRIBUTES
    assert targeting.validate(normalized) == []
    assert raw["rules"][2] == {"match": {"type": "vip"}, "share": 50}


# --- validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ([], "canary.traffic.targeting: must be a mapping with rules"),
        ({"rules": []}, "canary.traffic.targeting.rules: must list one or more rules"),
        ({"rules": [{"share": 5}], "weights": 1}, "canary.traffic.targeting.weights: unknown"),
        ({"rules": ["vip"]}, "canary.traffic.targeting.rules[0]: must be a mapping"),
        ({"rules": [{"share": 120}]}, "canary.traffic.targeting.rules[0].share: must be 'stage'"),
        ({"rules": [{"share": True}]}, "canary.traffic.targeting.rules[0].share: must be 'stage'"),
        (
            {"rules": [{"share": "half"}]},
            "canary.traffic.targeting.rules[0].share: must be 'stage'",
        ),
        ({"rules": [{"share": 5, "min": 1}]}, "rules[0].min: only bounds a share of 'stage'"),
        ({"rules": [{"min": 60, "max": 50}]}, "rules[0].min: 60 is greater than max 50"),
        ({"rules": [{"max": 101}]}, "rules[0].max: must be a whole percentage 0-100, got 101"),
        ({"rules": [{"weight": 5}]}, "canary.traffic.targeting.rules[0].weight: unknown"),
        ({"rules": [{"name": ""}]}, "rules[0].name: must be a non-empty string"),
        ({"rules": [{"header": "X Canary"}]}, "rules[0].header: must be a header name"),
        ({"rules": [{"header": "X-C", "cookie": "c"}]}, "rules[0]: a rule forces by a header or"),
        (
            {"rules": [{"cookie": "c", "share": 5}]},
            "rules[0].share: a cookie rule forces the track",
        ),
        ({"rules": [{"match": {}}]}, "rules[0].match: must map one or more attributes"),
        ({"rules": [{"match": {"plan": "gold"}}]}, "rules[0].match.plan: unknown attribute"),
        ({"rules": [{"match": {"user_id": "u"}}]}, "rules[0].match.user_id: the user id is"),
        ({"rules": [{"match": {"region": "bj"}}]}, "rules[0].match.region: use the rule's regions"),
        ({"rules": [{"match": {"level": {"least": 5}}}]}, "rules[0].match.level.least: unknown"),
        (
            {"rules": [{"match": {"level": {"min": "5"}}}]},
            "rules[0].match.level.min: must be a whole",
        ),
        ({"rules": [{"match": {"level": {"min": 6, "max": 5}}}]}, "match.level: min 6 is greater"),
        ({"rules": [{"match": {"type": []}}]}, "rules[0].match.type: a list must hold one or more"),
        ({"rules": [{"match": {"type": 1.5}}]}, "rules[0].match.type: must be true/false"),
        ({"rules": [{"regions": "beijing"}]}, "rules[0].regions: must list one or more region"),
        ({"rules": [{"name": "a"}, {"name": "a", "share": 5}]}, "rules[1]: can never match"),
        (
            {"rules": [{"name": "a", "regions": ["x"]}, {"name": "a"}]},
            "rules[1].name: 'a' is already the name of rules[0]",
        ),
        ({"attributes": [], "rules": [{}]}, "targeting.attributes: must be a mapping"),
        (
            {"attributes": {"Plan": {"header": "X"}}, "rules": [{}]},
            "attributes.Plan: attribute names",
        ),
        ({"attributes": {"plan": {}}, "rules": [{}]}, "attributes.plan: must give a header"),
        ({"attributes": {"plan": {"query": "p"}}, "rules": [{}]}, "attributes.plan.query: unknown"),
        (
            {"attributes": {"plan": {"cookie": "a b"}}, "rules": [{}]},
            "plan.cookie: must be a cookie",
        ),
    ],
)
def test_bad_specs_name_the_field(bad, error):
    errors = targeting.validate(bad)
    assert any(error in e for e in errors), errors
    with pytest.raises(ValueError, match=r"canary\.traffic\.targeting"):
        Targeting(bad)


def test_every_problem_is_reported_at_once_under_the_given_field():
    errors = targeting.validate(
        {"rules": [{"share": 101}, {"match": {"plan": "x"}}]}, "options.targeting"
    )
    assert errors == [
        "options.targeting.rules[0].share: must be 'stage' or a whole percentage 0-100, got 101",
        "options.targeting.rules[1].match.plan: unknown attribute; declare it under attributes "
        "or use one of active, internal, level, type",
    ]
