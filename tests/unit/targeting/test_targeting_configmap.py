"""The configmap provider publishes the targeting spec beside the weight, for the application."""

import json

import pytest
from ansible.module_utils.spec import validate_release
from ansible.module_utils.traffic import TrafficError, make_provider

from tests.bad_specs import merged
from tests.unit.runbooks.fakes import FakeCluster

from .plan import plan_targeting


def traffic_config(**data):
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "traffic-config", "namespace": "yyc3-short-drama"},
        "data": {"canary_percentage": "0", "theme": "dark", **data},
    }


def release():
    spec, errors = validate_release(merged({"traffic": {"targeting": plan_targeting()}}))
    assert errors == []
    return spec


def provider(cluster, options):
    return make_provider(cluster, "configmap", options, "yyc3-short-drama")


def data(cluster):
    return cluster.get("v1", "ConfigMap", "traffic-config", "yyc3-short-drama")["data"]


def test_the_spec_is_published_with_the_weight_in_one_write_and_only_once():
    cluster = FakeCluster()
    cluster.add(traffic_config())
    options = release()["traffic"]["options"]
    configmap = provider(cluster, options)
    assert configmap.set_weight(5) == (0, 5, True)
    assert cluster.writes == 1
    published = data(cluster)
    assert published["canary_percentage"] == "5"
    assert published["theme"] == "dark"
    assert json.loads(published["targeting"]) == options["targeting"]
    assert configmap.set_weight(5) == (5, 5, False)
    assert configmap.set_weight(0) == (5, 0, True)
    assert json.loads(data(cluster)["targeting"]) == options["targeting"]
    assert cluster.writes == 2


def test_a_spec_removed_by_hand_comes_back_at_the_same_weight_and_reindenting_is_kept():
    cluster = FakeCluster()
    options = release()["traffic"]["options"]
    cluster.add(traffic_config(canary_percentage="20"))
    assert provider(cluster, options).set_weight(20) == (20, 20, True)
    compact = json.dumps(options["targeting"], separators=(",", ":"))
    cluster.add(traffic_config(canary_percentage="20", targeting=compact))
    writes = cluster.writes
    assert provider(cluster, options).set_weight(20) == (20, 20, False)
    assert cluster.writes == writes
    assert data(cluster)["targeting"] == compact


def test_without_a_spec_an_earlier_one_is_removed():
    cluster = FakeCluster()
    cluster.add(traffic_config(canary_percentage="50", targeting='{"rules": []}'))
    configmap = provider(cluster, {"name": "traffic-config"})
    assert configmap.preview(50) == (
        {"weight": 50, "targeting": {"rules": []}},
        {"weight": 50, "targeting": None},
    )
    assert configmap.set_weight(50) == (50, 50, True)
    assert "targeting" not in data(cluster)
    assert configmap.set_weight(50) == (50, 50, False)


def test_check_mode_writes_nothing_and_the_preview_shows_the_change():
    cluster = FakeCluster(dry_run=True)
    cluster.add(traffic_config(targeting="not json"))
    options = release()["traffic"]["options"]
    configmap = provider(cluster, options)
    before, after = configmap.preview(20)
    assert before == {"weight": 0, "targeting": "not json"}
    assert after == {"weight": 20, "targeting": options["targeting"]}
    assert configmap.set_weight(20) == (0, 20, True)
    assert data(cluster)["targeting"] == "not json"


def test_a_custom_key_and_the_errors_name_the_option():
    cluster = FakeCluster()
    cluster.add(traffic_config())
    options = {**release()["traffic"]["options"], "targeting_key": "rules.json"}
    provider(cluster, options).set_weight(5)
    assert "rules.json" in data(cluster)
    assert "targeting" not in data(cluster)
    with pytest.raises(TrafficError, match=r"options\.targeting_key: must differ"):
        provider(cluster, {"targeting_key": "canary_percentage"})
    with pytest.raises(TrafficError, match=r"options\.targeting\.rules\[0\]\.share"):
        provider(cluster, {"targeting": {"rules": [{"share": -1}]}})
    with pytest.raises(
        TrafficError, match=r"ConfigMap yyc3-short-drama/missing key canary_percentage does not"
    ):
        provider(cluster, {"name": "missing"}).preview(5)


def test_the_configmap_provider_expresses_every_kind():
    cluster = FakeCluster()
    kinds = {"header", "cookie", "attribute", "region", "hash"}
    assert provider(cluster, {}).unsupported_kinds(kinds) == {}
