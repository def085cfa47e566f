"""The filters ``canary_bucket``, ``canary_in`` and ``canary_target``, in Python and in a play."""

import hashlib
import json
import os
import subprocess
import sys

import pytest
from ansible.module_utils import targeting

from filter_plugins.canary import FilterModule
from tests.conftest import PROJECT_ROOT

from .plan import SEGMENTS, STAGES, headers, plan_targeting

FILTERS = FilterModule().filters()


def test_bucket_and_in_are_the_plans_md5_rule():
    for user in ("user-000001", "13800138000", "ops@example.com"):
        bucket = int(hashlib.md5(user.encode()).hexdigest()[:8], 16) % 100
        assert FILTERS["canary_bucket"](user) == bucket
        assert FILTERS["canary_in"](user, str(bucket + 1)) is True
        assert FILTERS["canary_in"](user, bucket) is False


def test_target_is_the_decision_of_the_targeting_rules():
    spec = plan_targeting()
    for rule, attributes, shares in SEGMENTS:
        for n in range(100):
            request = {"headers": headers(f"{rule}-{n}", **attributes)}
            for weight in STAGES:
                found = FILTERS["canary_target"](request, spec, weight)
                assert found == targeting.explain(spec, request, weight)
                assert found["rule"] == rule
                share = shares[STAGES.index(weight)]
                assert found["share"] == share
                assert (found["track"] == "canary") == (found["bucket"] < share)


def test_target_of_a_user_id_without_targeting_is_the_header_then_the_weight():
    user = "user-000042"
    bucket = FILTERS["canary_bucket"](user)
    assert FILTERS["canary_target"](user, None, bucket + 1)["track"] == "canary"
    assert FILTERS["canary_target"](user, None, bucket) == {
        "track": "stable",
        "rule": "weight",
        "forced": False,
        "share": bucket,
        "bucket": bucket,
        "user_id": user,
    }
    forced = {"headers": {"X-Release": "always"}}
    assert FILTERS["canary_target"](forced, None, 0, canary_header="X-Release")["forced"]


def test_target_with_a_bad_spec_names_the_field():
    with pytest.raises(ValueError, match=r"canary_target: .*targeting\.rules\[0\]\.share"):
        FILTERS["canary_target"]("u", {"rules": [{"share": 150}]}, 5)


@pytest.mark.slow
def test_the_filters_work_in_a_play(tmp_path):
    vip = {"headers": headers("user-000007", type="vip", active=False, level=3, internal=False)}
    playbook = tmp_path / "filters.yml"
    playbook.write_text(
        json.dumps(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "vars": {"targeting": plan_targeting(), "vip": vip},
                    "tasks": [
                        {
                            "name": "Decide",
                            "ansible.builtin.debug": {
                                "msg": "{{ [vip | canary_target(targeting, 5), "
                                "'user-000007' | canary_bucket, 'user-000007' | canary_in(20)] }}"
                            },
                        }
                    ],
                }
            ]
        )
    )
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": os.path.join(PROJECT_ROOT, "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
    }
    run = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(playbook)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (result,) = json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"].values()
    decision, bucket, inside = result["msg"]
    assert decision == targeting.explain(plan_targeting(), vip, 5)
    assert decision["rule"] == "vip users"
    assert bucket == targeting.user_bucket("user-000007")
    assert inside is (bucket < 20)
