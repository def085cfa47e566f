"""The plan's rules as the YYC3 inventory writes them, and users of every segment.

The tests read the rules from ``inventories/yyc3-short-drama/group_vars/frontend.yml``,
so the example the README documents is the one the tests hold to. Its ``!unsafe`` tags
are read as plain text: importing Ansible's own loader would switch the process to
controller mode, where modules run in-process by other tests lose their warnings. ``SEGMENTS`` are users each rule is meant for,
with the share the README gives them at each stage.
"""

import json

import yaml

from tests.conftest import PROJECT_ROOT

INVENTORY = PROJECT_ROOT / "inventories" / "yyc3-short-drama" / "group_vars" / "frontend.yml"


class _InventoryLoader(yaml.SafeLoader):
    """A safe loader that reads ``!unsafe`` scalars as plain text."""


_InventoryLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def plan_targeting():
    with open(INVENTORY) as handle:
        loaded = yaml.load(handle, Loader=_InventoryLoader)
    # Plain dicts and ints, as the spec check hands them on.
    return json.loads(json.dumps(loaded["canary"]["traffic"]["targeting"]))


def headers(user, **attributes):
    """The request headers of a user with the given attributes (the defaults' names)."""
    names = {
        "type": "X-User-Type",
        "level": "X-User-Level",
        "active": "X-User-Active",
        "internal": "X-User-Internal",
        "region": "X-User-Region",
    }
    found = {"X-User-Id": user}
    for name, value in attributes.items():
        found[names[name]] = str(value).lower() if isinstance(value, bool) else str(value)
    return found


# (rule, attributes of its users, share at the stages 5, 20, 50, 100)
SEGMENTS = [
    ("internal users", {"type": "internal", "internal": True, "level": 3}, (100, 100, 100, 100)),
    (
        "active users of level 5 and up",
        {"type": "normal", "internal": False, "active": True, "level": 7, "region": "wuhan"},
        (50, 50, 50, 100),
    ),
    (
        "vip users",
        {"type": "vip", "internal": False, "active": False, "level": 8},
        (50, 50, 50, 100),
    ),
    (
        "new users",
        {"type": "new", "internal": False, "active": True, "level": 2},
        (30, 30, 50, 100),
    ),
    (
        "normal users in first-tier cities",
        {"type": "normal", "internal": False, "active": False, "level": 3, "region": "Beijing"},
        (20, 20, 50, 100),
    ),
    (
        "everyone else",
        {"type": "normal", "internal": False, "active": True, "level": 4, "region": "luoyang"},
        (5, 20, 50, 100),
    ),
]
STAGES = (5, 20, 50, 100)
