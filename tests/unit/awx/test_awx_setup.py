"""playbooks/awx_setup.yml run for real, its awx.awx modules talking to a local AWX API.

The API (tests/unit/awx/controller.py) keeps what it is sent and refuses what AWX
refuses (a playbook not in the project, an invalid survey, a missing object), so the
test reads back the objects the playbook made: templates with their playbooks, surveys
and credentials, the workflow graph with its approval node, the credentials' secrets,
which never show in the output. A second run changes nothing but the credentials (AWX
hides their secrets, so they cannot be compared). Without the collection, the
repository URL or a secret, the playbook stops before it calls AWX, naming what is
missing.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT
from tests.unit.awx import data
from tests.unit.awx.controller import Controller

pytestmark = pytest.mark.slow

SECRETS = {
    "CANARY_TEST_PASSWORD": "SECRET-test-password",
    "CANARY_SLACK_WEBHOOK_URL": "https://hooks.example.invalid/SECRET-slack",
    "CANARY_BACKUP_MYSQL_PASSWORD": "SECRET-mysql",
    # No Redis password: an optional input left empty.
    "CANARY_BACKUP_REDIS_PASSWORD": "",
}
IMAGE = "registry.example.com/ops/canary-runbooks-ee:1.0.0"
KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n# SECRET-kubeconfig\n"


def run(awx, tmp_path, *args, drop=(), **env):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    environment = {
        **os.environ,
        **SECRETS,
        "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "CONTROLLER_HOST": awx.url,
        "CONTROLLER_OAUTH_TOKEN": awx.token,
        "K8S_AUTH_KUBECONFIG": str(kubeconfig),
        **env,
    }
    for name in drop:
        environment.pop(name, None)
    playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return subprocess.run(
        [
            playbook,
            "playbooks/awx_setup.yml",
            "-e",
            f"canary_awx_scm_url=file://{PROJECT_ROOT}",
            *args,
        ],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def task_results(completed):
    """{task name: [host results]} of a JSON-callback run."""
    results = {}
    for play in json.loads(completed.stdout)["plays"]:
        for task in play["tasks"]:
            results.setdefault(task["task"]["name"], []).extend(task["hosts"].values())
    return results


def changed(completed):
    return sorted(
        name
        for name, hosts in task_results(completed).items()
        if any(h.get("changed") for h in hosts)
    )


@pytest.fixture(scope="module")
def configured(tmp_path_factory):
    """A controller after two runs of the playbook, and both runs."""
    tmp_path = tmp_path_factory.mktemp("awx")
    with Controller() as awx:
        first = run(awx, tmp_path, "-e", f"canary_awx_execution_environment_image={IMAGE}")
        assert first.returncode == 0, first.stdout[-4000:] + first.stderr
        second = run(awx, tmp_path, "-e", f"canary_awx_execution_environment_image={IMAGE}")
        assert second.returncode == 0, second.stdout[-4000:] + second.stderr
        yield awx, first, second


def test_every_job_template_runs_its_playbook_in_the_project_and_image(configured):
    awx, _, _ = configured
    project = awx.one("projects", name="Canary runbooks")
    assert (project["scm_type"], project["scm_url"]) == ("git", f"file://{PROJECT_ROOT}")
    inventory = awx.one("inventories", name="YYC3 short drama")
    source = awx.one("inventory_sources", inventory=inventory["id"])
    assert (source["source"], source["source_project"], source["source_path"]) == (
        "scm",
        project["id"],
        "inventories/yyc3-short-drama/hosts.yml",
    )
    ee = awx.one("execution_environments", name="Canary runbooks")
    assert (ee["image"], ee["pull"], project["default_environment"]) == (IMAGE, "missing", ee["id"])
    credentials = sorted(c["id"] for c in awx.objects("credentials"))
    made = {t["name"]: t for t in awx.objects("job_templates")}
    assert set(made) == {t["name"] for t in data.job_templates()}
    for wanted in data.job_templates():
        template = made[wanted["name"]]
        assert (template["playbook"], template["project"], template["inventory"]) == (
            wanted["playbook"],
            project["id"],
            inventory["id"],
        )
        assert template["ask_job_type_on_launch"] is wanted.get("ask_job_type_on_launch", False)
        assert template["execution_environment"] == ee["id"]
        assert sorted(awx.linked("job_templates", template, "credentials")) == credentials
        survey = awx.survey("job_templates", wanted["name"])
        if "survey" in wanted:
            assert template["survey_enabled"] is True
            assert survey == data.survey(wanted["survey"])
        else:
            assert (template["survey_enabled"], survey) == (False, None)


def test_the_workflow_graph_is_the_data_files(configured):
    awx, _, _ = configured
    (wanted,) = data.workflows()
    workflow = awx.one("workflow_job_templates", name=wanted["name"])
    assert awx.survey("workflow_job_templates", wanted["name"]) == data.survey(wanted["survey"])
    nodes = {n["identifier"]: n for n in awx.objects("workflow_job_template_nodes")}
    assert set(nodes) == {n["identifier"] for n in wanted["nodes"]}
    by_id = {n["id"]: i for i, n in nodes.items()}
    templates = {t["id"]: t["name"] for t in awx.objects("job_templates")}
    for node in wanted["nodes"]:
        made = nodes[node["identifier"]]
        assert made["workflow_job_template"] == workflow["id"]
        if "template" in node:
            assert templates[made["unified_job_template"]] == node["template"]
            assert made.get("extra_data") == node.get("extra_data")
        else:
            approval = awx.one("workflow_approval_templates", id=made["unified_job_template"])
            assert {k: approval[k] for k in node["approval"]} == node["approval"]
        for kind in ("success", "failure"):
            edges = [
                by_id[i] for i in awx.linked("workflow_job_template_nodes", made, f"{kind}_nodes")
            ]
            assert sorted(edges) == sorted(node.get(kind, [])), (node["identifier"], kind)


def test_credentials_carry_the_secrets_and_the_output_does_not(configured):
    awx, first, second = configured
    inputs = {c["name"]: c["inputs"] for c in awx.store["credentials"].values()}
    assert inputs == {
        "Canary Kubernetes cluster": {"kubeconfig": KUBECONFIG.rstrip("\n")},
        "Canary release secrets": {
            "test_password": SECRETS["CANARY_TEST_PASSWORD"],
            "slack_webhook_url": SECRETS["CANARY_SLACK_WEBHOOK_URL"],
            "backup_mysql_password": SECRETS["CANARY_BACKUP_MYSQL_PASSWORD"],
        },
    }
    types = {t["name"]: t for t in awx.objects("credential_types")}
    env = types["Canary release secrets"]["injectors"]["env"]
    assert env["CANARY_TEST_PASSWORD"] == "{{ test_password }}", (
        "AWX's template reached AWX unrendered"
    )
    for completed in (first, second):
        assert "SECRET" not in completed.stdout + completed.stderr


def test_a_second_run_changes_only_what_awx_cannot_compare(configured):
    awx, first, second = configured
    assert "Create the workflow nodes" in changed(first)
    assert changed(second) == ["Create the credentials"]
    assert len(awx.objects("workflow_job_template_nodes")) == len(data.workflows()[0]["nodes"])


@pytest.mark.parametrize(
    ("args", "drop", "env", "message"),
    [
        (
            (),
            (),
            # No collection anywhere: not in the Python path, not in a collections path.
            {
                "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
                "ANSIBLE_COLLECTIONS_PATH": "/nonexistent",
            },
            "The awx.awx collection is not installed",
        ),
        (("-e", "canary_awx_scm_url="), (), {}, "canary_awx_scm_url is required"),
        (
            (),
            ("CANARY_TEST_PASSWORD",),
            {},
            "canary_awx_credential_inputs['Canary release secrets'].test_password is empty",
        ),
    ],
    ids=["no collection", "no repository", "no test password"],
)
def test_it_stops_before_calling_awx_naming_what_is_missing(tmp_path, args, drop, env, message):
    # The default callback, results as one-line JSON: the JSON callback is a collection's.
    text_output = {"ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}
    with Controller() as awx:
        completed = run(awx, tmp_path, *args, drop=drop, **env, **text_output)
        assert awx.requests == []
    assert completed.returncode != 0
    failures = [
        line
        for line in completed.stdout.splitlines()
        if line.startswith(("fatal: [localhost]", "failed: [localhost]"))
    ]
    assert [message in json.loads(line.split(" => ", 1)[1])["msg"] for line in failures] == [
        True
    ], completed.stdout
