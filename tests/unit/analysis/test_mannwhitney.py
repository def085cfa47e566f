"""Mann-Whitney U test and Hodges-Lehmann shift against scipy, brute force and R."""

import math
import random
import statistics
from collections import Counter

import pytest
from ansible.module_utils.analysis.mannwhitney import EXACT_BELOW, kth_difference, mann_whitney
from scipy.stats import mannwhitneyu, norm, rankdata


def gauss(seed, size, mu=0.0, sigma=1.0):
    rng = random.Random(seed)
    return [rng.gauss(mu, sigma) for _ in range(size)]


def steps(seed, size, levels=6, step=0.5, offset=0.0):
    """Values on a coarse grid, so the sample is full of ties (like counts or ms)."""
    rng = random.Random(seed)
    return [offset + step * rng.randrange(levels) for _ in range(size)]


SAMPLES = {
    "tiny": (gauss(1, 5, 0.5), gauss(2, 7)),
    "tiny-separated": (gauss(3, 4, 10.0), gauss(4, 6)),
    "small-unequal": (gauss(5, 3), gauss(6, 12, 1.0)),
    "medium": (gauss(7, 30, 0.3), gauss(8, 40)),
    "largest-exact": (gauss(9, 49), gauss(10, 49, 0.2)),
    "one-side-50": (gauss(11, 50, 0.5), gauss(12, 10)),
    "large": (gauss(13, 200, 0.1), gauss(14, 150)),
    "small-ties": (steps(15, 8), steps(16, 9)),
    "ties": (steps(17, 120), steps(18, 100, offset=0.5)),
    "ties-identical-grids": (steps(19, 60, levels=3), steps(20, 80, levels=3)),
}


def has_ties(x, y):
    return len(set(x) | set(y)) < len(x) + len(y)


def differences(x, y):
    return sorted(a - b for a in x for b in y)


@pytest.mark.parametrize("case", SAMPLES)
def test_u_and_p_value_match_scipy(case):
    x, y = SAMPLES[case]
    exact = not has_ties(x, y) and max(len(x), len(y)) < EXACT_BELOW
    expected = mannwhitneyu(
        x,
        y,
        alternative="two-sided",
        method="exact" if exact else "asymptotic",
        use_continuity=True,
    )
    result = mann_whitney(x, y)
    assert result.u == expected.statistic
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_exact_p_value_only_when_both_samples_are_below_50_and_untied():
    x, y = SAMPLES["one-side-50"]
    asymptotic = mannwhitneyu(x, y, method="asymptotic").pvalue
    exact = mannwhitneyu(x, y, method="exact").pvalue
    assert asymptotic != pytest.approx(exact, rel=1e-6)
    assert mann_whitney(x, y).p_value == pytest.approx(asymptotic, rel=1e-9)


@pytest.mark.parametrize("case", SAMPLES)
def test_estimate_is_the_median_of_pairwise_differences(case):
    x, y = SAMPLES[case]
    assert mann_whitney(x, y).estimate == statistics.median(differences(x, y))


def order_statistic_interval(x, y, confidence):
    """R's asymptotic interval as order statistics, computed the slow way."""
    n, m = len(x), len(y)
    ties = sum(t**3 - t for sample in (x, y) for t in Counter(sample).values())
    sigma = math.sqrt(n * m / 12 * ((n + m + 1) - ties / ((n + m) * (n + m - 1))))
    z = norm.ppf(1 - (1 - confidence) / 2)
    lower = max(1, math.ceil(n * m / 2 - z * sigma - 0.5))
    upper = min(n * m, math.ceil(n * m / 2 + z * sigma + 0.5))
    diffs = differences(x, y)
    return diffs[lower - 1], diffs[upper - 1]


@pytest.mark.parametrize("confidence", [0.98, 0.9])
@pytest.mark.parametrize("case", SAMPLES)
def test_interval_is_the_order_statistic_formula(case, confidence):
    x, y = SAMPLES[case]
    assert mann_whitney(x, y, confidence).interval == order_statistic_interval(x, y, confidence)


def kayenta_wilcoxon_diff(mu, quantile, x, y):
    """Kayenta's ``MannWhitney.wilcoxonDiff``, the function its root finder solves."""
    n, m = len(x), len(y)
    ranks = rankdata([value - mu for value in x] + list(y))
    dz = ranks[:n].sum() - n * (n + 1) / 2 - n * m / 2
    ties = sum(t**3 - t for t in Counter(ranks.tolist()).values())
    sigma = math.sqrt(n * m / 12 * ((n + m + 1) - ties / ((n + m) * (n + m - 1))))
    return (dz - math.copysign(0.5, dz) * (dz != 0)) / sigma - quantile


@pytest.mark.parametrize("case", ["medium", "large", "small-ties", "ties"])
def test_interval_bounds_are_where_kayentas_statistic_changes_sign(case):
    x, y = SAMPLES[case]
    z = norm.ppf(0.99)
    distinct = sorted(set(differences(x, y)))
    for bound, quantile in zip(mann_whitney(x, y).interval, (z, -z), strict=True):
        position = distinct.index(bound)
        if position > 0:
            before = (distinct[position - 1] + bound) / 2
            assert kayenta_wilcoxon_diff(before, quantile, x, y) > 0
        if position < len(distinct) - 1:
            after = (bound + distinct[position + 1]) / 2
            assert kayenta_wilcoxon_diff(after, quantile, x, y) <= 0


# R's wilcox.test(experiment, control, conf.int=TRUE) on these samples, as recorded in
# spinnaker/kayenta kayenta-mannwhitney/src/test/scala/.../MannWhitneySuite.scala. R
# finds the roots numerically (uniroot, tolerance about 1e-4); the exact values are the
# order statistics it converged to.
R_CONTROL = [
    *(1.5, 6.0, 5.0, 2.5, 2.5, 2.0, 2.0, 3.5, 3.0, 3.0, 3.0, 2.0, 3.0, 8.0, 4.0, 2.5, 3.0, 2.5),
    *(2.5, 2.0, 2.5, 2.0, 2.0, 2.5, 3.5, 3.0, 1.5, 5.0, 2.5, 5.5, 2.0, 2.5, 3.5, 2.0, 2.5, 4.0),
    *(2.0, 2.0, 2.0, 2.0, 5.5, 4.5, 4.0, 3.0, 3.0, 3.5, 2.5, 3.0, 2.5, 4.0, 6.0, 2.0, 5.0, 6.0),
    *(3.5, 3.0, 54.5, 3.0, 5.0, 6.0, 3.5, 4.5, 2.5, 2.0, 6.0, 5.0, 2.5, 3.5, 2.0, 3.0, 2.5, 3.5),
    *(3.5, 2.5, 3.0, 4.5, 3.0, 15.5, 5.0, 2.5, 3.0, 4.0, 3.5, 4.0, 4.0, 2.0, 4.5, 2.5, 4.0, 3.0),
]
R_EXPERIMENT = [
    *(2.5, 2.5, 2.0, 2.5, 3.5, 2.0, 3.5, 1.5, 3.0, 3.0, 2.5, 3.5, 2.0, 2.5, 2.0, 2.0, 5.0, 3.0),
    *(2.0, 1.5, 2.0, 4.0, 3.0, 2.5, 3.0, 2.0, 2.0, 2.0, 2.5, 3.5, 1.5, 1.5, 3.5, 2.0, 2.5, 2.5),
    *(3.0, 3.5, 2.5, 6.5, 2.5, 4.0, 2.5, 3.0, 2.5, 6.5, 2.5, 3.0, 1.5, 2.0, 2.5, 3.0, 7.5, 1.5),
    *(2.0, 4.0, 2.5, 2.0, 2.5, 3.5, 4.0, 2.5, 3.0, 2.5, 2.0, 3.5, 3.0, 16.5, 3.0, 3.0, 7.0, 4.5),
    *(5.0, 2.0, 3.5, 6.0, 1.5, 3.0, 2.5, 4.0, 3.0, 1.5, 5.0, 3.0, 2.5, 5.5, 3.0, 1.5, 2.5, 6.0),
]


def test_matches_r_on_kayentas_tie_out_samples():
    result = mann_whitney(R_EXPERIMENT, R_CONTROL, confidence=0.95)
    assert result.interval == pytest.approx((-0.500002521696696, -3.486287505871302e-5), abs=1e-4)
    assert result.estimate == pytest.approx(-0.4999393907180323, abs=1e-4)


@pytest.mark.parametrize("case", ["tiny", "small-ties", "medium", "ties-identical-grids"])
def test_kth_difference_matches_brute_force_for_every_rank(case):
    x, y = SAMPLES[case]
    diffs = differences(x, y)
    xs, ys = sorted(x), sorted(y)
    assert [kth_difference(xs, ys, k) for k in range(1, len(diffs) + 1)] == diffs


def test_kth_difference_on_a_large_tied_matrix():
    x, y = steps(21, 700, levels=40, step=0.1), gauss(22, 500, 1.0)
    diffs = differences(x, y)
    xs, ys = sorted(x), sorted(y)
    ranks = [1, 2, len(diffs) // 3, len(diffs) // 2, len(diffs) - 1, len(diffs)]
    ranks += random.Random(23).sample(range(1, len(diffs) + 1), 20)
    for k in ranks:
        assert kth_difference(xs, ys, k) == diffs[k - 1]


@pytest.mark.parametrize("k", [0, 7])
def test_kth_difference_rejects_ranks_outside_the_matrix(k):
    with pytest.raises(ValueError, match="k must be between 1 and 6"):
        kth_difference([1.0, 2.0], [0.0, 1.0, 2.0], k)


def test_single_values():
    result = mann_whitney([1.0], [0.0])
    assert (result.u, result.p_value, result.estimate, result.interval) == (
        1.0,
        1.0,
        1.0,
        (1.0, 1.0),
    )


def test_two_constant_samples_shift_by_their_difference():
    result = mann_whitney([0.5] * 60, [0.25] * 70)
    assert (result.estimate, result.interval) == (0.25, (0.25, 0.25))
    assert result.p_value < 1e-20


def test_all_values_equal_is_no_evidence_of_a_shift():
    result = mann_whitney([3.0] * 60, [3.0] * 60)
    assert (result.u, result.p_value, result.estimate, result.interval) == (
        1800.0,
        1.0,
        0.0,
        (0.0, 0.0),
    )


@pytest.mark.parametrize(("x", "y"), [([], [1.0]), ([1.0], [])])
def test_rejects_an_empty_sample(x, y):
    with pytest.raises(ValueError, match="at least one value"):
        mann_whitney(x, y)


@pytest.mark.parametrize("confidence", [0, 1, 98])
def test_rejects_a_confidence_outside_0_1(confidence):
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        mann_whitney([1.0], [2.0], confidence)
