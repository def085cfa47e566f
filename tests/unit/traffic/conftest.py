"""The traffic providers against the real Kubernetes API server (``real_api``).

The session's one API server (no controllers). Each test gets its own pair of
namespaces (stable and canary) with the stable Deployment and Service of the
short-drama frontend, and two clients: ``cluster`` writes, ``dry_cluster`` sends every
write as a server-side dry run, as the modules do in check mode.
"""

import pytest
from ansible.module_utils.cluster import Cluster
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import (
    K8SClient,
    get_api_client,
)

from .release import Release, stable_deployment, stable_service


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


@pytest.fixture
def release(cluster):
    """Both namespaces with the stable Deployment (2 replicas) and Service."""
    made = Release(cluster)
    made.create_namespaces()
    cluster.create(stable_deployment(made.namespace))
    cluster.create(stable_service(made.namespace))
    return made
