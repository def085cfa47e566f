"""The validation suite at each stage in the sandbox: journeys, load test, security headers.

The faulty builds are sandbox images (sandbox/images.yaml) whose fault only the suite
sees before any traffic moves: the content list breaks for signed-in users only, the
app slows down only under load, a security header is dropped. Each fails stage 1's
validation, before the canary takes its 5 %, and the release is rolled back.
"""

import pytest

from sandbox.releases import SEED_IMAGE

from .conftest import run_playbook

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def release_fails_validation(cluster, image, *evidence):
    code, output = run_playbook(
        "release.yml", "-e", f"canary_image=yyc3/short-drama-frontend:{image}"
    )
    assert code != 0
    assert "frontend rolled back: The canary failed its validation: " in output, output
    ledger = cluster.ledger()
    assert (ledger["status"], ledger["stage"]) == ("rolled_back", 0), ledger
    for text in evidence:
        assert text in ledger["reason"], ledger["reason"]
    assert "password123" not in output
    # Validation runs before the stage takes its weight: no user ever saw this canary.
    assert not [e for e in ledger["history"] if e["event"] == "stage_started"]
    assert cluster.weight() == 0
    assert cluster.stable_image() == SEED_IMAGE
    return ledger


def test_a_journey_broken_for_signed_in_users_fails_the_stage(cluster):
    release_fails_validation(
        cluster,
        "1.2.0-broken-content",
        "journey 'yyc3': step 3 'content' (GET /api/content/list): status 500, expected 200",
    )


def test_a_canary_slow_only_under_load_fails_the_load_test(cluster):
    release_fails_validation(cluster, "1.2.0-slow-under-load", "load: latency_p95 = ")


def test_a_dropped_security_header_fails_the_security_check(cluster):
    release_fails_validation(
        cluster, "1.2.0-no-frame-options", "security: headers.X-Frame-Options: missing"
    )
