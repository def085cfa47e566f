import pytest
from ansible.module_utils.traffic import PROVIDERS, TrafficError, make_provider

from .fakes import FakeCluster


def traffic_config(value="0"):
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "traffic-config", "namespace": "shop"},
        "data": {"canary_percentage": value, "other": "kept"},
    }


def provider(cluster, **options):
    return make_provider(cluster, "configmap", {"name": "traffic-config", **options}, "shop")


def test_set_weight_reports_previous_and_is_idempotent():
    cluster = FakeCluster()
    cluster.add(traffic_config("5"))
    configmap = provider(cluster, key="canary_percentage")
    assert configmap.set_weight(20) == (5, 20, True)
    assert cluster.get("v1", "ConfigMap", "traffic-config", "shop")["data"] == {
        "canary_percentage": "20",
        "other": "kept",
    }
    writes = cluster.writes
    assert configmap.set_weight(20) == (20, 20, False)
    assert cluster.writes == writes


def test_missing_key_reads_as_zero_and_missing_object_as_none():
    cluster = FakeCluster()
    assert provider(cluster).read_weight() is None
    config = traffic_config()
    del config["data"]["canary_percentage"]
    cluster.add(config)
    assert provider(cluster).read_weight() == 0


def test_errors_name_the_object():
    cluster = FakeCluster()
    with pytest.raises(
        TrafficError, match="ConfigMap shop/traffic-config key canary_percentage does not exist"
    ):
        provider(cluster).set_weight(5)
    cluster.add(traffic_config("lots"))
    with pytest.raises(TrafficError, match="not a whole percentage"):
        provider(cluster).read_weight()
    with pytest.raises(TrafficError, match="between 0 and 100"):
        provider(cluster).set_weight(101)


def test_unknown_provider_lists_the_known_ones():
    with pytest.raises(TrafficError, match="choose one of configmap"):
        make_provider(FakeCluster(), "haproxy", {}, "shop")


def test_options_namespace_overrides_the_default():
    cluster = FakeCluster()
    config = traffic_config("7")
    config["metadata"]["namespace"] = "edge"
    cluster.add(config)
    assert provider(cluster, namespace="edge").read_weight() == 7


def test_every_provider_documents_its_options():
    for name, cls in PROVIDERS.items():
        assert cls.name == name and isinstance(cls.OPTIONS, dict)
