"""The sandbox's Kubernetes API server started alone, for the tests that talk to one.

One server per test module on a free port of 127.0.0.1, stopped by PID at the end, and
two clients: ``cluster`` writes, ``dry_cluster`` sends every write as a server-side dry
run (``dryRun=All``), as the modules do in check mode.
"""

import pytest
from ansible.module_utils.cluster import Cluster
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import (
    K8SClient,
    get_api_client,
)

from .traffic.apiserver import ApiServer


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    server = ApiServer(tmp_path_factory.mktemp("apiserver"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(api):
    return get_api_client(kubeconfig=str(api.kubeconfig))


@pytest.fixture
def cluster(client):
    return Cluster(client)


@pytest.fixture
def dry_cluster(client):
    return Cluster(
        K8SClient(configuration=client.configuration, client=client.client, dry_run=True)
    )
