"""The rollout predicate (kubectl rollout status' semantics), the pods check, the wait loop."""

import pytest
from ansible.module_utils.rollout import (
    RolloutFailed,
    change,
    describe,
    label_selector,
    progress,
    status,
    stray_pods,
    wait,
)

from tests.unit.runbooks.fakes import FakeClock

NEW, OLD = "frontend:1.1.0", "frontend:1.0.0"


def deployment(desired=2, generation=4, image=NEW, **status_fields):
    return {
        "metadata": {"name": "frontend-deployment", "generation": generation},
        "spec": {
            "replicas": desired,
            "selector": {"matchLabels": {"app": "frontend"}},
            "template": {
                "metadata": {"labels": {"app": "frontend"}},
                "spec": {
                    "containers": [
                        {"name": "proxy", "image": "envoy:1"},
                        {"name": "frontend", "image": image},
                    ]
                },
            },
        },
        "status": status_fields,
    }


def complete(replicas=2, image=NEW, **extra):
    return deployment(
        replicas,
        image=image,
        observedGeneration=4,
        replicas=replicas,
        updatedReplicas=replicas,
        readyReplicas=replicas,
        availableReplicas=replicas,
        **extra,
    )


def pod(name, image=NEW, **fields):
    return {
        "metadata": {"name": name, **fields.pop("metadata", {})},
        "spec": {
            "containers": [
                {"name": "proxy", "image": "envoy:1"},
                {"name": "frontend", "image": image},
            ]
        },
        "status": fields,
    }


def test_a_complete_rollout_is_done():
    assert status(complete()) == (
        True,
        "2 of 2 replicas updated, 2 available, observedGeneration 4 of 4",
    )


def test_old_replicas_ready_are_not_a_finished_rollout():
    # What kubernetes.core's deployment_ready() passes: every replica ready, none updated.
    stuck = deployment(
        observedGeneration=4, replicas=3, updatedReplicas=1, readyReplicas=2, availableReplicas=2
    )
    assert status(stuck) == (
        False,
        "1 of 2 replicas updated, 2 available, 2 old still running, observedGeneration 4 of 4",
    )


def test_a_spec_the_controller_has_not_observed_is_not_done():
    seen_before = complete()
    seen_before["metadata"]["generation"] = 5
    assert status(seen_before) == (
        False,
        "2 of 2 replicas updated, 2 available, observedGeneration 4 of 5",
    )


def test_replicas_still_terminating_are_not_done():
    assert status(complete(terminatingReplicas=1)) == (
        False,
        "2 of 2 replicas updated, 2 available, 1 terminating, observedGeneration 4 of 4",
    )


def test_updated_but_unavailable_replicas_are_not_done():
    done, _ = status(deployment(observedGeneration=4, replicas=2, updatedReplicas=2))
    assert done is False


def test_replicas_default_to_one_and_zero_counts_are_omitted():
    single = complete(replicas=1)
    del single["spec"]["replicas"]
    assert status(single)[0] is True
    assert status(deployment(None, observedGeneration=4)) == (
        False,
        "0 of 1 replicas updated, 0 available, observedGeneration 4 of 4",
    )


def test_a_deployment_scaled_to_zero_is_done_without_status_counts():
    assert status(deployment(0, observedGeneration=4))[0] is True


def test_a_paused_rollout_says_so():
    paused = deployment(observedGeneration=4, replicas=2, updatedReplicas=0, availableReplicas=2)
    paused["spec"]["paused"] = True
    assert describe(paused).endswith("observedGeneration 4 of 4, rollout paused")


def test_pods_the_api_server_refuses_are_shown_in_its_words():
    refused = (
        'pods "frontend-canary-5d8f-x2" is forbidden: violates PodSecurity "restricted:latest": '
        'allowPrivilegeEscalation != false (container "frontend" must set '
        "securityContext.allowPrivilegeEscalation=false)"
    )
    failing = deployment(observedGeneration=4, replicas=0, updatedReplicas=0)
    failing["status"]["conditions"] = [
        {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"},
        {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": refused},
    ]
    assert status(failing) == (
        False,
        f"0 of 2 replicas updated, 0 available, observedGeneration 4 of 4, pods not created: {refused}",
    )
    failing["status"]["conditions"][1]["status"] = "False"  # gone: nothing more is said
    assert status(failing)[1].endswith("observedGeneration 4 of 4")


def deadline(observed):
    condition = {
        "type": "Progressing",
        "status": "False",
        "reason": "ProgressDeadlineExceeded",
        "message": 'ReplicaSet "frontend-deployment-7d4b9" has timed out progressing.',
    }
    return deployment(
        observedGeneration=observed,
        replicas=3,
        updatedReplicas=1,
        availableReplicas=2,
        conditions=[{"type": "Available", "status": "True"}, condition],
    )


def test_an_exceeded_progress_deadline_fails_with_the_deployments_message():
    with pytest.raises(RolloutFailed) as failed:
        status(deadline(observed=4))
    assert str(failed.value) == (
        'exceeded its progress deadline: ReplicaSet "frontend-deployment-7d4b9" has timed out '
        "progressing. (1 of 2 replicas updated, 2 available, 2 old still running, "
        "observedGeneration 4 of 4)"
    )


def test_the_deadline_of_an_older_generation_does_not_fail_the_new_one():
    assert status(deadline(observed=3))[0] is False


def test_stray_pods_are_the_running_ones_on_another_image():
    pods = [
        pod("a"),
        pod("b", OLD),
        pod("c", OLD, metadata={"deletionTimestamp": "2026-01-01T00:00:00Z"}),
        pod("d", OLD, phase="Failed"),
        pod("e", OLD, phase="Succeeded"),
        pod("f", OLD, phase="Running"),
        {
            "metadata": {"name": "g"},
            "spec": {"containers": [{"name": "proxy", "image": "envoy:1"}]},
        },
    ]
    assert stray_pods(pods, "frontend", NEW) == [
        f"b ({OLD})",
        f"f ({OLD})",
        "g (no container frontend)",
    ]


def test_progress_waits_for_pods_still_on_the_old_image():
    pods = [pod(f"frontend-{i}", OLD) for i in range(5)] + [pod("frontend-new")]
    assert progress(complete(), pods, "frontend") == (
        False,
        "2 of 2 replicas updated, 2 available, observedGeneration 4 of 4; 5 pod(s) not on "
        f"{NEW}: frontend-0 ({OLD}), frontend-1 ({OLD}), frontend-2 ({OLD}) and 2 more",
    )
    assert progress(complete(), [pod("frontend-new")], "frontend")[0] is True


def test_progress_checks_the_first_container_when_none_is_named():
    assert progress(complete(), [pod("a")])[0] is True
    assert progress(complete(), [pod("a")], "frontend")[0] is True


def test_label_selector_as_a_query():
    selector = {
        "matchLabels": {"track": "stable", "app": "frontend"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["web", "api"]},
            {"key": "env", "operator": "NotIn", "values": ["dev"]},
            {"key": "release"},
        ],
    }
    selector["matchExpressions"][2]["operator"] = "Exists"
    selector["matchExpressions"].append({"key": "legacy", "operator": "DoesNotExist"})
    assert label_selector(selector) == (
        "app=frontend,track=stable,tier in (web,api),env notin (dev),release,!legacy"
    )


def test_change_patches_only_the_release_container_and_what_differs():
    current = complete(image=OLD)
    patch, before, after = change(current, "frontend", NEW)
    assert patch == {
        "spec": {"template": {"spec": {"containers": [{"name": "frontend", "image": NEW}]}}}
    }
    assert (before, after) == ({"image": OLD, "replicas": 2}, {"image": NEW, "replicas": 2})
    patch, before, after = change(current, "frontend", OLD, 4)
    assert patch == {"spec": {"replicas": 4}}
    assert after == {"image": OLD, "replicas": 4}
    assert change(current, "frontend", OLD, 2)[0] is None
    assert change(current)[0] is None
    assert change(current, replicas=0)[0] == {"spec": {"replicas": 0}}


def test_change_of_a_missing_container_names_it():
    with pytest.raises(KeyError, match="no container named 'web'"):
        change(complete(), "web", NEW)


def reads(*answers):
    answers = iter(answers)
    return lambda: next(answers)


def test_wait_returns_once_done():
    clock = FakeClock()
    done = wait(reads((False, "a"), (False, "b"), (True, "c")), 10, 1, clock, clock.sleep)
    assert done == (True, "c", 2.0)
    assert clock.sleeps == [1, 1]


def test_wait_gives_up_at_the_timeout_with_the_last_message():
    clock = FakeClock()
    answers = reads(*[(False, f"read {n}") for n in range(10)])
    assert wait(answers, 2.5, 1, clock, clock.sleep) == (False, "read 3", 2.5)
    assert clock.sleeps == [1, 1, 0.5]


def test_wait_ends_at_once_when_the_rollout_failed():
    clock = FakeClock()

    def read():
        raise RolloutFailed("exceeded its progress deadline")

    with pytest.raises(RolloutFailed):
        wait(read, 60, 1, clock, clock.sleep)
    assert clock.sleeps == []
