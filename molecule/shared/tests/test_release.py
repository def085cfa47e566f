"""What an operator checks after a release: stable runs the new version, the canary is
gone, no traffic is split, the ledger says promoted and the lock is free.

Shared by the sandbox and kind scenarios: each names its cluster's kubeconfig in
KUBECONFIG (its verifier env in molecule.yml), and the router is the spec's
validation.url in the scenario's inventory."""

import json
import os
import time

import pytest

NAMESPACE = "yyc3-short-drama"
IMAGE = "yyc3/short-drama-frontend:1.1.0"
KUBECONFIG = os.environ["KUBECONFIG"]
# A real cluster deletes a namespace in the background, after its pods have stopped.
NAMESPACE_GONE_WITHIN = 60


@pytest.fixture
def kubectl(host):
    def run(*args):
        command = host.run(f"kubectl --kubeconfig %s {' '.join(args)} -o json", KUBECONFIG)
        assert command.rc == 0, command.stderr
        return json.loads(command.stdout)

    return run


@pytest.fixture
def validation(host):
    # get_variables() returns the inventory as written; debug renders its templates
    # (the sandbox's router URL is read from $SANDBOX_ROUTER_PORT).
    return host.ansible("ansible.builtin.debug", "var=canary.validation")["canary.validation"]


def test_stable_runs_the_new_version(kubectl):
    deployment = kubectl("get deployment frontend-deployment -n", NAMESPACE)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE
    assert deployment["status"]["readyReplicas"] == deployment["spec"]["replicas"]


def test_pods_serve_the_new_version(host, validation):
    answer = host.run(
        "curl -sf -H %s %s",
        f"{validation['canary_header']}: never",
        validation["url"] + validation["health_path"],
    )
    assert answer.rc == 0, answer.stderr
    assert json.loads(answer.stdout)["version"] == "1.1.0"


def test_traffic_is_back_on_stable(kubectl):
    config = kubectl("get configmap traffic-config -n", NAMESPACE)
    assert config["data"]["canary_percentage"] == "0"


def test_canary_namespace_is_removed(host):
    deadline = time.monotonic() + NAMESPACE_GONE_WITHIN
    while True:
        answer = host.run(
            "kubectl --kubeconfig %s get namespace yyc3-short-drama-canary", KUBECONFIG
        )
        if answer.rc != 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert answer.rc != 0, f"still there after {NAMESPACE_GONE_WITHIN} s: {answer.stdout}"
    assert "(NotFound)" in answer.stderr


def test_ledger_says_promoted_and_lock_is_free(kubectl):
    ledger = kubectl("get configmap frontend-canary-ledger -n", NAMESPACE)["data"]
    assert ledger["status"] == "promoted"
    assert ledger["image"] == IMAGE
    lease = kubectl("get lease frontend-canary-lock -n", NAMESPACE)
    assert not lease["spec"].get("holderIdentity")
