"""canary_spec and canary_traffic in real ansible-playbook runs, one host per provider.

Against the real API server (``real_api``): the spec check passes for every
provider's object, a ``--check --diff`` run shows the change and writes nothing, a
real run writes it, a second one changes nothing, and weight 0 (what
canary_rollback sets) takes the canary out again.
"""

import json
import os
import subprocess
import sys

import pytest
import yaml
from ansible.module_utils.cluster import Cluster
from ansible.module_utils.traffic.gateway_api import GRANT_API_VERSION
from ansible.module_utils.workload import canary_deployment

from tests.bad_specs import merged
from tests.conftest import PROJECT_ROOT

from .release import Release, stable_deployment, stable_service
from .test_traffic_gateway_api import http_route, to_stable
from .test_traffic_ingress_nginx import ingress
from .test_traffic_istio import to, virtual_service
from .test_traffic_openshift_route import route

pytestmark = pytest.mark.slow

PLAYBOOK = [
    {
        "name": "Set the canary weight with each provider",
        "hosts": "all",
        "gather_facts": False,
        "roles": [{"role": "canary_spec"}],
        "tasks": [
            {
                "name": "Set the weight",
                "canary_traffic": {
                    "provider": "{{ canary_release.traffic.provider }}",
                    "options": "{{ canary_release.traffic.options }}",
                    "namespace": "{{ canary_release.namespace }}",
                    "weight": "{{ weight | int }}",
                },
                "register": "traffic",
            },
            {
                "name": "Keep the result",
                "ansible.builtin.copy": {
                    "content": "{{ traffic | to_json }}",
                    "dest": "{{ results }}/{{ inventory_hostname }}.json",
                    "mode": "0644",
                },
                "check_mode": False,
            },
        ],
    }
]
# Where each provider keeps the weight: (apiVersion, kind, name, namespace key).
OBJECTS = {
    "gateway_api": ("gateway.networking.k8s.io/v1", "HTTPRoute", "frontend", "namespace"),
    "ingress_nginx": ("networking.k8s.io/v1", "Ingress", "frontend-canary", "canary_namespace"),
    "istio": ("networking.istio.io/v1", "VirtualService", "frontend", "namespace"),
    "openshift_route": ("route.openshift.io/v1", "Route", "frontend", "namespace"),
    "replicas": ("apps/v1", "Deployment", "frontend-deployment-canary", "namespace"),
}
WEIGHT = 20


def _prepare(cluster, provider):
    """A release of the frontend set up for ``provider``; returns its spec."""
    release = Release(cluster)
    change = {}
    same_namespace = provider in ("openshift_route", "replicas")
    if same_namespace:
        release.canary_namespace = release.namespace
        change["validation"] = {
            "url": "http://drama.example",
            "route": {"canary": {"url": "http://frontend-canary.example"}},
        }
        release.create_namespaces(release.namespace)
    else:
        release.create_namespaces()
    stable = stable_deployment(release.namespace, replicas=4)
    cluster.create(stable)
    cluster.create(
        stable_service(release.namespace, {"app": "frontend"} if provider == "replicas" else None)
    )
    namespace = release.namespace
    if provider == "gateway_api":
        cluster.create(http_route(namespace, [to_stable()]))
    elif provider == "ingress_nginx":
        cluster.create(ingress(namespace))
    elif provider == "istio":
        cluster.create(virtual_service(namespace, [{"route": [to("frontend")]}]))
    elif provider == "openshift_route":
        cluster.create(route(namespace))
    else:
        name = f"{stable['metadata']['name']}-canary"
        cluster.create(canary_deployment(stable, namespace, name, "frontend:1.1.0", 0))
        change["stages"] = [{"weight": WEIGHT, "replicas": 1}]
    return merged(
        {
            "namespace": namespace,
            "canary_namespace": release.canary_namespace,
            "traffic": {"provider": provider},
            **change,
        }
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, client):
    cluster = Cluster(client)
    path = tmp_path_factory.mktemp("providers")
    hosts = {}
    for provider in OBJECTS:
        hosts[provider] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "canary": _prepare(cluster, provider),
            "results": str(path / "results"),
        }
    (path / "results").mkdir()
    (path / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    (path / "playbook.yml").write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
    return path, hosts, cluster


def run(workdir, real_api, weight, *args):
    path, hosts, _ = workdir
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
        "ANSIBLE_LIBRARY": str(PROJECT_ROOT / "library"),
        "ANSIBLE_MODULE_UTILS": str(PROJECT_ROOT / "module_utils"),
        "ANSIBLE_ROLES_PATH": str(PROJECT_ROOT / "roles"),
        "ANSIBLE_FILTER_PLUGINS": str(PROJECT_ROOT / "filter_plugins"),
        "K8S_AUTH_KUBECONFIG": str(real_api.kubeconfig),
    }
    result = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            str(path / "playbook.yml"),
            "-i",
            str(path / "hosts.yml"),
            "-e",
            f"weight={weight}",
            "--forks",
            str(len(hosts)),
            *args,
        ],
        cwd=path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result, {
        provider: json.loads((path / "results" / f"{provider}.json").read_text())
        for provider in hosts
    }


def objects(workdir):
    _, hosts, cluster = workdir
    found = {}
    for provider, (api_version, kind, name, key) in OBJECTS.items():
        obj = cluster.get(api_version, kind, name, hosts[provider]["canary"][key])
        found[provider] = obj and obj["metadata"].get("resourceVersion")
    return found


def grants(workdir):
    """The ReferenceGrants in the gateway_api release's canary namespace."""
    _, hosts, cluster = workdir
    namespace = hosts["gateway_api"]["canary"]["canary_namespace"]
    return cluster.list(GRANT_API_VERSION, "ReferenceGrant", namespace)


def test_check_mode_then_real_then_idempotent_then_rollback(workdir, real_api):
    before = objects(workdir)
    _, results = run(workdir, real_api, WEIGHT, "--check", "--diff")
    assert objects(workdir) == before
    assert grants(workdir) == []
    for provider, result in results.items():
        assert result["changed"], provider
        assert result["diff"]["before"] == {"weight": 0}, provider
        assert result["diff"]["after"] == {"weight": WEIGHT}, provider
        assert result["achieved_weight"] == WEIGHT, provider

    _, results = run(workdir, real_api, WEIGHT)
    after = objects(workdir)
    assert all(after[provider] != before[provider] for provider in OBJECTS), after
    assert {provider: r["changed"] for provider, r in results.items()} == dict.fromkeys(
        OBJECTS, True
    )

    # The real API server serves ReferenceGrants: the gateway_api provider made one for
    # the canary Service in the other namespace, and says nothing about it missing.
    (grant,) = grants(workdir)
    assert grant["spec"]["to"] == [{"group": "", "kind": "Service", "name": "frontend-canary"}]

    result, results = run(workdir, real_api, WEIGHT)
    assert objects(workdir) == after
    assert {provider: r["changed"] for provider, r in results.items()} == dict.fromkeys(
        OBJECTS, False
    )
    assert {provider: r["previous_weight"] for provider, r in results.items()} == dict.fromkeys(
        OBJECTS, WEIGHT
    )
    assert "does not serve ReferenceGrants" not in result.stdout + result.stderr
    assert len(grants(workdir)) == 1

    _, results = run(workdir, real_api, 0)
    assert {provider: (r["previous_weight"], r["weight"]) for provider, r in results.items()} == (
        dict.fromkeys(OBJECTS, (WEIGHT, 0))
    )
