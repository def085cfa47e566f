"""canary_prepare creates the canary namespace afresh once a deleted one has gone, with the
stable namespace's admission labels, in real ansible-playbook runs."""

import pytest
import yaml
from ansible.module_utils.workload import container_image

from .shop import Shop

pytestmark = pytest.mark.slow

NEW = "frontend:1.1.0"
PLAYBOOK = [
    {
        "name": "Prepare the canary",
        "hosts": "canary_services",
        "gather_facts": False,
        "roles": [{"role": "canary_spec"}],
        "tasks": [
            {
                "name": "Start the release",
                "canary_state": {
                    "release": "{{ canary_release }}",
                    "action": "start",
                    "allow_new_release": True,
                    "image": NEW,
                },
                "register": "canary_ledger",
            },
            {"name": "Prepare", "ansible.builtin.include_role": {"name": "canary_prepare"}},
        ],
    }
]
ADMISSION = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "v1.33",
    "pod-security.kubernetes.io/warn": "restricted",
    "istio.io/rev": "canary-1-27",
}


def terminating(shop):
    """The canary namespace as a deleted one whose pods are still stopping."""
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": shop.canary_namespace},
    }
    created = shop.cluster.create(namespace)
    deleted = {
        "metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"},
        "status": {"phase": "Terminating"},
    }
    shop.cluster.merge_patch("v1", "Namespace", shop.canary_namespace, None, deleted)
    return created["metadata"]["uid"]


def run(api, shop, on_line=None):
    playbook = shop.workdir / "prepare.yml"
    playbook.write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
    return shop.run(api, playbook, on_line=on_line)


def test_prepare_waits_for_a_terminating_namespace_then_creates_it_labelled(
    api, client, cluster, tmp_path
):
    shop = Shop(cluster, tmp_path, {**ADMISSION, "team": "drama"}, rollout_timeout="20s")
    old_uid = terminating(shop)
    namespaces = client.resource("Namespace", "v1")

    def pods_stopped(line):
        """The namespace goes once prepare has looked at it terminating."""
        if "FAILED - RETRYING" in line and cluster.get("v1", "Namespace", shop.canary_namespace):
            client.delete(namespaces, name=shop.canary_namespace)

    code, output = run(api, shop, pods_stopped)
    assert code == 0, output
    assert "FAILED - RETRYING: [frontend]: Look for the canary namespace" in output, output
    namespace = cluster.get("v1", "Namespace", shop.canary_namespace)
    assert namespace["metadata"]["uid"] != old_uid
    assert "deletionTimestamp" not in namespace["metadata"]
    # Stable's own name label and its team label stay stable's.
    assert namespace["metadata"]["labels"] == {
        **ADMISSION,
        "app.kubernetes.io/managed-by": "canary-runbooks",
        "kubernetes.io/metadata.name": shop.canary_namespace,
    }
    assert container_image(shop.canary()) == NEW


def test_a_namespace_that_stays_terminating_fails_naming_it(api, cluster, tmp_path):
    shop = Shop(cluster, tmp_path)
    terminating(shop)
    code, output = run(api, shop)
    assert code != 0
    assert (
        f"namespace {shop.canary_namespace} is still terminating after 3s (rollout_timeout), "
        "and admission refuses new objects in it until it is gone: its pods are still stopping"
    ) in " ".join(output.split()), output
    assert shop.canary() is None
