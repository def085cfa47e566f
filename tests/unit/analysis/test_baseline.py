"""Baseline judge: Kayenta-style classification of canary against baseline, and the score."""

import json
import random

import pytest
from ansible.module_utils.analysis.baseline import HIGH, LOW, classify, score
from ansible.module_utils.analysis.judge import NO_DATA, PASS

NAN, INF = float("NaN"), float("+Inf")


def gauss(seed, size, mu, sigma):
    rng = random.Random(seed)
    return [rng.gauss(mu, sigma) for _ in range(size)]


HEALTHY = gauss(1, 120, 0.002, 0.0005)
HEALTHY_TOO = gauss(2, 120, 0.002, 0.0005)
BROKEN = gauss(3, 120, 0.031, 0.002)
DEGRADED = gauss(4, 120, 0.08, 0.01)
DEGRADED_TOO = gauss(5, 120, 0.08, 0.01)


def test_same_distribution_passes():
    result = classify("error_rate", HEALTHY, HEALTHY_TOO)
    assert result["result"] == PASS
    low, high = result["interval"]
    assert low <= 0 <= high
    assert result["reason"].endswith(": pass")
    assert (result["canary_samples"], result["baseline_samples"]) == (120, 120)


def test_identical_samples_pass():
    result = classify("error_rate", HEALTHY, list(reversed(HEALTHY)), direction="either")
    assert result["result"] == PASS
    assert result["estimate"] == 0


def test_clear_increase_is_high_with_the_numbers_in_the_reason():
    result = classify("error_rate", BROKEN, HEALTHY)
    assert result["result"] == HIGH
    assert result["reason"] == (
        "error_rate: canary median 0.03062 vs baseline 0.001994, shift +0.02867 "
        "(98% CI +0.02833..+0.02906): high"
    )
    assert result["p_value"] < 1e-30
    assert result["interval"][0] > 0
    assert result["canary_mean"] > result["baseline_mean"]


@pytest.mark.parametrize("direction", ["decrease", "either"])
def test_clear_decrease_is_low(direction):
    result = classify("success_rate", HEALTHY, BROKEN, direction=direction)
    assert result["result"] == LOW
    assert result["reason"].endswith(": low")
    assert result["interval"][1] < 0


def test_a_decrease_passes_when_only_an_increase_fails():
    result = classify("error_rate", HEALTHY, BROKEN, direction="increase")
    assert result["result"] == PASS
    assert result["reason"].endswith(": low, but only an increase fails: pass")


def test_an_increase_passes_when_only_a_decrease_fails():
    result = classify("throughput", BROKEN, HEALTHY, direction="decrease")
    assert result["result"] == PASS
    assert result["reason"].endswith(": high, but only a decrease fails: pass")


def test_degraded_baseline_and_equally_degraded_canary_pass():
    # Both well above any sane fixed threshold: a shared dependency is failing.
    result = classify("error_rate", DEGRADED, DEGRADED_TOO)
    assert result["result"] == PASS
    # The same canary next to a healthy baseline is the canary's fault.
    assert classify("error_rate", DEGRADED, HEALTHY)["result"] == HIGH


def test_a_shift_within_the_tolerance_of_its_own_estimate_passes():
    # Significant (the 98% interval excludes 0) but the interval reaches below a
    # quarter of the estimate: Kayenta's calculateBounds lets it pass.
    rng = random.Random(2)
    baseline = [rng.gauss(10, 1) for _ in range(200)]
    canary = [rng.gauss(10.3, 1) for _ in range(200)]
    result = classify("latency", canary, baseline)
    low, _ = result["interval"]
    assert 0 < low <= 0.25 * result["estimate"]
    assert result["result"] == PASS
    assert classify("latency", canary, baseline, tolerance=0.0)["result"] == HIGH


def test_effect_size_gate_on_the_mean_ratio():
    baseline, canary = gauss(6, 500, 100, 1), gauss(7, 500, 103, 1)
    assert classify("latency", canary, baseline)["result"] == HIGH
    gated = classify("latency", canary, baseline, effect_size=1.05)
    assert gated["result"] == PASS
    assert gated["reason"].endswith(": high, but mean ratio 1.03 < effect size 1.05: pass")
    stricter = classify("latency", canary, baseline, effect_size=1.02)
    assert stricter["result"] == HIGH


def test_effect_size_gate_for_a_decrease():
    baseline, canary = gauss(8, 500, 100, 1), gauss(9, 500, 97, 1)
    assert classify("rps", canary, baseline, direction="decrease")["result"] == LOW
    gated = classify("rps", canary, baseline, direction="decrease", effect_size=1.05)
    assert gated["result"] == PASS
    assert gated["reason"].endswith(": low, but mean ratio 0.97 > 1/effect size 0.952: pass")
    stricter = classify("rps", canary, baseline, direction="decrease", effect_size=1.02)
    assert stricter["result"] == LOW


def test_effect_size_gate_is_skipped_when_a_mean_is_zero():
    # 0 errors in the baseline: the ratio is undefined, the shift alone decides.
    result = classify("error_rate", [0.05] * 60, [0.0] * 60, effect_size=2.0)
    assert result["result"] == HIGH
    assert (result["estimate"], result["interval"]) == (0.05, [0.05, 0.05])


def test_all_values_equal_passes():
    result = classify("error_rate", [0.0] * 60, [0.0] * 80, direction="either")
    assert result["result"] == PASS
    assert result["p_value"] == 1.0


@pytest.mark.parametrize(("canary", "baseline"), [(HEALTHY[:49], HEALTHY), (HEALTHY, [])])
def test_too_few_samples_is_no_data(canary, baseline):
    result = classify("error_rate", canary, baseline)
    assert result["result"] == NO_DATA
    assert result["reason"] == (
        f"error_rate: no data: {len(canary)} canary and {len(baseline)} baseline samples, "
        "50 needed on each side"
    )
    assert (result["p_value"], result["estimate"], result["interval"]) == (None, None, None)


def test_min_samples_is_configurable_but_never_below_one():
    assert classify("x", BROKEN[:10], HEALTHY[:10], min_samples=10)["result"] == HIGH
    result = classify("x", [], [], min_samples=0)
    assert result["result"] == NO_DATA
    assert result["reason"] == "x: no data: 0 canary and 0 baseline samples, 1 needed on each side"


def test_nan_and_infinite_samples_are_dropped():
    result = classify("error_rate", [*BROKEN, NAN, INF, -INF], [NAN, *HEALTHY])
    assert result["result"] == HIGH
    assert (result["canary_samples"], result["baseline_samples"]) == (120, 120)
    assert result == classify("error_rate", BROKEN, HEALTHY)


def test_dropped_samples_can_leave_too_few():
    result = classify("error_rate", HEALTHY[:45] + [NAN] * 20, HEALTHY, min_samples=50)
    assert result["result"] == NO_DATA
    assert result["reason"].endswith("50 needed on each side (20 NaN/Inf dropped)")


def test_prometheus_sample_strings_are_numbers():
    result = classify("error_rate", [str(v) for v in BROKEN] + ["NaN"], HEALTHY)
    assert (result["result"], result["canary_samples"]) == (HIGH, 120)


def test_result_is_strict_json():
    for result in (classify("a", BROKEN, HEALTHY), classify("b", [], HEALTHY)):
        json.dumps(result, allow_nan=False)


def test_unknown_direction_is_an_error():
    with pytest.raises(ValueError, match="direction must be one of increase, decrease, either"):
        classify("x", HEALTHY, HEALTHY, direction="up")


@pytest.mark.parametrize("effect_size", [0, -1.1])
def test_effect_size_must_be_positive(effect_size):
    with pytest.raises(ValueError, match="effect_size must be above 0"):
        classify("x", HEALTHY, HEALTHY, effect_size=effect_size)


def results(*pairs):
    return [{"name": name, "result": result} for name, result in pairs]


def test_all_passing_scores_100():
    assert score(results(("a", PASS), ("b", PASS))) == {
        "score": 100.0,
        "verdict": PASS,
        "reason": "score 100 (2 of 2 metrics pass): pass",
    }


@pytest.mark.parametrize(
    ("passes", "others", "value", "verdict"),
    [
        (19, [HIGH], 95.0, "pass"),
        (3, [LOW], 75.0, "marginal"),
        (2, [HIGH], 66.67, "fail"),
        (9, [NO_DATA], 90.0, "marginal"),
        (3, [NO_DATA, HIGH], 60.0, "fail"),
    ],
)
def test_score_is_the_share_of_passes_including_no_data(passes, others, value, verdict):
    classified = results(*[(f"m{i}", PASS) for i in range(passes)])
    classified += results(*[(f"bad{i}", result) for i, result in enumerate(others)])
    outcome = score(classified)
    assert (outcome["score"], outcome["verdict"]) == (value, verdict)
    listing = ", ".join(f"bad{i} {result}" for i, result in enumerate(others))
    assert outcome["reason"] == (
        f"score {value:g} ({passes} of {len(classified)} metrics pass; "
        f"not passing: {listing}): {verdict}"
    )


def test_thresholds_are_configurable():
    classified = results(("a", PASS), ("b", PASS), ("c", HIGH))
    assert score(classified, pass_threshold=60, marginal_threshold=50)["verdict"] == PASS
    assert score(classified, pass_threshold=70, marginal_threshold=60)["verdict"] == "marginal"


@pytest.mark.parametrize("failure", [HIGH, LOW, NO_DATA])
def test_a_failing_critical_metric_scores_0(failure):
    classified = results(*[(f"m{i}", PASS) for i in range(30)], ("error_rate", failure))
    outcome = score(classified, critical=("error_rate",))
    assert (outcome["score"], outcome["verdict"]) == (0.0, "fail")
    assert outcome["reason"] == (
        f"critical error_rate {failure}: score 0 "
        f"(30 of 31 metrics pass; not passing: error_rate {failure}): fail"
    )


def test_a_passing_critical_metric_changes_nothing():
    classified = results(("error_rate", PASS), ("latency", PASS), ("cpu", HIGH), ("mem", PASS))
    assert score(classified, critical=("error_rate",))["score"] == 75.0


def test_half_the_metrics_without_data_scores_0():
    outcome = score(results(("a", PASS), ("b", PASS), ("c", NO_DATA), ("d", NO_DATA)))
    assert (outcome["score"], outcome["verdict"]) == (0.0, "fail")
    assert outcome["reason"].startswith("2 of 4 metrics without data (50% or more): score 0 (")


def test_just_under_half_without_data_is_scored():
    classified = results(("a", PASS), ("b", PASS), ("c", PASS), ("d", NO_DATA), ("e", NO_DATA))
    assert score(classified)["score"] == 60.0


def test_nothing_classified_fails():
    assert score([]) == {
        "score": 0.0,
        "verdict": "fail",
        "reason": "no metrics classified: score 0 (0 of 0 metrics pass): fail",
    }


def test_classify_and_score_together():
    classified = [
        classify("error_rate", BROKEN, HEALTHY),
        classify("latency", HEALTHY, HEALTHY_TOO),
        classify("saturation", HEALTHY[:10], HEALTHY),
    ]
    outcome = score(classified)
    assert outcome["verdict"] == "fail"
    assert outcome["reason"].endswith("not passing: error_rate high, saturation no_data): fail")
