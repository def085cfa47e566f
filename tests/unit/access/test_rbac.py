"""rbac/*.yaml grant exactly what module_utils/access.py says the runbooks use.

No less: a row of the table no file grants would stop every playbook at its preflight
(or, for the spec check, with a 403). No more: a verb the table never uses is a
privilege the runbooks do not need, or a call the table is missing.
"""

import glob
import os

import pytest
import yaml
from ansible.module_utils import access

from tests.conftest import PROJECT_ROOT

SUBJECT = {"kind": "ServiceAccount", "name": "canary-runbooks", "namespace": "canary-system"}


def _relative(path):
    return os.path.relpath(path, PROJECT_ROOT)


def shipped_files():
    found = [
        os.path.join(PROJECT_ROOT, "rbac", name)
        for name in ("canary-runbooks.yaml", "monitoring.yaml")
    ]
    found += sorted(glob.glob(os.path.join(PROJECT_ROOT, "rbac", "providers", "*.yaml")))
    return [_relative(path) for path in found]


def objects(path):
    with open(os.path.join(PROJECT_ROOT, path)) as handle:
        return [obj for obj in yaml.safe_load_all(handle) if obj]


def granted(path):
    """``{(group, resource): {verbs}}`` of the file's ClusterRoles."""
    grants = {}
    for role in objects(path):
        if role["kind"] != "ClusterRole":
            continue
        for rule in role["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    grants.setdefault((group, resource), set()).update(rule["verbs"])
    return grants


def needed():
    """``{file: {(group, resource): {verbs}}}``: every row of the table, in its file."""
    needs = {}
    for need in access.every_need():
        rows = needs.setdefault(access.RBAC_FILES[need.group], {})
        rows.setdefault((need.group, need.resource), set()).update(need.verbs)
    return needs


def _describe(grants):
    return "; ".join(
        f"{group or 'core'}/{resource}: {', '.join(sorted(verbs))}"
        for (group, resource), verbs in sorted(grants.items())
    )


def _difference(left, right):
    return {
        key: verbs - right.get(key, set())
        for key, verbs in left.items()
        if verbs - right.get(key, set())
    }


def test_every_file_the_table_names_is_shipped_and_every_shipped_file_is_named():
    assert set(access.RBAC_FILES.values()) == set(shipped_files())


@pytest.mark.parametrize("path", shipped_files())
def test_the_file_grants_every_verb_its_rows_need(path):
    missing = _difference(needed().get(path, {}), granted(path))
    assert not missing, (
        f"{path} does not grant what module_utils/access.py needs: {_describe(missing)}"
    )


@pytest.mark.parametrize("path", shipped_files())
def test_the_file_grants_nothing_the_table_never_uses(path):
    unused = _difference(granted(path), needed().get(path, {}))
    assert not unused, (
        f"{path} grants what no row of module_utils/access.py uses: {_describe(unused)}; "
        "drop the grant, or add the row for the call that uses it"
    )


@pytest.mark.parametrize("path", shipped_files())
def test_each_cluster_role_is_bound_cluster_wide_to_the_runbooks(path):
    found = objects(path)
    roles = {obj["metadata"]["name"] for obj in found if obj["kind"] == "ClusterRole"}
    bound = {
        obj["roleRef"]["name"]
        for obj in found
        if obj["kind"] == "ClusterRoleBinding"
        and obj["roleRef"]["kind"] == "ClusterRole"
        and SUBJECT in obj["subjects"]
    }
    assert roles and roles == bound
