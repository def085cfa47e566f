"""Clients of the session's real Kubernetes API server (``real_api``), for the tests that
talk to one: ``cluster`` writes, ``dry_cluster`` sends every write as a server-side dry
run (``dryRun=All``), as the modules do in check mode.
"""

import pytest
from ansible.module_utils.cluster import Cluster
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import (
    K8SClient,
    get_api_client,
)


@pytest.fixture(scope="session")
def api(real_api):
    return real_api


@pytest.fixture(scope="session")
def client(real_api):
    return get_api_client(kubeconfig=str(real_api.kubeconfig))


@pytest.fixture
def cluster(client):
    return Cluster(client)


@pytest.fixture
def dry_cluster(client):
    return Cluster(
        K8SClient(configuration=client.configuration, client=client.client, dry_run=True)
    )
