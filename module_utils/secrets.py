"""The secret fields of the release spec, kept apart from everything that gets printed.

The completed spec is a fact and a module argument in almost every task, so it shows up
in ``-vvv`` output, AWX job events and module invocations. The fields listed here are
removed from it (``split``) and travel to the few modules that need them in a separate
``secrets`` argument declared ``no_log`` (``merge`` puts them back in memory only).

Secret fields are kept as small as possible: Ansible masks every string of a ``no_log``
argument wherever it appears in a task's output, so a whole journey declared secret
would star out its step names, paths and every other occurrence of them. A ``*`` in a
path stands for each element of a list (each journey, each step).
"""

import copy

SECRET_FIELDS = (
    ("validation", "journeys", "*", "steps", "*", "body"),
    ("validation", "journeys", "*", "steps", "*", "headers"),
    ("validation", "load", "body"),
    ("validation", "load", "headers"),
    ("analysis", "prometheus", "bearer_token"),
    ("analysis", "prometheus", "password"),
    ("notifications", "slack", "url"),
    ("notifications", "webhook", "url"),
    ("notifications", "webhook", "headers"),
)

SECRETS_ARGUMENT = {"type": "dict", "default": {}, "no_log": True}


def _holders(node, pattern, path=()):
    """Yield ``(path, parent, key)`` for every place ``pattern`` names in ``node``."""
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        children = enumerate(node) if isinstance(node, list) else ()
    else:
        children = [(head, node[head])] if isinstance(node, dict) and head in node else ()
    for key, child in children:
        if rest:
            yield from _holders(child, rest, (*path, str(key)))
        else:
            yield (*path, str(key)), node, key


def _matches(dotted):
    """The secret field pattern a dotted path is an instance of, or None."""
    parts = dotted.split(".")
    for pattern in SECRET_FIELDS:
        if len(pattern) == len(parts) and all(
            want == part or (want == "*" and part.isdigit())
            for want, part in zip(pattern, parts, strict=True)
        ):
            return pattern
    return None


def split(spec):
    """Return ``(public, secrets)``: a copy of ``spec`` without its secret fields, and them.

    ``secrets`` maps each dotted path that had a value (``analysis.prometheus.password``,
    ``validation.journeys.0.steps.1.body``) to that value.
    """
    public = copy.deepcopy(spec)
    secrets = {}
    for pattern in SECRET_FIELDS:
        # Patterns end in a key, so every holder is a mapping.
        for path, parent, key in list(_holders(public, pattern)):
            value = parent.pop(key)
            if value is not None:
                secrets[".".join(path)] = value
    return public, secrets


def merge(public, secrets):
    """A copy of ``public`` with ``secrets`` (from ``split``) put back in place.

    Raises ``ValueError`` naming a key that is not a secret field, so a typo cannot
    silently drop a credential.
    """
    unknown = sorted(key for key in (secrets or {}) if _matches(key) is None)
    if unknown:
        allowed = ", ".join(".".join(pattern) for pattern in SECRET_FIELDS)
        raise ValueError(f"secrets: unknown field(s) {', '.join(unknown)}; allowed: {allowed}")
    spec = copy.deepcopy(public)
    for dotted, value in (secrets or {}).items():
        parts = dotted.split(".")
        parent = spec
        for part in parts[:-1]:
            if isinstance(parent, list):
                # Lists (journeys, steps) stay in the public spec; only leaves are secret.
                if not int(part) < len(parent):
                    raise ValueError(f"secrets: {dotted} has no place in the spec")
                parent = parent[int(part)]
            else:
                parent = parent.setdefault(part, {})
        parent[parts[-1]] = value
    return spec
