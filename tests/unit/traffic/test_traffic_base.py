"""What every provider shares: options from the release, rule kinds, targeting limits."""

import pytest
from ansible.module_utils.spec import validate_release
from ansible.module_utils.traffic import PROVIDERS, TrafficError, make_provider
from ansible.module_utils.traffic.base import forced_rules, single_forcing, weight_problems

from tests.bad_specs import merged

KINDS = {"header", "cookie", "attribute", "region", "hash"}
TARGETING = {
    "rules": [
        {"name": "forced", "header": "X-Canary"},
        {"name": "forced by cookie", "cookie": "canary"},
        {"name": "internal", "match": {"internal": True}, "share": 100},
        {"name": "first regions", "regions": ["beijing"], "share": "stage"},
        {"name": "everyone else", "share": "stage"},
    ]
}


@pytest.mark.parametrize(
    ("provider", "expressed"),
    [
        ("configmap", KINDS),
        ("gateway_api", {"header", "hash"}),
        ("ingress_nginx", {"header", "cookie", "hash"}),
        ("istio", {"header", "cookie", "hash"}),
        ("openshift_route", {"hash"}),
        ("replicas", {"hash"}),
    ],
)
def test_what_each_router_can_express(provider, expressed):
    unsupported = PROVIDERS[provider].unsupported_kinds(KINDS)
    assert set(unsupported) == KINDS - expressed
    assert all(isinstance(reason, str) and reason for reason in unsupported.values())


def test_the_spec_check_names_the_rules_a_router_cannot_express():
    raw = merged(
        {"traffic": {"provider": "gateway_api", "targeting": TARGETING}},
    )
    _, errors = validate_release(raw)
    assert [error.split(":")[0] for error in errors] == [
        "canary.traffic.targeting.rules[1]",
        "canary.traffic.targeting.rules[2]",
        "canary.traffic.targeting.rules[3]",
    ]
    assert errors[0].startswith(
        "canary.traffic.targeting.rules[1]: gateway_api cannot express cookie rules: HTTPRoute "
        "matches headers, not one cookie"
    )


def test_options_come_from_the_release_and_explicit_ones_win():
    spec, errors = validate_release(
        merged({"traffic": {"provider": "istio", "istio": {"name": "edge", "cookie": "beta"}}})
    )
    assert errors == []
    assert spec["traffic"]["options"] == {
        "name": "edge",
        "namespace": "yyc3-short-drama",
        "api_version": "networking.istio.io/v1",
        "stable_service": "frontend",
        "canary_service": "frontend-canary",
        "canary_namespace": "yyc3-short-drama-canary",
        "cluster_domain": "cluster.local",
        "header": "X-Canary",
        "cookie": "beta",
    }


def test_resolving_without_a_release_keeps_the_given_options():
    options = PROVIDERS["gateway_api"].resolve_options({"name": "web"}, "shop")
    assert options == {"name": "web", "namespace": "shop", "reference_grant": True}


def test_a_direct_call_without_the_release_options_says_what_is_missing():
    with pytest.raises(TrafficError) as raised:
        make_provider(None, "openshift_route", {"name": "web"}, "shop")
    assert str(raised.value) == (
        "the openshift_route provider needs the option(s) stable_service, canary_service; the "
        "release spec fills them from canary.workload and canary.canary_namespace"
    )


def test_forcing_rules_without_and_with_a_targeting_spec():
    assert forced_rules({"validation": {"canary_header": "X-Canary"}}) == [
        (0, "header", "X-Canary")
    ]
    release = {"traffic": {"targeting": TARGETING}}
    assert forced_rules(release) == [(0, "header", "X-Canary"), (1, "cookie", "canary")]
    assert single_forcing(release, "cookie", "istio") == ("canary", [])
    two_headers = {"traffic": {"targeting": {"rules": [{"header": "A"}, {"header": "B"}]}}}
    assert single_forcing(two_headers, "header", "istio") == (
        "A",
        [
            "canary.traffic.targeting.rules[1]: istio forces a track by one header (A); B would be a "
            "second"
        ],
    )


def test_a_weight_needs_a_last_rule_for_everyone():
    assert weight_problems({"traffic": {"targeting": TARGETING}}, "istio") == []
    assert weight_problems({"traffic": {}}, "istio") == []
    forced_only = {"traffic": {"targeting": {"rules": [{"header": "X-Canary"}]}}}
    assert weight_problems(forced_only, "istio") == [
        "canary.traffic.targeting.rules: the istio provider sends each stage's weight to everyone "
        "not forced; end the rules with a rule for everyone ({share: stage})"
    ]
