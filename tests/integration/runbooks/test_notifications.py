"""Notifications from the runbooks on the sandbox, to a local receiver.

A webhook receives every event with its whole context, so the tests read the order of
events and their reasons. The rollback's Alertmanager alert is in test_operations.
"""

import pytest

from sandbox.releases import HEALTHY_IMAGE, SEED_IMAGE
from tests.bad_specs import merged

from .conftest import run_playbook
from .test_bad_input import spec_file

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

NEVER_READY_IMAGE = "yyc3/short-drama-frontend:1.2.0-never-ready"
SECRET_HEADER = "Bearer SECRET-webhook-token"


def webhook(receiver, **change):
    """A spec whose notifications go to ``receiver`` as a webhook with a secret header."""
    section = {
        "webhook": {"url": receiver.url + "/hook", "headers": {"Authorization": SECRET_HEADER}}
    }
    return merged(change, merged({"notifications": section}))


def payloads(receiver):
    return [request["json"] for request in receiver.received]


def test_canary_that_never_becomes_ready_notifies_not_ready_then_the_rollback(
    cluster, tmp_path, receiver
):
    spec = spec_file(tmp_path, webhook(receiver, rollout_timeout="6s"))
    code, output = run_playbook(
        "release.yml", "-e", spec, "-e", f"canary_image={NEVER_READY_IMAGE}"
    )
    assert code != 0
    canary = "deployment yyc3-short-drama-canary/frontend-deployment-canary"
    assert f"frontend rolled back: {canary} did not finish its rollout" in output
    assert "SECRET" not in output
    assert receiver.events() == ["not_ready", "rolled_back"]
    not_ready, rolled_back = payloads(receiver)
    assert (not_ready["stage"], not_ready["weight"], not_ready["image"]) == (
        0,
        0,
        NEVER_READY_IMAGE,
    )
    assert not_ready["severity"] == "critical"
    assert not_ready["reason"].startswith(
        f"{canary} did not finish its rollout within 6s (rollout_timeout): "
    )
    assert "0 available" in not_ready["reason"]
    assert not_ready["text"] == f"[frontend] not_ready: {not_ready['summary']}"
    assert rolled_back["reason"] == not_ready["reason"]
    assert all(r["headers"]["Authorization"] == SECRET_HEADER for r in receiver.received)
    ledger = cluster.ledger()
    assert ledger["status"] == "rolled_back" and ledger["stage"] == 0
    assert cluster.weight() == 0
    assert cluster.stable_image() == SEED_IMAGE


def test_successful_release_notifies_its_promotion(cluster, tmp_path, receiver):
    stages = [{"weight": 50, "replicas": 1, "bake": "2s"}, {"weight": 100, "bake": "2s"}]
    change = {
        "stages": stages,
        "analysis": {"initial_delay": "4s"},
        "notifications": {"template": "{service} {event} {stage}/{stages} {image}: {reason}"},
    }
    spec = spec_file(tmp_path, webhook(receiver, **change))
    code, output = run_playbook("release.yml", "-e", spec)
    assert code == 0, output
    assert cluster.ledger()["status"] == "promoted"
    assert receiver.events() == [
        "stage_started",
        "stage_passed",
        "stage_started",
        "stage_passed",
        "promoted",
    ]
    started = payloads(receiver)[2]
    assert (started["stage"], started["weight"]) == (2, 100)
    promoted = payloads(receiver)[-1]
    assert promoted["text"] == f"frontend promoted 2/2 {HEALTHY_IMAGE}: every stage passed"
    assert promoted["severity"] == "info"


def test_a_held_stage_notifies_held_and_nothing_is_rolled_back(cluster, tmp_path, receiver):
    change = {
        "stages": [{"weight": 5, "bake": "6s"}],
        "analysis": {"initial_delay": "4s", "hold_timeout": "4s"},
    }
    spec = spec_file(tmp_path, webhook(receiver, **change))
    image = "yyc3/short-drama-frontend:1.2.0-sluggish"
    code, output = run_playbook("release.yml", "-e", spec, "-e", f"canary_image={image}")
    assert code != 0
    assert receiver.events() == ["stage_started", "held"]
    held = payloads(receiver)[-1]
    assert (held["stage"], held["weight"], held["severity"]) == (1, 5, "warning")
    assert "latency_p99_important" in held["reason"]
    assert cluster.ledger()["status"] == "paused"
    code, output = run_playbook("rollback.yml", "-e", spec)
    assert code == 0, output
    assert receiver.events()[-1] == "rolled_back"
