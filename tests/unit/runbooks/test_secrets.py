import pytest
from ansible.module_utils import secrets

SPEC = {
    "service": "frontend",
    "validation": {"url": "http://x", "load": {"path": "/login", "body": {"password": "pw"}}},
    "analysis": {"prometheus": {"url": "http://p", "bearer_token": "t0ken", "password": None}},
    "notifications": {"slack": {"url": "https://hooks/s3cret", "channel": "#ops"}},
}


def test_split_keeps_the_secrets_apart_and_leaves_the_spec_alone():
    public, found = secrets.split(SPEC)
    assert found == {
        "validation.load.body": {"password": "pw"},
        "analysis.prometheus.bearer_token": "t0ken",
        "notifications.slack.url": "https://hooks/s3cret",
    }
    assert "pw" not in str(public) and "t0ken" not in str(public) and "s3cret" not in str(public)
    assert public["notifications"]["slack"] == {"channel": "#ops"}
    assert SPEC["analysis"]["prometheus"]["bearer_token"] == "t0ken"


def test_merge_puts_them_back():
    public, found = secrets.split(SPEC)
    merged = secrets.merge(public, found)
    assert merged["analysis"]["prometheus"]["bearer_token"] == "t0ken"
    assert merged["notifications"]["slack"]["url"] == "https://hooks/s3cret"
    assert merged["validation"]["load"]["body"] == {"password": "pw"}


def test_merge_creates_sections_the_public_spec_lacks():
    merged = secrets.merge({"service": "x"}, {"notifications.webhook.headers": {"A": "b"}})
    assert merged == {"service": "x", "notifications": {"webhook": {"headers": {"A": "b"}}}}


def test_an_unknown_secret_is_an_error_naming_it():
    with pytest.raises(ValueError, match=r"secrets: unknown field\(s\) analysis.prometheus.token"):
        secrets.merge({}, {"analysis.prometheus.token": "x"})


def test_a_spec_without_secret_sections_splits_cleanly():
    assert secrets.split({"service": "x", "analysis": None}) == (
        {"service": "x", "analysis": None},
        {},
    )


def test_journey_steps_keep_everything_but_their_bodies_and_headers():
    spec = {
        "validation": {
            "journeys": [
                {
                    "name": "yyc3",
                    "steps": [
                        {"name": "login", "path": "/login", "body": {"password": "pw"}},
                        {"name": "list", "path": "/list", "headers": {"A": "Bearer {t}"}},
                    ],
                }
            ]
        }
    }
    public, found = secrets.split(spec)
    assert found == {
        "validation.journeys.0.steps.0.body": {"password": "pw"},
        "validation.journeys.0.steps.1.headers": {"A": "Bearer {t}"},
    }
    assert public["validation"]["journeys"][0]["steps"] == [
        {"name": "login", "path": "/login"},
        {"name": "list", "path": "/list"},
    ]
    assert secrets.merge(public, found) == spec


def test_a_secret_for_a_step_that_is_not_there_is_an_error():
    with pytest.raises(ValueError, match=r"validation\.journeys\.3\.steps\.0\.body has no place"):
        secrets.merge({"validation": {"journeys": []}}, {"validation.journeys.3.steps.0.body": 1})
