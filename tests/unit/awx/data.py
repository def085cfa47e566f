"""The AWX data files, and what the playbooks and roles read, for the consistency tests."""

import re

import jinja2
import jinja2.nodes
import yaml

from tests.conftest import PROJECT_ROOT

AWX = PROJECT_ROOT / "awx"
# Keys whose string value Ansible evaluates as a bare Jinja expression.
CONDITIONALS = {"when", "failed_when", "changed_when", "until", "that"}
ENV_LOOKUP = re.compile(r"""lookup\(\s*['"](?:ansible\.builtin\.)?env['"]\s*,\s*['"](\w+)['"]""")


class Unsafe(str):
    """A ``!unsafe`` string: Ansible passes it on untemplated."""


class Loader(yaml.SafeLoader):
    """YAML as Ansible reads it, with ``!unsafe`` kept apart."""


Loader.add_constructor("!unsafe", lambda loader, node: Unsafe(loader.construct_scalar(node)))


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=Loader)


def job_templates():
    return load(AWX / "job_templates.yml")["canary_awx_job_templates"]


def workflows():
    return load(AWX / "workflows.yml")["canary_awx_workflows"]


def credential_types():
    return load(AWX / "credential_types.yml")["canary_awx_credential_types"]


def survey(name):
    return load(AWX / "surveys" / f"{name}.yml")


def setup_play():
    (play,) = load(PROJECT_ROOT / "playbooks" / "awx_setup.yml")
    return play


def stages(inventory="yyc3-short-drama"):
    """The release spec's stages of an inventory."""
    spec = load(PROJECT_ROOT / "inventories" / inventory / "group_vars" / "frontend.yml")
    return spec["canary"]["stages"]


def _strings(node, key=None):
    """(key, string) for every string value in a YAML tree, with the key it sits under."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item, key)
    elif isinstance(node, str) and not isinstance(node, Unsafe):
        yield key, node


def _runbook_files():
    """The operator playbooks (not awx_setup.yml, which only talks to AWX) and the roles."""
    for path in sorted((PROJECT_ROOT / "playbooks").glob("*.yml")):
        if path.name != "awx_setup.yml":
            yield path
    yield from sorted((PROJECT_ROOT / "roles").glob("*/*/*.yml"))


def variables_read():
    """Every variable a Jinja expression of the playbooks and roles reads."""
    env = jinja2.Environment()
    names = set()
    for path in _runbook_files():
        for key, text in _strings(load(path)):
            if key in CONDITIONALS:
                text = "{{ " + text + " }}"
            elif "{{" not in text and "{%" not in text:
                continue
            names |= _loaded(env.parse(text))
    return names


def _loaded(ast):
    """The names a template reads and does not set itself (loop variables, ``set``)."""
    stored, loaded = set(), set()
    for node in ast.find_all(jinja2.nodes.Name):
        (stored if node.ctx in ("store", "param") else loaded).add(node.name)
    return loaded - stored


def artifact_names():
    """The names the playbooks and roles publish with set_stats."""
    names = set()
    for path in _runbook_files():
        tasks = load(path)
        for task in _tasks(tasks):
            stats = task.get("ansible.builtin.set_stats") or task.get("set_stats")
            if isinstance(stats, dict):
                names |= set(stats.get("data") or {})
    return names


def _tasks(node):
    if isinstance(node, list):
        for item in node:
            yield from _tasks(item)
    elif isinstance(node, dict):
        yield node
        for key in ("tasks", "block", "rescue", "always", "pre_tasks", "post_tasks", "handlers"):
            yield from _tasks(node.get(key))


def environment_read():
    """The environment variables the inventories and the runbooks read with lookup('env')."""
    paths = [*sorted((PROJECT_ROOT / "inventories").rglob("*.yml")), *_runbook_files()]
    names = set()
    for path in paths:
        names |= set(ENV_LOOKUP.findall(path.read_text(encoding="utf-8")))
    return names
