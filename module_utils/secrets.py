"""The secret fields of the release spec, kept apart from everything that gets printed.

The completed spec is a fact and a module argument in almost every task, so it shows up
in ``-vvv`` output, AWX job events and module invocations. The fields listed here are
removed from it (``split``) and travel to the few modules that need them in a separate
``secrets`` argument declared ``no_log`` (``merge`` puts them back in memory only).
"""

import copy

SECRET_FIELDS = (
    ("validation", "functional", "body"),
    ("analysis", "prometheus", "bearer_token"),
    ("analysis", "prometheus", "password"),
    ("notifications", "slack", "url"),
    ("notifications", "webhook", "url"),
    ("notifications", "webhook", "headers"),
)

SECRETS_ARGUMENT = {"type": "dict", "default": {}, "no_log": True}


def _dotted(path):
    return ".".join(path)


def split(spec):
    """Return ``(public, secrets)``: a copy of ``spec`` without its secret fields, and them.

    ``secrets`` maps each dotted path that had a value (``analysis.prometheus.password``)
    to that value.
    """
    public = copy.deepcopy(spec)
    secrets = {}
    for path in SECRET_FIELDS:
        parent = public
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and path[-1] in parent:
            value = parent.pop(path[-1])
            if value is not None:
                secrets[_dotted(path)] = value
    return public, secrets


def merge(public, secrets):
    """A copy of ``public`` with ``secrets`` (from ``split``) put back in place.

    Raises ``ValueError`` naming a key that is not a secret field, so a typo cannot
    silently drop a credential.
    """
    known = {_dotted(path): path for path in SECRET_FIELDS}
    unknown = sorted(set(secrets or {}) - set(known))
    if unknown:
        raise ValueError(
            f"secrets: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(known)}"
        )
    spec = copy.deepcopy(public)
    for dotted, value in (secrets or {}).items():
        parent = spec
        for key in known[dotted][:-1]:
            parent = parent.setdefault(key, {})
        parent[known[dotted][-1]] = value
    return spec
