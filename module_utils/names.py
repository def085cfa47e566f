"""The names the API server accepts for each kind of object a release names or creates,
and the image references a container runtime can pull.

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


# The distribution reference grammar (the one container runtimes parse):
# [domain[:port]/]path-component[/path-component...][:tag][@algorithm:hex].
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_IMAGE_NAME = re.compile(rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*", re.ASCII)
_TAG = re.compile(r"\w[\w.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
# The name's longest, without tag and digest.
IMAGE_NAME_LIMIT = 255
IMAGE_SHAPE = (
    "[registry[:port]/]name[:tag][@sha256:digest], e.g. registry.example.com/yyc3/app:1.1.0"
)


def image_problem(reference):
    """Why ``reference`` is not an image reference (a sentence to follow it), or None."""
    rest, _, digest = reference.partition("@")
    # The tag is after the last ':' that comes after the last '/' (a registry's port is not).
    name, colon, tag = rest.rpartition(":") if ":" in rest.rsplit("/", 1)[-1] else (rest, "", "")
    if not _IMAGE_NAME.fullmatch(name):
        return f"has no valid image name; expected {IMAGE_SHAPE}"
    if len(name) > IMAGE_NAME_LIMIT:
        return f"has a name of {len(name)} characters; at most {IMAGE_NAME_LIMIT}"
    if colon and not _TAG.fullmatch(tag):
        return (
            f"has an invalid tag {tag!r}; a tag is letters, digits, '_', '.' or '-', "
            "at most 128, not starting with '.' or '-'"
        )
    if "@" in reference and not _DIGEST.fullmatch(digest):
        return (
            f"has an invalid digest {digest!r}; expected algorithm:hex, e.g. sha256:<64 hex digits>"
        )
    return None
