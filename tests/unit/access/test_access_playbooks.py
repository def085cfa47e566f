"""Every playbook checks its own permissions first, through the canary_spec role."""

import glob
import os

import pytest
import yaml
from ansible.module_utils import access

from tests.conftest import PROJECT_ROOT

ROLE = os.path.join(PROJECT_ROOT, "roles", "canary_spec")
# Writes to AWX, not to the release's cluster.
NOT_A_RELEASE = {"awx_setup"}


def playbooks():
    paths = sorted(glob.glob(os.path.join(PROJECT_ROOT, "playbooks", "*.yml")))
    names = [os.path.splitext(os.path.basename(path))[0] for path in paths]
    return [name for name in names if name not in NOT_A_RELEASE]


def load(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def test_there_is_a_playbook_for_every_phase_of_the_table():
    assert set(playbooks()) == set(access.PLAYBOOKS)


@pytest.mark.parametrize("name", playbooks())
def test_the_first_role_checks_the_spec_and_the_playbooks_permissions(name):
    (play,) = load(os.path.join(PROJECT_ROOT, "playbooks", f"{name}.yml"))
    # Roles run before tasks: the check comes before the lock and every write.
    first = play["roles"][0]
    assert first["role"] == "canary_spec"
    assert first["vars"]["canary_spec_phase"] == name
    applies_rule = "canary_monitoring" in [role["role"] for role in play["roles"]]
    assert first["vars"].get("canary_spec_prometheus_rule", False) is applies_rule


def test_the_role_runs_the_check_right_after_the_spec_and_knows_every_phase():
    validate, check, *_ = load(os.path.join(ROLE, "tasks", "main.yml"))
    assert "canary_spec" in validate
    assert check["canary_access"]["phase"] == "{{ canary_spec_phase }}"
    options = load(os.path.join(ROLE, "meta", "argument_specs.yml"))["argument_specs"]["main"]
    assert options["options"]["canary_spec_phase"]["choices"] == ["", *sorted(access.PLAYBOOKS)]
