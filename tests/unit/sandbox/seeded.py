"""The sandbox's seed (``sandbox/manifests/``) in namespaces of a test's own.

The manifests, the router config and the inventory's release specs all name the
sandbox's namespaces (``yyc3-short-drama`` and ``yyc3-short-drama-canary``). Tests that
share the session's real API server (``real_api``) rename them to fresh ones, so that
none sees another's objects: a deleted namespace never goes away without the namespace
controller, so a test cannot start from an empty one by deleting it.
"""

import glob
import json
import os
import uuid

import yaml

from sandbox import ctl
from sandbox.kube import bootstrap

SEED_NAMESPACE = "yyc3-short-drama"


def fresh_namespace():
    """A new name for the seed's namespace; its canary namespace is ``<name>-canary``."""
    return f"sd-{uuid.uuid4().hex[:8]}"


def renamed(data, namespace):
    """JSON-like ``data`` with the seed's namespace (and so its -canary) renamed."""
    return json.loads(json.dumps(data).replace(SEED_NAMESPACE, namespace))


def manifests():
    """Every object ``python -m sandbox up`` seeds, in its order (``ctl.Sandbox.seed``)."""
    paths = sorted(glob.glob(os.path.join(ctl.MANIFESTS, "*.yaml")))
    paths += sorted(glob.glob(os.path.join(ctl.PROVIDER_MANIFESTS, "*.yaml")))
    found = []
    for path in paths:
        with open(path) as handle:
            found += [obj for obj in yaml.safe_load_all(handle) if obj]
    return found


def seed(client, namespace):
    """Create the seed, renamed into ``namespace``, with the admin ``client``."""
    for obj in manifests():
        client.create(renamed(obj, namespace))


def remove_ingresses(client, *namespaces):
    """Delete the Ingresses of ``namespaces`` (a test's, once it is done).

    ingress-nginx, and so the router's reader, joins canary Ingresses of every
    namespace to the stable one of the same host and path, the oldest first: the seed's
    Ingress has no host, so one test's canary would stand in for the next test's.
    """
    for namespace in namespaces:
        for ingress in client.list("Ingress", namespace):
            client.delete("Ingress", namespace, ingress["metadata"]["name"])


def router_token(client):
    """A new token of the sandbox router's ServiceAccount, with its RBAC applied as
    ``sandbox up`` applies it (``sandbox/kube/identities.yaml``)."""
    for obj in bootstrap.manifests(bootstrap.IDENTITIES):
        client.apply(obj)
    return bootstrap.token(client, *bootstrap.ROUTER, seconds=3600)
