"""The facade's dry runs: the API server answers them, writes nothing, and says why it refuses."""

import uuid

import pytest
from ansible.module_utils.cluster import Refused


def namespace(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def test_a_dry_run_is_answered_and_writes_nothing(cluster, dry_cluster):
    name = f"dry-{uuid.uuid4().hex[:6]}"
    answered = dry_cluster.create(namespace(name))
    assert answered["metadata"]["name"] == name
    assert cluster.get("v1", "Namespace", name) is None


def test_a_refused_dry_run_gives_the_api_servers_answer(cluster, dry_cluster):
    with pytest.raises(Refused) as refused:
        dry_cluster.create(namespace("Not_A_Label"))
    assert str(refused.value).startswith(
        '422 Unprocessable Entity: Namespace "Not_A_Label" is invalid'
    )
    assert cluster.get("v1", "Namespace", "Not_A_Label") is None
