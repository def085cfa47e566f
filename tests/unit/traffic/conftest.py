"""The traffic providers against the sandbox's Kubernetes API server, started alone.

Each test gets its own pair of namespaces (stable and canary) with the stable
Deployment and Service of the short-drama frontend; the server and its clients are
tests/unit/conftest.py's.
"""

import pytest

from .release import Release, stable_deployment, stable_service


@pytest.fixture
def release(cluster):
    """Both namespaces with the stable Deployment (2 replicas) and Service."""
    made = Release(cluster)
    made.create_namespaces()
    cluster.create(stable_deployment(made.namespace))
    cluster.create(stable_service(made.namespace))
    return made
