"""Endpoints and file_sd targets: one per ready pod, with its own port."""

import json
from types import SimpleNamespace

from sandbox import publish


def pod(name, ready=True, track="stable", port=40000, namespace="yyc3-short-drama"):
    return SimpleNamespace(
        name=name,
        namespace=namespace,
        uid="uid-" + name,
        ready=ready,
        port=port,
        deployment="frontend-deployment",
        version="1.0.0",
        labels={"app": "frontend", "track": track},
    )


SERVICE = {
    "metadata": {"name": "frontend", "namespace": "yyc3-short-drama"},
    "spec": {"selector": {"app": "frontend", "track": "stable"}, "ports": [{"name": "http"}]},
}


def test_selector_needs_every_key_and_an_empty_selector_matches_nothing():
    assert publish.selector_matches({"app": "frontend"}, {"app": "frontend", "track": "x"})
    assert not publish.selector_matches({"app": "frontend", "track": "y"}, {"app": "frontend"})
    assert not publish.selector_matches({}, {"app": "frontend"})


def test_endpoints_have_one_subset_per_ready_selected_pod():
    pods = [
        pod("b", port=40002),
        pod("a", port=40001),
        pod("c", ready=False),
        pod("d", track="canary"),
    ]
    endpoints = publish.endpoints_object(SERVICE, pods)
    assert [s["addresses"][0]["targetRef"]["name"] for s in endpoints["subsets"]] == ["a", "b"]
    first = endpoints["subsets"][0]
    assert first["addresses"][0]["ip"] == "127.0.0.1"
    assert first["ports"] == [{"port": 40001, "protocol": "TCP", "name": "http"}]
    assert endpoints["metadata"]["name"] == "frontend"


def test_file_sd_lists_ready_pods_with_analysis_labels():
    groups = publish.file_sd_targets([pod("a", port=40001), pod("b", ready=False)])
    assert groups == [
        {
            "targets": ["127.0.0.1:40001"],
            "labels": {
                "namespace": "yyc3-short-drama",
                "pod": "a",
                "deployment": "frontend-deployment",
                "track": "stable",
                "version": "1.0.0",
            },
        }
    ]


def test_write_atomically_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "file_sd" / "pods.json"
    publish.write_atomically(str(target), [1])
    publish.write_atomically(str(target), [2])
    assert json.loads(target.read_text()) == [2]
    assert [p.name for p in target.parent.iterdir()] == ["pods.json"]
