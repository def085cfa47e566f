"""The canary pods' resource use against their limits, from the fake Prometheus."""

import pytest
from ansible.module_utils.validation import resources

VARIABLES = {"canary_namespace": "shop-canary", "window": "1m"}


def check(url, options):
    settings = resources.prepare(options, VARIABLES)
    return resources.check_resources(settings, {"url": url, "timeout": 2, "validate_certs": True})


def test_defaults_are_the_plans_and_aim_at_the_canary_namespace():
    settings = resources.prepare({"cpu": {}, "memory": None}, VARIABLES)
    assert (settings["cpu"]["max"], settings["memory"]["max"]) == (0.8, 0.85)
    assert 'namespace="shop-canary"' in settings["cpu"]["query"]
    assert "[1m]" in settings["cpu"]["query"]


def test_usage_within_the_limit_passes_and_above_fails(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "0.5")
    fake_prometheus.respond_vector(
        "prom", "0.9", query=resources.prepare({"memory": {}}, VARIABLES)["memory"]["query"]
    )
    outcome = check(url, {"cpu": {}, "memory": {}})
    assert outcome["results"]["cpu"]["result"] == "pass"
    assert outcome["results"]["memory"]["result"] == "fail"
    assert outcome["failures"] == ["resources.memory: 90.0% of the limit > max 85%"]


def test_missing_metrics_skip_the_check_with_a_reason(fake_prometheus):
    url = fake_prometheus.respond_vector("prom")
    outcome = check(url, {"cpu": {}})
    assert outcome["failures"] == []
    assert outcome["results"]["cpu"]["result"] == "skipped"
    assert "no data" in outcome["results"]["cpu"]["reason"]


def test_a_query_error_fails(refused_url):
    outcome = check(refused_url, {"cpu": {}})
    assert outcome["results"]["cpu"]["result"] == "fail"
    assert outcome["failures"][0].startswith("resources.cpu: query failed: ")


def test_a_custom_query_is_a_template(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "0.1")
    check(url, {"cpu": {"query": 'app_cpu{ns="{{ canary_namespace }}"}', "max": 0.5}})
    assert fake_prometheus.requests[0]["query"] == 'app_cpu{ns="shop-canary"}'


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"disk": {}}, "disk: unknown resource"),
        ({"cpu": {"limit": 1}}, "cpu: unknown field(s) limit"),
        ({"cpu": {"max": 85}}, "cpu.max: 85 is not a share between 0 and 1"),
        ({"cpu": {"query": "x{{ nope }}"}}, "cpu.query: cannot render"),
    ],
)
def test_bad_options_name_the_field(options, message):
    with pytest.raises(ValueError, match=None) as caught:
        resources.prepare(options, VARIABLES)
    assert str(caught.value).startswith(message)
