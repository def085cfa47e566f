"""The AWX definitions (awx/*.yml) agree with the playbooks, the inventory and each other.

Job templates name playbooks that exist; surveys pass AWX's own validation; the release
workflow runs prepare, one node per stage of the inventory's spec in order, an approval
right before the 100 % stage, then finalize, with every stage's failure leading to
rollback; every extra variable AWX will set is one the playbooks read; the credential
types inject exactly the environment variables the inventories and roles read.
"""

import re

import pytest

from tests.conftest import PROJECT_ROOT
from tests.unit.awx import data
from tests.unit.awx.surveys import choices_of, survey_spec_errors

TEMPLATES = {t["name"]: t for t in data.job_templates()}
SURVEYS = sorted(p.stem for p in (data.AWX / "surveys").glob("*.yml"))
READ = data.variables_read()


def playbook_of(template_name):
    return TEMPLATES[template_name]["playbook"]


def questions(survey_name):
    return {q["variable"]: q for q in data.survey(survey_name)["spec"]}


def test_each_operator_playbook_has_one_job_template():
    playbooks = sorted(
        f"playbooks/{p.name}"
        for p in (PROJECT_ROOT / "playbooks").glob("*.yml")
        if p.name != "awx_setup.yml"
    )
    assert sorted(t["playbook"] for t in TEMPLATES.values()) == playbooks
    assert len(TEMPLATES) == len(data.job_templates()), "template names repeat"


@pytest.mark.parametrize("template", data.job_templates(), ids=lambda t: t["name"])
def test_job_template_fields(template):
    assert (PROJECT_ROOT / template["playbook"]).is_file()
    assert set(template) <= {
        "name",
        "description",
        "playbook",
        "survey",
        "ask_job_type_on_launch",
        "ask_diff_mode_on_launch",
        "ask_limit_on_launch",
    }
    if "survey" in template:
        assert template["survey"] in SURVEYS


def test_every_survey_file_is_used():
    used = {t["survey"] for t in TEMPLATES.values() if "survey" in t}
    used |= {w["survey"] for w in data.workflows()}
    assert used == set(SURVEYS)


@pytest.mark.parametrize("name", SURVEYS)
def test_surveys_pass_awx_validation(name):
    assert survey_spec_errors(data.survey(name)) == []


@pytest.mark.parametrize(
    ("question", "error"),
    [
        ({"type": "integer", "variable": "n", "required": False}, "'question_name' missing"),
        (
            {"type": "number", "question_name": "N", "variable": "n", "required": False},
            "type 'number'",
        ),
        (
            {"type": "integer", "question_name": "N", "variable": "n", "required": "no"},
            "'required'",
        ),
        (
            {
                "type": "integer",
                "question_name": "N",
                "variable": "n",
                "required": True,
                "min": 4,
                "max": 1,
            },
            "above max",
        ),
        (
            {
                "type": "integer",
                "question_name": "N",
                "variable": "n",
                "required": True,
                "default": "1",
            },
            "not of type",
        ),
        (
            {
                "type": "integer",
                "question_name": "N",
                "variable": "n",
                "required": True,
                "max": 3,
                "default": 4,
            },
            "outside",
        ),
        (
            {"type": "multiplechoice", "question_name": "N", "variable": "n", "required": True},
            "needs choices",
        ),
        (
            {
                "type": "multiplechoice",
                "question_name": "N",
                "variable": "n",
                "required": True,
                "choices": ["a"],
                "default": "b",
            },
            "not among the choices",
        ),
        (
            {"type": "text", "question_name": "N", "variable": "not valid", "required": True},
            "not a valid variable",
        ),
    ],
)
def test_the_survey_check_refuses_what_awx_refuses(question, error):
    errors = survey_spec_errors({"name": "", "description": "", "spec": [question]})
    assert any(error in e for e in errors), errors


def test_the_survey_check_refuses_empty_and_repeated_specs():
    assert survey_spec_errors({"name": "", "description": "", "spec": []})
    assert survey_spec_errors({"spec": [{}]})
    text = {"type": "text", "question_name": "Q", "variable": "v", "required": False}
    assert any(
        "duplicated" in e
        for e in survey_spec_errors({"name": "", "description": "", "spec": [text, text]})
    )


@pytest.mark.parametrize("name", SURVEYS)
def test_every_survey_variable_is_read_by_the_playbooks(name):
    assert set(questions(name)) <= READ, (
        f"the playbooks and roles never read {set(questions(name)) - READ}"
    )


def test_the_image_is_required_where_a_release_starts():
    for template in ("Canary prepare", "Canary release"):
        image = questions(TEMPLATES[template]["survey"])["canary_image"]
        assert (image["type"], image["required"]) == ("text", True)
    (workflow,) = data.workflows()
    assert questions(workflow["survey"])["canary_image"]["required"] is True


def test_the_stage_question_spans_the_inventorys_stages():
    stage = questions(TEMPLATES["Canary promote"]["survey"])["canary_stage"]
    assert stage["type"] == "integer"
    assert (stage["min"], stage["max"]) == (1, len(data.stages()))
    # Left blank, AWX passes nothing and promote.yml runs the next stage.
    assert stage["required"] is False and "default" not in stage


def test_choice_answers_are_ones_the_playbooks_read_as_booleans():
    for name in SURVEYS:
        for question in data.survey(name)["spec"]:
            if question["type"] == "multiplechoice":
                assert set(choices_of(question)) == {"true", "false"}, question["variable"]


def test_dry_runs_are_offered_where_the_playbook_changes_something():
    """AWX's Job Type "Check" is ansible-playbook --check; status.yml only reads."""
    for template in TEMPLATES.values():
        wanted = template["playbook"] != "playbooks/status.yml"
        assert template.get("ask_job_type_on_launch", False) is wanted, template["name"]


# The release workflow.


def workflow_graph():
    (workflow,) = data.workflows()
    nodes = {n["identifier"]: n for n in workflow["nodes"]}
    assert len(nodes) == len(workflow["nodes"]), "node identifiers repeat"
    return workflow, nodes


def success_path(nodes):
    """The node identifiers from the root along success edges."""
    targets = {
        t for n in nodes.values() for kind in ("success", "failure") for t in n.get(kind, [])
    }
    roots = [i for i in nodes if i not in targets]
    assert len(roots) == 1, f"one root expected, found {roots}"
    path = roots
    while nodes[path[-1]].get("success"):
        (following,) = nodes[path[-1]]["success"]
        assert following not in path, "the success edges loop"
        path.append(following)
    return path


def test_workflow_nodes_are_templates_or_approvals_with_known_edges():
    _, nodes = workflow_graph()
    for identifier, node in nodes.items():
        assert ("template" in node) != ("approval" in node), identifier
        if "template" in node:
            assert node["template"] in TEMPLATES, identifier
        else:
            assert node["approval"]["name"] and isinstance(node["approval"]["timeout"], int)
        for kind in ("success", "failure"):
            assert set(node.get(kind, [])) <= set(nodes), f"{identifier} {kind}"
        assert set(node) <= {
            "identifier",
            "template",
            "approval",
            "extra_data",
            "success",
            "failure",
        }


def test_the_workflow_runs_prepare_each_stage_in_order_then_finalize():
    _, nodes = workflow_graph()
    path = success_path(nodes)
    jobs = [nodes[i] for i in path if "template" in nodes[i]]
    assert playbook_of(jobs[0]["template"]) == "playbooks/prepare.yml"
    assert playbook_of(jobs[-1]["template"]) == "playbooks/finalize.yml"
    stages = jobs[1:-1]
    assert {playbook_of(s["template"]) for s in stages} == {"playbooks/promote.yml"}
    assert [s["extra_data"]["canary_stage"] for s in stages] == list(
        range(1, len(data.stages()) + 1)
    )
    # Every node is on the success path, but the rollback.
    off_path = [i for i in nodes if i not in path]
    assert [playbook_of(nodes[i]["template"]) for i in off_path] == ["playbooks/rollback.yml"]


def test_a_person_approves_right_before_the_full_release_stage():
    _, nodes = workflow_graph()
    path = success_path(nodes)
    full = [number for number, stage in enumerate(data.stages(), 1) if stage["weight"] == 100]
    assert full, "the inventory's spec has no 100 % stage"
    (full_node,) = [
        i for i in path if nodes[i].get("extra_data", {}).get("canary_stage") == full[0]
    ]
    approvals = [i for i in path if "approval" in nodes[i]]
    assert approvals == [path[path.index(full_node) - 1]]
    # The approval node is the only way into the 100 % stage.
    assert [
        i for i, n in nodes.items() if full_node in n.get("success", []) + n.get("failure", [])
    ] == approvals


def test_every_stage_and_the_approval_fail_to_rollback():
    _, nodes = workflow_graph()
    for identifier, node in nodes.items():
        is_stage = node.get("template") == "Canary promote"
        if is_stage or "approval" in node:
            (target,) = node["failure"]
            assert playbook_of(nodes[target]["template"]) == "playbooks/rollback.yml", identifier
        else:
            assert not node.get("failure"), f"{identifier}: only stages and the approval roll back"


def test_node_variables_are_survey_questions_of_their_template_within_bounds():
    """AWX accepts a node's extra_data only through its template's survey (or a prompt)."""
    _, nodes = workflow_graph()
    for identifier, node in nodes.items():
        if not node.get("extra_data"):
            continue
        asked = questions(TEMPLATES[node["template"]]["survey"])
        assert set(node["extra_data"]) <= set(asked), identifier
        assert set(node["extra_data"]) <= READ, identifier
        spec = {
            "name": "",
            "description": "",
            "spec": [dict(asked[v], default=value) for v, value in node["extra_data"].items()],
        }
        assert survey_spec_errors(spec) == [], identifier


def test_nothing_awx_hands_down_shadows_a_nodes_own_variables():
    """A workflow's survey answers go to every node over the node's extra_data, and
    ancestors' artifacts over both: none may carry a name a node sets itself."""
    workflow, nodes = workflow_graph()
    node_variables = {v for n in nodes.values() for v in n.get("extra_data", {})}
    assert not set(questions(workflow["survey"])) & node_variables
    artifacts = data.artifact_names()
    assert not artifacts & node_variables
    for name in SURVEYS:
        assert not artifacts & set(questions(name)), name


# Credentials.

TEMPLATE_NAME = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")


@pytest.mark.parametrize("ctype", data.credential_types(), ids=lambda c: c["name"])
def test_credential_type_injectors_use_its_fields(ctype):
    fields = {f["id"] for f in ctype["inputs"]["fields"]}
    assert ctype["kind"] in ("cloud", "net")
    assert set(ctype["inputs"]["required"]) <= fields
    files = {key.removeprefix("template.") for key in ctype["injectors"].get("file", {})}
    assert files <= fields
    for template in [
        *ctype["injectors"].get("file", {}).values(),
        *ctype["injectors"]["env"].values(),
    ]:
        assert isinstance(template, data.Unsafe), "AWX's templates must reach AWX unrendered"
        for name in TEMPLATE_NAME.findall(template):
            assert name in fields or (name.startswith("tower.filename.") and name[15:] in files), (
                name
            )
    assert all(f.get("secret") for f in ctype["inputs"]["fields"]), "every input here is a secret"


def test_credentials_inject_exactly_the_environment_the_inventories_read():
    injected = {var for c in data.credential_types() for var in c["injectors"]["env"]}
    wanted = {var for var in data.environment_read() if var.startswith("CANARY_")}
    assert {"CANARY_TEST_PASSWORD", "CANARY_BACKUP_MYSQL_PASSWORD"} <= wanted, "the scan finds them"
    assert {var for var in injected if var.startswith("CANARY_")} == wanted
    # The cluster: kubernetes.core and the project's modules read K8S_AUTH_* variables.
    assert "K8S_AUTH_KUBECONFIG" in injected


def test_the_setup_gives_every_credential_field_a_value():
    inputs = data.setup_play()["vars"]["canary_awx_credential_inputs"]
    assert set(inputs) == {c["name"] for c in data.credential_types()}
    for ctype in data.credential_types():
        assert set(inputs[ctype["name"]]) == {f["id"] for f in ctype["inputs"]["fields"]}
        # A secret read from the environment is read from the variable AWX injects.
        for field, source in inputs[ctype["name"]].items():
            for variable in data.ENV_LOOKUP.findall(source):
                assert ctype["injectors"]["env"][variable] == "{{ " + field + " }}"


def test_the_setup_reads_the_data_files_it_documents():
    play = data.setup_play()
    assert sorted(play["vars_files"]) == [
        "../awx/credential_types.yml",
        "../awx/job_templates.yml",
        "../awx/workflows.yml",
    ]
