"""Every playbook validates the spec first: bad input changes nothing in the cluster."""

import hashlib
import json

import pytest
import yaml

from tests.bad_specs import BAD_SPECS, GOOD_SPEC, MISSING_OBJECTS, Unsafe, merged
from tests.integration.cluster.shop import NAMESPACE_PREFIX

from .conftest import run_playbook

pytestmark = [pytest.mark.sandbox]

WATCHED = [
    "/api/v1/namespaces",
    "/api/v1/configmaps",
    "/api/v1/services",
    "/apis/apps/v1/deployments",
    "/apis/coordination.k8s.io/v1/leases",
]
PLAYBOOKS = [
    "prepare.yml",
    "promote.yml",
    "validate.yml",
    "rollback.yml",
    "finalize.yml",
    "release.yml",
    "status.yml",
]


def snapshot(cluster):
    """What an operator cares about: every object's spec and data, not its status.

    Not the control plane's own namespaces, whose Leases are heartbeats renewed every
    few seconds, nor the cluster tests' shops, deleted in the background after their tests.
    """
    state = {}
    for path in WATCHED:
        for item in cluster.api.request("GET", path)["items"]:
            meta = item["metadata"]
            is_namespace = path == "/api/v1/namespaces"
            namespace = meta["name"] if is_namespace else meta.get("namespace") or ""
            if namespace.startswith(("kube-", NAMESPACE_PREFIX)):
                continue
            content = {k: v for k, v in item.items() if k not in ("metadata", "status")}
            content["labels"] = meta.get("labels")
            digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
            state[(item.get("kind") or path, meta.get("namespace"), meta["name"])] = digest
    return state


class _SpecDumper(yaml.SafeDumper):
    """Writes ``Unsafe`` text with Ansible's ``!unsafe`` tag."""


_SpecDumper.add_representer(Unsafe, lambda dumper, text: dumper.represent_scalar("!unsafe", text))


def spec_file(tmp_path, spec):
    path = tmp_path / "spec.yml"
    path.write_text(yaml.dump({"canary": spec}, Dumper=_SpecDumper))
    return f"@{path}"


@pytest.fixture(scope="module")
def seeded(sandbox):
    sandbox.reset()
    return sandbox


CASES = BAD_SPECS + MISSING_OBJECTS


@pytest.mark.parametrize(("change", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_release_with_bad_spec_names_the_field_and_changes_nothing(seeded, tmp_path, change, field):
    before = snapshot(seeded)
    code, output = run_playbook("release.yml", "-e", spec_file(tmp_path, merged(change)))
    assert code != 0
    assert field in output
    assert "Invalid release spec" in output or "found in canary" in output or "canary." in output
    assert snapshot(seeded) == before


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_every_playbook_validates_before_it_changes_anything(seeded, tmp_path, playbook):
    before = snapshot(seeded)
    bad = merged({"stages": [{"weight": 50}, {"weight": 20}]})
    code, output = run_playbook(playbook, "-e", spec_file(tmp_path, bad))
    assert code != 0
    assert "canary.stages[1].weight: must be greater than" in output
    assert snapshot(seeded) == before


def test_good_spec_file_is_accepted(seeded, tmp_path):
    code, output = run_playbook("status.yml", "-e", spec_file(tmp_path, GOOD_SPEC))
    assert code == 0, output


@pytest.mark.parametrize("playbook", ["release.yml", "prepare.yml", "promote.yml", "finalize.yml"])
def test_starting_without_an_image_is_refused_before_the_lock(seeded, playbook):
    before = snapshot(seeded)
    code, output = run_playbook(playbook)
    assert code != 0
    assert "no release of frontend is in progress" in output
    assert "-e canary_image=<image>" in output
    assert snapshot(seeded) == before
