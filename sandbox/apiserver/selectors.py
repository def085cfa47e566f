"""Label and field selectors, parsed once per request and matched against objects.

Label selectors follow ``k8s.io/apimachinery/pkg/labels``: equality (``=``, ``==``,
``!=``), set-based (``in``, ``notin``), existence (``key``) and absence (``!key``).
Field selectors support ``metadata.name`` and ``metadata.namespace`` everywhere plus the
extra fields a resource lists in the table; anything else is a 400, as on a real server.
"""

import re

from sandbox.apiserver.errors import bad_request

_SET_TERM = re.compile(r"^\s*([^\s!=()]+)\s+(in|notin)\s+\((.*)\)\s*$")
_EQUALITY_TERM = re.compile(r"^\s*([^\s!=()]+)\s*(==|!=|=)\s*([^\s!=()]*)\s*$")
_EXISTS_TERM = re.compile(r"^\s*(!?)\s*([^\s!=()]+)\s*$")


def _split_terms(text):
    """Split on commas outside parentheses, so ``a in (x,y),b`` gives two terms."""
    terms, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [term for term in terms if term.strip()]


def _label_term(term):
    """Return a predicate over a labels dict for one selector term."""
    if match := _SET_TERM.match(term):
        key, operator, values = match.groups()
        allowed = {value.strip() for value in values.split(",") if value.strip()}
        if operator == "in":
            return lambda labels: labels.get(key) in allowed
        return lambda labels: labels.get(key) not in allowed
    if match := _EQUALITY_TERM.match(term):
        key, operator, value = match.groups()
        if operator == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if match := _EXISTS_TERM.match(term):
        negated, key = match.groups()
        if negated:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise bad_request(f"unable to parse requirement: found '{term.strip()}', expected: selector")


def parse_label_selector(text):
    """Return a predicate over an object for a labelSelector query value."""
    predicates = [_label_term(term) for term in _split_terms(text or "")]

    def matches(obj):
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(predicate(labels) for predicate in predicates)

    return matches


def _field_value(obj, path):
    value = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def parse_field_selector(text, resource):
    """Return a predicate over an object for a fieldSelector query value."""
    supported = ("metadata.name", "metadata.namespace", *resource.fields)
    predicates = []
    for term in _split_terms(text or ""):
        match = _EQUALITY_TERM.match(term)
        if not match:
            raise bad_request(f"invalid field selector: '{term.strip()}'")
        path, operator, expected = match.groups()
        if path not in supported:
            raise bad_request(f"field label not supported: {path}")
        negate = operator == "!="
        predicates.append(
            lambda obj, p=path, e=expected, n=negate: (_field_value(obj, p) == e) != n
        )
    return lambda obj: all(predicate(obj) for predicate in predicates)


def match_selector(selector, labels):
    """Match a LabelSelector object (matchLabels, matchExpressions) against labels.

    The Deployment controller uses it to find a Deployment's pods; an empty selector
    matches nothing, as Kubernetes treats a Deployment without a selector as invalid.
    """
    if not selector:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = set(expression.get("values") or [])
        checks = {
            "In": lambda k=key, v=values: labels.get(k) in v,
            "NotIn": lambda k=key, v=values: labels.get(k) not in v,
            "Exists": lambda k=key: k in labels,
            "DoesNotExist": lambda k=key: k not in labels,
        }
        if operator not in checks or not checks[operator]():
            return False
    return True
