"""From pod template to what the kubelet runs: version, env, name, Pod metadata."""

import pathlib
import random

import pytest

from sandbox import podspec


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("yyc3/short-drama-frontend:1.1.0", "1.1.0"),
        ("registry.local:5000/yyc3/frontend:2.0.0-rc1", "2.0.0-rc1"),
        ("registry.local:5000/yyc3/frontend", "latest"),
        ("yyc3/frontend:1.2.3@sha256:abc", "1.2.3"),
    ],
)
def test_app_version_is_the_image_tag(image, version):
    assert podspec.app_version(image) == version


METADATA = {
    "name": "frontend-deployment-abc-xyz12",
    "namespace": "yyc3-short-drama",
    "labels": {"app": "frontend", "track": "canary"},
    "annotations": {"team": "drama"},
}


def test_resolve_env_reads_the_downward_api_and_expands_earlier_variables():
    env = podspec.resolve_env(
        [
            {"name": "TRACK", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['track']"}}},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {
                "name": "TEAM",
                "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['team']"}},
            },
            {"name": "GREETING", "value": "$(POD) in $(NS), $(UNKNOWN)"},
            {"name": "FAULT_ERROR_RATIO", "value": 0.5},
        ],
        METADATA,
    )
    assert env == {
        "TRACK": "canary",
        "POD": "frontend-deployment-abc-xyz12",
        "NS": "yyc3-short-drama",
        "TEAM": "drama",
        "GREETING": "frontend-deployment-abc-xyz12 in yyc3-short-drama, $(UNKNOWN)",
        "FAULT_ERROR_RATIO": "0.5",
    }


def test_missing_label_resolves_to_empty_like_kubernetes():
    ref = {"fieldRef": {"fieldPath": "metadata.labels['absent']"}}
    assert podspec.resolve_env([{"name": "X", "valueFrom": ref}], METADATA) == {"X": ""}


@pytest.mark.parametrize(
    "value_from",
    [
        {"configMapKeyRef": {"name": "cm", "key": "k"}},
        {"fieldRef": {"fieldPath": "spec.serviceAccountName"}},
    ],
)
def test_unsupported_env_sources_fail_loudly(value_from):
    with pytest.raises(ValueError):
        podspec.resolve_env([{"name": "X", "valueFrom": value_from}], METADATA)


DEPLOYMENT = {
    "metadata": {
        "name": "frontend-canary",
        "namespace": "yyc3-short-drama-canary",
        "uid": "uid-1",
        "annotations": {"sandbox.canary.io/hold-rollout": "True"},
    },
    "spec": {
        "replicas": 1,
        "template": {
            "metadata": {"labels": {"app": "frontend", "track": "canary"}},
            "spec": {"containers": [{"name": "frontend", "image": "yyc3/f:1.1.0"}]},
        },
    },
}


def test_pod_metadata_carries_template_labels_hash_port_and_owner():
    meta = podspec.pod_metadata(DEPLOYMENT, "0123456789", "frontend-canary-0123456789-bcdfg", 41000)
    assert meta["labels"] == {
        "app": "frontend",
        "track": "canary",
        "pod-template-hash": "0123456789",
    }
    assert meta["annotations"] == {podspec.PORT_ANNOTATION: "41000"}
    (owner,) = meta["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "Deployment",
        "frontend-canary",
        "uid-1",
        True,
    )


def test_pod_name_is_deployment_hash_and_five_safe_characters():
    name = podspec.pod_name("frontend-canary", "0123456789", random.Random(1))
    prefix, suffix = name.rsplit("-", 1)
    assert prefix == "frontend-canary-0123456789"
    assert len(suffix) == 5
    assert set(suffix) <= set(podspec.SAFE_ALPHABET)


def test_hold_annotation_is_read_case_insensitively():
    assert podspec.is_held(DEPLOYMENT)
    assert not podspec.is_held({"metadata": {}})


def test_pod_status_is_running_with_ready_condition_and_restart_count():
    status = podspec.pod_status({"name": "frontend", "image": "i:1"}, True, 2, 0.0, 60.0)
    assert status["phase"] == "Running"
    assert status["podIP"] == "127.0.0.1"
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["lastTransitionTime"]) == ("True", "1970-01-01T00:01:00Z")
    assert status["containerStatuses"][0]["restartCount"] == 2


def test_shipped_image_catalog_makes_the_faulty_builds_faulty():
    catalog = podspec.load_images(pathlib.Path(podspec.__file__).with_name("images.yaml"))
    assert catalog["yyc3/short-drama-frontend:1.2.0-errors"] == {"FAULT_ERROR_RATIO": "0.03"}
    assert "yyc3/short-drama-frontend:1.1.0" not in catalog
    assert all(k.startswith("FAULT_") for env in catalog.values() for k in env)
