"""execution-environment.yml carries what a job needs at run time, pinned as the project pins it.

Its Python packages are requirements.txt's pins (ansible-runner aside, which only the
image needs), and cover every third-party module the project's modules, module_utils
and filters import that ansible-core does not bring; its collections are
requirements.yml's; the external tools the roles run are copied in.
"""

import ast
import importlib.metadata
import re
import sys

import yaml
from packaging.requirements import Requirement

from tests.conftest import PROJECT_ROOT

EE = yaml.safe_load((PROJECT_ROOT / "execution-environment.yml").read_text(encoding="utf-8"))
DEPENDENCIES = EE["dependencies"]
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)$")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines):
    """{canonical name: version} of ``name==version`` lines (comments and blanks skipped)."""
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            match = REQUIREMENT.match(line)
            assert match, f"not an exact pin: {line!r}"
            found[canonical(match[1])] = match[2]
    return found


REQUIREMENTS = pins((PROJECT_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines())
EE_PYTHON = pins(DEPENDENCIES["python"])


def test_every_python_package_is_pinned_as_requirements_txt_pins_it():
    assert EE_PYTHON
    for name, version in EE_PYTHON.items():
        assert REQUIREMENTS.get(name) == version, name


def test_ansible_core_is_requirements_txt_pin():
    (core,) = pins([DEPENDENCIES["ansible_core"]["package_pip"]]).items()
    assert core == ("ansible-core", REQUIREMENTS["ansible-core"])
    # ansible-runner is what AWX starts in the image; exactly pinned too.
    assert list(pins([DEPENDENCIES["ansible_runner"]["package_pip"]])) == ["ansible-runner"]


def test_collections_are_requirements_yml():
    wanted = yaml.safe_load((PROJECT_ROOT / "requirements.yml").read_text(encoding="utf-8"))
    as_pairs = lambda collections: sorted((c["name"], str(c["version"])) for c in collections)  # noqa: E731
    assert as_pairs(DEPENDENCIES["galaxy"]["collections"]) == as_pairs(wanted["collections"])
    # Their own catch-all requirements stay out: the packages above are the ones used.
    assert sorted(DEPENDENCIES["exclude"]["all_from_collections"]) == sorted(
        c["name"] for c in wanted["collections"]
    )


def imported_distributions():
    """The distributions of the third-party modules the runtime code imports."""
    owners = importlib.metadata.packages_distributions()
    local = {p.stem for p in (PROJECT_ROOT / "module_utils").iterdir()} | {
        "ansible",
        "ansible_collections",
    }
    modules = set()
    for directory in ("library", "module_utils", "filter_plugins"):
        for path in (PROJECT_ROOT / directory).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    third_party = modules - set(sys.stdlib_module_names) - local
    return {module: {canonical(d) for d in owners.get(module, [])} for module in third_party}


def requirements_of(distribution):
    """The distributions ``distribution`` depends on here (no extras), transitively."""
    seen, todo = set(), [distribution]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for text in importlib.metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonical(requirement.name))
    return seen


def test_every_imported_package_is_in_the_image():
    provided = set(EE_PYTHON) | requirements_of("ansible-core")
    for package in EE_PYTHON:
        provided |= requirements_of(package)
    imports = imported_distributions()
    assert "kubernetes" in imports
    for module, distributions in imports.items():
        assert distributions & provided, (
            f"{module} ({distributions or 'not installed'}) is not in the image"
        )


def test_every_python_package_is_used_at_run_time():
    used = set().union(*imported_distributions().values())
    roles = "\n".join(
        p.read_text(encoding="utf-8") for p in (PROJECT_ROOT / "roles").rglob("*.yml")
    )
    # ansible.utils.validate's jsonschema engine imports jsonschema inside the collection.
    if "engine: ansible.utils.jsonschema" in roles:
        used.add("jsonschema")
    assert set(EE_PYTHON) <= used


def test_the_tools_the_roles_run_are_copied_in():
    defaults = yaml.safe_load(
        (PROJECT_ROOT / "roles/canary_monitoring/defaults/main.yml").read_text(encoding="utf-8")
    )
    steps = EE["additional_build_steps"]["append_final"]
    for tool in (defaults["canary_monitoring_promtool"], defaults["canary_monitoring_amtool"]):
        assert any(
            step.startswith("COPY --from=") and step.endswith(f"/bin/{tool} /usr/local/bin/{tool}")
            for step in steps
        ), tool
