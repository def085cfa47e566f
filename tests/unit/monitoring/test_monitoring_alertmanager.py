"""Alertmanager routing: a route per tier under the service, receivers, inhibition."""

import copy

import pytest
from ansible.module_utils.monitoring.alertmanager import render_alertmanager
from ansible.module_utils.monitoring.promql import MonitoringError

from tests.monitoring_settings import RELEASE, settings


def config(**overrides):
    return render_alertmanager(RELEASE, settings(**overrides))


def receivers(**changes):
    result = copy.deepcopy(settings()["receivers"])
    for tier, change in changes.items():
        result[tier] = None if change is None else {**result[tier], **change}
    return result


def test_each_tier_routes_to_its_receiver_under_the_service():
    route = config()["route"]
    assert route["receiver"] == "frontend-low-noise"
    assert route["group_by"] == ["alertname", "namespace", "service", "track"]
    (service,) = route["routes"]
    assert service["matchers"] == ['service="frontend"', 'namespace="yyc3-short-drama"']
    assert service["routes"] == [
        {
            "matchers": ['severity="critical"'],
            "receiver": "frontend-pager",
            "group_wait": "10s",
            "group_interval": "1m",
            "repeat_interval": "30m",
        },
        {
            "matchers": ['severity="important"'],
            "receiver": "frontend-team",
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
        },
        {
            "matchers": ['severity="general"'],
            "receiver": "frontend-low-noise",
            "group_wait": "5m",
            "group_interval": "30m",
            "repeat_interval": "24h",
        },
    ]


def test_receivers_are_webhooks_from_the_role_variables():
    assert config()["receivers"] == [
        {
            "name": "frontend-pager",
            "webhook_configs": [
                {"url": "http://alert-webhooks.monitoring.svc:8080/pager", "send_resolved": True}
            ],
        },
        {
            "name": "frontend-team",
            "webhook_configs": [
                {"url": "http://alert-webhooks.monitoring.svc:8080/team", "send_resolved": True}
            ],
        },
        {
            "name": "frontend-low-noise",
            "webhook_configs": [
                {
                    "url": "http://alert-webhooks.monitoring.svc:8080/low-noise",
                    "send_resolved": False,
                }
            ],
        },
    ]


def test_a_more_urgent_tier_inhibits_the_same_alert_of_a_less_urgent_one():
    equal = ["alertname", "namespace", "service", "track"]
    assert config()["inhibit_rules"] == [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity=~"important|general"'],
            "equal": equal,
        },
        {
            "source_matchers": ['severity="important"'],
            "target_matchers": ['severity="general"'],
            "equal": equal,
        },
    ]


def test_two_tiers_may_share_a_receiver():
    team = {"name": "team", "url": "https://chat.example.com/hook", "send_resolved": True}
    rendered = config(receivers=receivers(important=team, general=team))
    assert [r["name"] for r in rendered["receivers"]] == ["frontend-pager", "frontend-team"]
    assert rendered["route"]["receiver"] == "frontend-team"


def test_a_shared_receiver_name_needs_the_same_webhook():
    with pytest.raises(MonitoringError) as error:
        config(receivers=receivers(general={"name": "team"}))
    assert "receivers.general.name: frontend-team is already a receiver" in str(error.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"receivers": receivers(critical={"url": "pager.example.com/token-123"})},
            "receivers.critical.url: required, an http:// or https:// URL with a host",
        ),
        ({"receivers": receivers(important=None)}, "receivers.important: required"),
        ({"receivers": receivers(general={"name": " "})}, "receivers.general.name: required"),
        (
            {"receivers": receivers(critical={"repeat_interval": "half an hour"})},
            "receivers.critical.repeat_interval: 'half an hour' is not a positive Prometheus",
        ),
        (
            {"receivers": receivers(critical={"channel": "#ops"})},
            "receivers.critical: unknown field(s) channel",
        ),
        ({"receivers": {**receivers(), "urgent": {}}}, "receivers.urgent: unknown tier"),
        ({"group_by": ["alertname", "team-name"]}, "group_by: 'team-name' is not a label name"),
    ],
)
def test_bad_settings_name_the_field(overrides, message):
    with pytest.raises(MonitoringError) as error:
        config(**overrides)
    assert message in str(error.value)


def test_a_bad_webhook_url_is_never_repeated():
    with pytest.raises(MonitoringError) as error:
        config(receivers=receivers(critical={"url": "pager.example.com/token-123"}))
    assert "token-123" not in str(error.value)
