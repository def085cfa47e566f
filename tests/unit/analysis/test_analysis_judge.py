"""The judge: only a finite value inside the bounds is a pass."""

import pytest
from ansible.module_utils.analysis.judge import ERROR, FAIL, NO_DATA, PASS, error, judge

NAN, INF = float("NaN"), float("+Inf")


@pytest.mark.parametrize(
    ("value", "minimum", "maximum", "reason"),
    [
        (0.004, None, 0.01, "error_rate = 0.004 <= max 0.01"),
        (0.01, None, 0.01, "error_rate = 0.01 <= max 0.01"),
        (0.995, 0.99, None, "error_rate = 0.995 >= min 0.99"),
        (0.99, 0.99, None, "error_rate = 0.99 >= min 0.99"),
        (0.5, 0.1, 0.9, "error_rate = 0.5 within [0.1, 0.9]"),
        (0.0, None, 0.01, "error_rate = 0 <= max 0.01"),
    ],
)
def test_pass_inside_inclusive_bounds(value, minimum, maximum, reason):
    assert judge("error_rate", value, minimum, maximum) == (PASS, reason)


@pytest.mark.parametrize(
    ("value", "minimum", "maximum", "reason"),
    [
        (0.0312, None, 0.01, "error_rate = 0.0312 > max 0.01"),
        (0.98, 0.99, None, "error_rate = 0.98 < min 0.99"),
        (0.95, 0.1, 0.9, "error_rate = 0.95 > max 0.9"),
        (0.05, 0.1, 0.9, "error_rate = 0.05 < min 0.1"),
    ],
)
def test_fail_names_the_crossed_bound(value, minimum, maximum, reason):
    assert judge("error_rate", value, minimum, maximum) == (FAIL, reason)


def test_value_is_never_printed_equal_to_a_bound_it_crosses():
    result, reason = judge("availability", 0.989999, 0.99, None)
    assert result == FAIL
    assert reason == "availability = 0.989999 < min 0.99"


@pytest.mark.parametrize("raw", ["NaN", "+Inf", "-Inf"])
def test_nan_and_infinity_strings_are_no_data(raw):
    result, reason = judge("error_rate", float(raw), None, 0.01)
    assert result == NO_DATA
    assert reason == f"error_rate = {raw}: no data"


@pytest.mark.parametrize("raw", ["NaN", "+Inf", "-Inf"])
def test_no_data_even_when_a_min_only_bound_would_accept_it(raw):
    assert judge("success", float(raw), 0.99, None)[0] == NO_DATA


def test_empty_result_is_no_data():
    assert judge("latency_p99", None, None, 2.0) == (NO_DATA, "latency_p99: no data (empty result)")


def test_infinity_is_judged_when_meaningful():
    assert judge("latency_p99", INF, None, 2.0, infinite_is_data=True) == (
        FAIL,
        "latency_p99 = +Inf > max 2",
    )


def test_nan_stays_no_data_even_when_infinity_is_meaningful():
    assert judge("latency_p99", NAN, None, 2.0, infinite_is_data=True)[0] == NO_DATA


def test_error():
    assert error("error_rate", "HTTP 500: boom") == (
        ERROR,
        "error_rate: query failed: HTTP 500: boom",
    )
