"""prepare.yml and the canary namespace, in ansible-playbook runs as the runbooks' ServiceAccount;
and a prepare that fails, rolled back.

A deleted namespace stays Terminating until its pods have stopped (a preStop sleep
here), and admission refuses new objects in it: prepare waits, at most rollout_timeout,
then creates it afresh with the stable namespace's admission labels. Pod Security then
judges the canary's pods as it judges stable's.
"""

import re

import pytest

from sandbox.releases import wait_for

from .shop import NEVER_READY, NEW, OLD, flat, image_of, pod_ready, pod_template

pytestmark = pytest.mark.slow

ADMISSION = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "v1.33",
    "pod-security.kubernetes.io/warn": "restricted",
    "istio.io/rev": "canary-1-27",
}
MANAGED = {"app.kubernetes.io/managed-by": "canary-runbooks"}
PREPARE_STARTS = "TASK [canary_prepare : Read the stable Deployment]"


def old_canary_namespace(shop, stopping):
    """The last release's canary namespace, with a running pod that takes ``stopping`` s to
    stop once deleted (its preStop sleep); returns the namespace's uid."""
    admin = shop.admin
    metadata = {"name": shop.canary_namespace, "labels": dict(MANAGED)}
    namespace = admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})
    spec = pod_template(OLD)["spec"]
    spec["terminationGracePeriodSeconds"] = stopping + 5
    spec["containers"][0]["lifecycle"] = {"preStop": {"sleep": {"seconds": stopping}}}
    pod = {"name": "leftover", "namespace": shop.canary_namespace, "labels": {"app": "leftover"}}
    admin.create({"apiVersion": "v1", "kind": "Pod", "metadata": pod, "spec": spec})
    # Ready: the node runs it, so its deletion goes through the preStop.
    wait_for(
        "the leftover pod to be ready",
        lambda: pod_ready(admin.get("Pod", shop.canary_namespace, "leftover")),
        30,
    )
    return namespace["metadata"]["uid"]


def test_prepare_waits_for_a_terminating_namespace_then_creates_it_labelled(admin, make_shop):
    # Pod Security's restricted level enforced on stable: the canary's pods pass it too.
    shop = make_shop(rollout_timeout="30s", namespace_labels={**ADMISSION, "team": "drama"})
    # Long enough for prepare to reach the namespace on a loaded machine.
    old_uid = old_canary_namespace(shop, stopping=15)
    deleted = []

    def delete_the_old_one(line):
        """The last release's finalize deletes it as this prepare starts."""
        if PREPARE_STARTS in line and not deleted:
            admin.delete("Namespace", None, shop.canary_namespace)
            deleted.append(line)

    code, output = shop.run("prepare.yml", "-e", f"canary_image={NEW}", on_line=delete_the_old_one)
    assert code == 0, output
    assert deleted, output
    assert "FAILED - RETRYING: [frontend]: Look for the canary namespace" in output, output
    namespace = admin.get("Namespace", None, shop.canary_namespace)
    assert namespace["metadata"]["uid"] != old_uid
    assert "deletionTimestamp" not in namespace["metadata"]
    # Stable's own name label and its team label stay stable's.
    assert namespace["metadata"]["labels"] == {
        **ADMISSION,
        **MANAGED,
        "kubernetes.io/metadata.name": shop.canary_namespace,
    }
    assert image_of(shop.canary()) == NEW
    assert shop.settled(NEW, "canary", replicas=1), shop.pods("canary")


def test_a_namespace_that_stays_terminating_fails_naming_it(admin, make_shop):
    shop = make_shop()
    old_uid = old_canary_namespace(shop, stopping=40)
    admin.delete("Namespace", None, shop.canary_namespace)
    code, output = shop.run("prepare.yml", "-e", f"canary_image={NEW}")
    assert code != 0, output
    # The namespace controller's conditions say all content was removed (deleted, that is,
    # not gone): none is True, so the message says why it waits.
    assert (
        f"namespace {shop.canary_namespace} is still terminating after 3s (rollout_timeout), "
        "and admission refuses new objects in it until it is gone: its pods are still stopping"
    ) in flat(output), output
    namespace = admin.get("Namespace", None, shop.canary_namespace)
    assert namespace["metadata"]["uid"] == old_uid
    assert shop.canary() is None


def test_a_canary_that_pod_security_refuses_fails_prepare_with_the_servers_reason(admin, make_shop):
    template = pod_template(OLD)
    del template["spec"]["securityContext"]
    del template["spec"]["containers"][0]["securityContext"]
    shop = make_shop(rollout_timeout="5s", template=template)
    # Enforced once stable's pods run: they keep running, new pods like them are refused.
    labels = {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}
    admin.merge_patch("Namespace", None, shop.namespace, labels)
    code, output = shop.run("prepare.yml", "-e", f"canary_image={NEW}")
    assert code != 0, output
    text = flat(output)
    reason = (
        rf'pods "{shop.canary_name}-\w+-\w+" is forbidden: violates PodSecurity '
        r'"restricted:latest": allowPrivilegeEscalation != false'
    )
    assert re.search(reason, text), output
    # Rolled back with the server's reason: the canary scaled to 0, never a pod of it.
    ledger = shop.ledger().read()
    assert ledger["status"] == "rolled_back", ledger
    assert "violates PodSecurity" in ledger["reason"], ledger["reason"]
    assert shop.canary()["spec"]["replicas"] == 0
    assert shop.pods("canary") == []
    assert shop.settled(OLD), shop.pods()
    assert image_of(shop.stable()) == OLD


def test_a_canary_that_never_becomes_ready_is_rolled_back_by_prepare(make_shop):
    shop = make_shop()
    code, output = shop.run("prepare.yml", "-e", f"canary_image={NEVER_READY}")
    assert code != 0, output
    assert f"frontend rolled back: deployment {shop.canary_namespace}/" in flat(output), output
    ledger = shop.ledger().read()
    assert ledger["status"] == "rolled_back", ledger
    assert ledger["reason"].startswith("prepare failed: deployment "), ledger["reason"]
    # Not left at 1 replica, half done: scaled to 0, out of traffic, the lock free.
    assert shop.canary()["spec"]["replicas"] == 0
    assert shop.weight() == "0"
    assert shop.lock_holder() is None
