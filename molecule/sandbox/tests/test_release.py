"""What an operator checks after a release: stable runs the new version, the canary is
gone, no traffic is split, the ledger says promoted and the lock is free."""

import json
import os

import pytest

NAMESPACE = "yyc3-short-drama"
IMAGE = "yyc3/short-drama-frontend:1.1.0"
KUBECTL = f"kubectl --kubeconfig {os.environ['MOLECULE_PROJECT_DIRECTORY']}/sandbox/kubeconfig"


@pytest.fixture
def kubectl(host):
    def run(*args):
        command = host.run(f"{KUBECTL} {' '.join(args)} -o json")
        assert command.rc == 0, command.stderr
        return json.loads(command.stdout)

    return run


def test_stable_runs_the_new_version(kubectl):
    deployment = kubectl("get deployment frontend-deployment -n", NAMESPACE)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE
    assert deployment["status"]["readyReplicas"] == deployment["spec"]["replicas"]


def test_pods_serve_the_new_version(host):
    answer = host.run("curl -sf -H 'X-Canary: never' http://127.0.0.1:18080/api/health")
    assert answer.rc == 0
    assert json.loads(answer.stdout)["version"] == "1.1.0"


def test_traffic_is_back_on_stable(kubectl):
    config = kubectl("get configmap traffic-config -n", NAMESPACE)
    assert config["data"]["canary_percentage"] == "0"


def test_canary_namespace_is_removed(host):
    assert host.run(f"{KUBECTL} get namespace yyc3-short-drama-canary").rc != 0


def test_ledger_says_promoted_and_lock_is_free(kubectl):
    ledger = kubectl("get configmap frontend-canary-ledger -n", NAMESPACE)["data"]
    assert ledger["status"] == "promoted"
    assert ledger["image"] == IMAGE
    lease = kubectl("get lease frontend-canary-lock -n", NAMESPACE)
    assert not lease["spec"].get("holderIdentity")
