"""What a fresh sandbox cluster gets before the demo's objects: CRDs, RBAC, identities.

As the admin: the upstream CRDs (``crds.py``), the runbooks' RBAC exactly as shipped
in ``rbac/`` (every provider's file and the monitoring one: the sandbox inventory
uses them all), the sandbox's own identities (``identities.yaml``). Then a token per
ServiceAccount (TokenRequest, as ``kubectl create token`` asks for one) for the
runbooks' kubeconfig, the router's and Prometheus'.
"""

import glob
import os

import yaml

from sandbox import kubeapi
from sandbox.kube import crds

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RBAC_DIR = os.path.join(PROJECT_ROOT, "rbac")
IDENTITIES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "identities.yaml")
# ServiceAccount (namespace, name) -> what its token is for
RUNBOOKS = ("canary-system", "canary-runbooks")
ROUTER = ("canary-sandbox", "router")
PROMETHEUS = ("canary-sandbox", "prometheus")
# A sandbox may run for days of a demo; the API server caps nothing by default.
TOKEN_SECONDS = 7 * 24 * 3600


def manifests(*paths):
    """Every object of the YAML files, in order."""
    found = []
    for path in paths:
        with open(path) as handle:
            found += [obj for obj in yaml.safe_load_all(handle) if obj]
    return found


def rbac_files():
    return sorted(glob.glob(os.path.join(RBAC_DIR, "*.yaml"))) + sorted(
        glob.glob(os.path.join(RBAC_DIR, "providers", "*.yaml"))
    )


def token(client, namespace, name, seconds=TOKEN_SECONDS):
    """A bound ServiceAccount token (TokenRequest)."""
    request = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {"expirationSeconds": seconds},
    }
    answer = client.request(
        "POST", kubeapi.path("ServiceAccount", namespace, name, "token"), body=request
    )
    return answer["status"]["token"]


def bootstrap(admin):
    """Install the CRDs, RBAC and identities; return {(namespace, name): token}."""
    crds.install(admin, crds.definitions())
    for obj in manifests(*rbac_files(), IDENTITIES):
        admin.apply(obj)
    return {account: token(admin, *account) for account in (RUNBOOKS, ROUTER, PROMETHEUS)}
