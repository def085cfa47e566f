"""The names the API server accepts for each kind of object a release names or creates.

apimachinery's rules: Service names are DNS-1035 labels (``IsDNS1035Label``), namespaces
DNS-1123 labels, Deployments, ConfigMaps and Leases DNS-1123 subdomains. Checked before
anything is written, so a name the API server would refuse (422) stops the run at the
spec check instead of halfway through a release.
"""

import re
from typing import NamedTuple

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"


class Rule(NamedTuple):
    name: str
    pattern: re.Pattern
    limit: int
    shape: str

    def describe(self):
        return f"{self.shape}, at most {self.limit} characters"

    def matches(self, value):
        return len(value) <= self.limit and self.pattern.fullmatch(value) is not None


DNS1035_LABEL = Rule(
    "DNS-1035 label",
    re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?"),
    63,
    "a lower-case letter first, then lower-case letters, digits or '-', ending in a letter "
    "or digit",
)
DNS1123_LABEL = Rule(
    "DNS-1123 label",
    re.compile(_LABEL),
    63,
    "lower-case letters, digits or '-', starting and ending with a letter or digit",
)
DNS1123_SUBDOMAIN = Rule(
    "DNS-1123 subdomain",
    re.compile(rf"{_LABEL}(\.{_LABEL})*"),
    253,
    "DNS-1123 labels joined by '.'",
)

KINDS = {
    "Service": DNS1035_LABEL,
    "Namespace": DNS1123_LABEL,
    "Deployment": DNS1123_SUBDOMAIN,
    "ConfigMap": DNS1123_SUBDOMAIN,
    "Lease": DNS1123_SUBDOMAIN,
}


def problem(kind, name):
    """Why ``name`` cannot name an object of ``kind`` (a sentence to follow the name), or None."""
    rule = KINDS[kind]
    if len(name) > rule.limit:
        return (
            f"is {len(name)} characters; {kind} names are {rule.name}s of at most "
            f"{rule.limit} characters"
        )
    if not rule.matches(name):
        return f"is not valid; {kind} names are {rule.name}s: {rule.describe()}"
    return None
