import pytest
from ansible.module_utils.durations import DurationError, parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (0, 0.0),
        (90, 90.0),
        ("45", 45.0),
        ("30s", 30.0),
        ("10m", 600.0),
        ("1h30m", 5400.0),
        ("2d", 172800.0),
        ("500ms", 0.5),
        (1.5, 1.5),
    ],
)
def test_parse(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    "value",
    [-1, "-10s", "ten minutes", "10 m", "", "1x", True, "m", float("nan"), float("inf")],
)
def test_reject(value):
    with pytest.raises(DurationError):
        parse_duration(value)
