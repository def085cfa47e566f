"""Jinja templating of free PromQL: one query text for every service, track and window.

Queries are rendered by the modules, not by Ansible: in the inventory they are marked
``!unsafe`` (or wrapped in ``{% raw %}``) so Ansible passes the braces through. The
sandboxed environment and ``StrictUndefined`` make a typo a validation error that names
the variable, never an empty string inside a query.
"""

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

# Always available; a release adds service, namespace and canary_namespace.
QUERY_VARIABLES = ("track", "selector", "window")

_ENVIRONMENT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
# Jinja's globals include ``namespace`` (a class), which would hide a missing variable of
# that name; queries only see the variables they are given.
_ENVIRONMENT.globals.clear()


class QueryTemplateError(ValueError):
    """A query template that cannot be rendered with the variables it was given."""


def render_query(template, variables):
    """Render ``template`` with ``variables``; raise ``QueryTemplateError`` naming the problem."""
    if "{{" not in template and "{%" not in template:
        return template
    try:
        return _ENVIRONMENT.from_string(template).render(variables)
    except TemplateError as exc:
        known = ", ".join(sorted(variables))
        raise QueryTemplateError(f"cannot render: {exc} (variables: {known})") from exc
