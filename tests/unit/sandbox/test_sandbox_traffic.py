"""Traffic readers: the ConfigMap weight, failing closed on anything odd."""

import pytest

from sandbox import traffic


@pytest.mark.parametrize(
    ("raw", "weight", "refused"),
    [("20", 20, False), (" 5 ", 5, False), ("0", 0, False), ("100", 100, False),
     ("20%", 0, True), ("abc", 0, True), ("", 0, True), (None, 0, True), ("101", 0, True),
     ("-1", 0, True), ("12.5", 0, True)],
)  # fmt: skip
def test_parse_weight(raw, weight, refused):
    value, problem = traffic.parse_weight(raw)
    assert value == weight
    assert bool(problem) == refused


class FakeClient:
    def __init__(self, objects):
        self.objects = objects

    def get(self, kind, namespace, name):
        return self.objects.get((kind, namespace, name))


def test_configmap_reader_reads_the_configured_key_and_header():
    reader = traffic.make_reader(
        {
            "provider": "configmap",
            "configmap": {"namespace": "ns", "name": "tc", "header": "X-Beta"},
        }
    )
    client = FakeClient({("ConfigMap", "ns", "tc"): {"data": {"canary_percentage": "50"}}})
    assert reader.read(client) == traffic.TrafficRules(50, "X-Beta", "")


def test_configmap_reader_fails_closed_when_missing_or_garbled():
    reader = traffic.make_reader({"provider": "configmap"})
    missing = reader.read(FakeClient({}))
    assert missing.weight == 0
    assert "not found" in missing.problem
    key = ("ConfigMap", "yyc3-short-drama", "traffic-config")
    garbled = reader.read(FakeClient({key: {"data": {"canary_percentage": "lots"}}}))
    assert (garbled.weight, garbled.canary_header) == (0, "X-Canary")
    assert "not an integer" in garbled.problem


def test_unknown_provider_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"configmap.*gateway_api.*istio.*replicas"):
        traffic.make_reader({"provider": "haproxy"})
