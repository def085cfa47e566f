"""From pod template to what the node agent runs: version, catalog env, env."""

import pathlib

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


def test_shipped_image_catalog_makes_the_faulty_builds_faulty():
    catalog = podspec.load_images(pathlib.Path(podspec.__file__).with_name("images.yaml"))
    assert catalog["yyc3/short-drama-frontend:1.2.0-errors"] == {"FAULT_ERROR_RATIO": "0.03"}
    assert "yyc3/short-drama-frontend:1.1.0" not in catalog
    assert all(k.startswith("FAULT_") for env in catalog.values() for k in env)
