"""The permission preflight in ansible-playbook runs, with one verb of rbac/ taken away.

The runs here are a ServiceAccount ``canary-runbooks`` of the shop's own namespace,
bound to the ClusterRole of ``rbac/canary-runbooks.yaml`` as shipped less one verb (the
sandbox's own ``canary-system/canary-runbooks`` keeps every verb, for the other tests).
The playbook stops at its preflight naming the verb and the resource refused, before it
has changed anything in the cluster.
"""

import copy
import pathlib

import pytest
import yaml

from sandbox.kube import bootstrap
from sandbox.releases import wait_for
from tests.conftest import PROJECT_ROOT

from .shop import NEW, OLD, RUNBOOKS_KUBECONFIG, flat, image_of

pytestmark = pytest.mark.slow

RBAC = PROJECT_ROOT / "rbac" / "canary-runbooks.yaml"
ACCOUNT = "canary-runbooks"


def shipped_rules():
    """The rules of the runbooks' ClusterRole in rbac/canary-runbooks.yaml."""
    objects = yaml.safe_load_all(RBAC.read_text())
    role = next(
        o for o in objects if o and o["kind"] == "ClusterRole" and o["metadata"]["name"] == ACCOUNT
    )
    return role["rules"]


def without(rules, group, resource, verb):
    """``rules`` less ``verb`` on ``resource`` of ``group``, every other grant kept."""
    kept = []
    for rule in copy.deepcopy(rules):
        if group in rule["apiGroups"] and resource in rule["resources"] and verb in rule["verbs"]:
            assert rule["apiGroups"] == [group], rule
            others = [r for r in rule["resources"] if r != resource]
            if others:
                kept.append({**rule, "resources": others})
            verbs = [v for v in rule["verbs"] if v != verb]
            if verbs:
                kept.append({**rule, "resources": [resource], "verbs": verbs})
        else:
            kept.append(rule)
    assert kept != rules, f"rbac/ grants no {verb} on {resource}"
    return kept


def allowed(admin, namespace, attributes):
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": f"system:serviceaccount:{namespace}:{ACCOUNT}",
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"],
            "resourceAttributes": attributes,
        },
    }
    path = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
    return admin.request("POST", path, body=review)["status"].get("allowed", False)


@pytest.fixture
def less_one_verb(admin, tmp_path):
    """``less_one_verb(shop, group, resource, verb)``: the kubeconfig of such an identity."""
    names = []

    def make(shop, group, resource, verb):
        name = f"{shop.namespace}-{ACCOUNT}"
        names.append(name)
        subject = {"kind": "ServiceAccount", "name": ACCOUNT, "namespace": shop.namespace}
        admin.create(
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": ACCOUNT, "namespace": shop.namespace},
            }
        )
        admin.create(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": name},
                "rules": without(shipped_rules(), group, resource, verb),
            }
        )
        admin.create(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": name},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": name,
                },
                "subjects": [subject],
            }
        )
        kept = {
            "verb": "get",
            "group": "apps",
            "resource": "deployments",
            "namespace": shop.namespace,
        }
        wait_for("the binding to take effect", lambda: allowed(admin, shop.namespace, kept), 30)
        config = yaml.safe_load(pathlib.Path(RUNBOOKS_KUBECONFIG).read_text())
        config["users"][0]["user"] = {
            "token": bootstrap.token(admin, shop.namespace, ACCOUNT, 3600)
        }
        path = tmp_path / f"{name}.kubeconfig"
        path.write_text(yaml.safe_dump(config))
        return str(path)

    yield make
    for name in names:
        admin.delete("ClusterRoleBinding", None, name)
        admin.delete("ClusterRole", None, name)


def test_prepare_without_create_on_deployments_stops_before_anything_changes(
    admin, make_shop, less_one_verb
):
    shop = make_shop()
    kubeconfig = less_one_verb(shop, "apps", "deployments", "create")
    code, output = shop.run("prepare.yml", "-e", f"canary_image={NEW}", kubeconfig=kubeconfig)
    assert code != 0, output
    assert (
        "the identity running the runbooks may not: create deployments.apps in namespace "
        f"{shop.canary_namespace} (rbac/canary-runbooks.yaml grants it; docs/rbac.md)"
    ) in flat(output), output
    assert "TASK [canary_monitoring" not in output, output
    # No ledger, no lock, no canary namespace; stable and its traffic as they were.
    assert admin.get("ConfigMap", shop.namespace, shop.spec["ledger"]["name"]) is None
    assert admin.get("Lease", shop.namespace, shop.spec["ledger"]["lock"]) is None
    assert admin.get("Namespace", None, shop.canary_namespace) is None
    assert shop.weight() == "0"
    assert shop.stable()["metadata"]["generation"] == 1


def test_finalize_without_delete_on_namespaces_stops_before_anything_changes(
    admin, make_shop, less_one_verb
):
    shop = make_shop().release_to_the_last_stage()
    before = shop.ledger().read()
    kubeconfig = less_one_verb(shop, "", "namespaces", "delete")
    code, output = shop.run("finalize.yml", kubeconfig=kubeconfig)
    assert code != 0, output
    assert (
        "the identity running the runbooks may not: delete namespaces at the cluster scope "
        "(rbac/canary-runbooks.yaml grants it; docs/rbac.md)"
    ) in flat(output), output
    # The release as it was: the ledger, no lock taken, the canary serving everyone,
    # stable not touched.
    assert shop.ledger().read() == before
    assert shop.lock_holder() is None
    assert shop.weight() == "100"
    assert shop.canary()["spec"]["replicas"] == 2
    assert image_of(shop.stable()) == OLD
    assert shop.stable()["metadata"]["generation"] == 1
