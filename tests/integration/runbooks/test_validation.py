"""The validation suite at each stage in the sandbox: journeys, load test, security headers.

The faulty builds are sandbox images (sandbox/images.yaml) whose fault only the suite
sees before any traffic moves: the content list breaks for signed-in users only, the
app slows down only under load, a security header is dropped. Each fails stage 1's
validation, before the canary takes its 5 %, and the release is rolled back. The sandbox
inventory has no load test (it would catch the analysis tests' faulty builds first), so
these runs use its spec with one added.
"""

import pytest

from sandbox.releases import HEALTHY_IMAGE, SEED_IMAGE, spec_with_load_test

from .conftest import run_playbook
from .test_bad_input import spec_file

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def with_load(tmp_path, bake="2s"):
    """The sandbox inventory's spec with the load test, and short stages, as a -e file."""
    return spec_file(tmp_path, spec_with_load_test(bake))


def release_fails_validation(cluster, image, *evidence, spec=None):
    extra = ("-e", spec) if spec else ()
    code, output = run_playbook(
        "release.yml", *extra, "-e", f"canary_image=yyc3/short-drama-frontend:{image}"
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


def test_a_healthy_canary_passes_the_load_test_on_both_tracks(cluster, tmp_path):
    code, output = run_playbook(
        "release.yml", "-e", with_load(tmp_path), "-e", f"canary_image={HEALTHY_IMAGE}"
    )
    assert code == 0, output
    started = [e for e in cluster.ledger()["history"] if e["event"] == "stage_started"]
    assert len(started) == 4
    for event in started:
        assert "errors 0.00%" in event["validation"]["load"], event


def test_a_canary_slow_only_under_load_fails_the_load_test(cluster, tmp_path):
    release_fails_validation(
        cluster, "1.2.0-slow-under-load", "load: latency_p95 = ", spec=with_load(tmp_path)
    )


def test_a_dropped_security_header_fails_the_security_check(cluster):
    release_fails_validation(
        cluster, "1.2.0-no-frame-options", "security: headers.X-Frame-Options: missing"
    )
