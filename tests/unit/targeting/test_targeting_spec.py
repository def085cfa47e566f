"""``canary.traffic.targeting`` in the release spec: checked, completed, handed to the provider."""

import pytest
from ansible.module_utils import spec as release_spec
from ansible.module_utils.spec import validate_release
from ansible.module_utils.targeting import DEFAULT_ATTRIBUTES
from ansible.module_utils.traffic.base import TrafficProvider
from ansible.module_utils.traffic.configmap import ConfigMapTraffic

from tests.bad_specs import merged

from .plan import plan_targeting


def with_targeting(targeting, **validation):
    change = {"traffic": {"targeting": targeting}}
    if validation:
        change["validation"] = validation
    return merged(change)


def test_without_targeting_nothing_is_published():
    spec, errors = validate_release(merged({}))
    assert errors == []
    assert spec["traffic"]["targeting"] is None
    assert "targeting" not in spec["traffic"]["options"]


def test_the_plans_targeting_is_completed_and_handed_to_the_provider():
    spec, errors = validate_release(with_targeting(plan_targeting()))
    assert errors == []
    completed = spec["traffic"]["targeting"]
    assert completed["attributes"] == DEFAULT_ATTRIBUTES
    assert [rule["name"] for rule in completed["rules"]][:3] == [
        "forced",
        "forced by cookie",
        "internal users",
    ]
    assert completed["rules"][-1] == {"name": "everyone else", "share": "stage"}
    assert spec["traffic"]["options"]["targeting"] == completed
    assert spec["traffic"]["options"]["targeting_key"] == "targeting"


@pytest.mark.parametrize(
    ("targeting", "error"),
    [
        (
            {"rules": [{"header": "X-Canary"}, {"share": 101}]},
            "canary.traffic.targeting.rules[1].share",
        ),
        ({"rules": "everyone"}, "canary.traffic.targeting.rules: must list one or more rules"),
        ({"rules": [{"header": "X-Canary"}], "rule": []}, "canary.traffic.targeting.rule: unknown"),
    ],
)
def test_a_bad_targeting_names_its_field(targeting, error):
    spec, errors = validate_release(with_targeting(targeting))
    assert spec is None
    assert any(e.startswith(error) for e in errors), errors


def test_the_forcing_header_of_the_validation_must_be_a_header_rule():
    rules = {"rules": [{"header": "X-Release"}, {"name": "everyone"}]}
    _, errors = validate_release(with_targeting(rules))
    assert errors == [
        "canary.traffic.targeting.rules: needs a header rule for validation.canary_header "
        "({header: X-Canary}): the validation and the rollback's check of stable force their "
        "track with it"
    ]
    spec, errors = validate_release(with_targeting(rules, canary_header="x-release"))
    assert errors == []
    assert spec["traffic"]["targeting"]["rules"][0] == {"name": "rules[0]", "header": "X-Release"}


class WeightRouter(ConfigMapTraffic):
    """A provider with the base class's default: header and hash rules only."""

    unsupported_kinds = classmethod(TrafficProvider.unsupported_kinds.__func__)


class NoRouter(ConfigMapTraffic):
    """A provider without a router, like replicas: not even a forcing header."""

    @classmethod
    def unsupported_kinds(cls, kinds):
        return {kind: "there is no router" for kind in kinds}


def test_rules_the_provider_cannot_express_are_refused_per_rule(monkeypatch):
    monkeypatch.setitem(release_spec.PROVIDERS, "configmap", WeightRouter)
    _, errors = validate_release(with_targeting(plan_targeting()))
    reason = "the configmap provider only splits by weight and forces a track by a header"
    assert errors == [
        f"canary.traffic.targeting.rules[1]: configmap cannot express cookie rules: {reason}",
        *(
            f"canary.traffic.targeting.rules[{i}]: configmap cannot express attribute rules: "
            f"{reason}"
            for i in range(2, 7)
        ),
        f"canary.traffic.targeting.rules[6]: configmap cannot express region rules: {reason}",
    ]
    header_and_hash = {"rules": [{"header": "X-Canary"}, {"name": "everyone"}]}
    assert validate_release(with_targeting(header_and_hash))[1] == []
    for bounded in ({"share": 30}, {"share": "stage", "max": 50}):
        fixed = {"rules": [{"header": "X-Canary"}, {"name": "everyone", **bounded}]}
        assert validate_release(with_targeting(fixed))[1] == [
            "canary.traffic.targeting.rules[1]: configmap splits the remaining users by the "
            "stage's weight; a fixed share, min or max needs the configmap provider"
        ]


def test_without_a_router_the_header_rule_is_refused_not_required(monkeypatch):
    monkeypatch.setitem(release_spec.PROVIDERS, "configmap", NoRouter)
    _, errors = validate_release(with_targeting({"rules": [{"name": "everyone"}]}))
    assert errors == [
        "canary.traffic.targeting.rules[0]: configmap cannot express hash rules: there is no router"
    ]


def test_the_raw_spec_is_left_as_it_was():
    raw = with_targeting(plan_targeting())
    before = repr(raw)
    validate_release(raw)
    assert repr(raw) == before
