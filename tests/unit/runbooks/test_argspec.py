"""The numbers an argument spec lets through: booleans and non-finite floats."""

import pytest
from ansible.module_utils.argspec import validated

SPEC = {
    "count": {"type": "int"},
    "ratio": {"type": "float"},
    "flag": {"type": "bool"},
    "sizes": {"type": "list", "elements": "int"},
    "items": {"type": "list", "elements": "dict", "options": {"weight": {"type": "int"}}},
    "nested": {"type": "dict", "options": {"max": {"type": "float"}}},
}


def test_good_numbers_and_booleans_where_they_belong_pass():
    section, errors = validated(SPEC, {"count": 3, "ratio": 0.5, "flag": True}, "s")
    assert errors == [] and section["count"] == 3 and section["flag"] is True


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"count": True}, "s.count: expected an integer, got True"),
        ({"ratio": False}, "s.ratio: expected a number, got False"),
        ({"ratio": float("nan")}, "s.ratio: must be a finite number, got nan"),
        ({"count": float("-inf")}, "s.count: must be a finite number, got -inf"),
        ({"sizes": [1, True]}, "s.sizes[1]: expected an integer, got True"),
        ({"items": [{"weight": 5}, {"weight": False}]}, "s.items[1].weight: expected an integer"),
        ({"nested": {"max": float("inf")}}, "s.nested.max: must be a finite number, got inf"),
    ],
)
def test_a_boolean_or_non_finite_number_is_refused_naming_the_field(raw, error):
    section, errors = validated(SPEC, raw, "s")
    assert section is None
    assert [e for e in errors if e.startswith(error)] == errors, errors


def test_the_callers_input_is_not_changed():
    raw = {"items": [{"weight": 5}]}
    validated(SPEC, raw, "s")
    assert raw == {"items": [{"weight": 5}]}
