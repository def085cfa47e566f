"""Mann-Whitney U test and Hodges-Lehmann shift, the statistics of Kayenta's judge.

Kayenta's ``MannWhitney`` (kayenta-mannwhitney/src/main/scala/com/netflix/kayenta/
mannwhitney/MannWhitney.scala) ports R's ``wilcox.test(x, y, conf.int=TRUE)`` in its
normal-approximation form: the confidence interval of the shift ``x - y`` is where the
continuity-corrected, tie-corrected standardised rank statistic of ``x - mu`` against
``y`` crosses ``±z``, found there with a root finder. That statistic only changes at the
pairwise differences ``x_i - y_j``, so each crossing is one order statistic of those
differences; this module selects it exactly instead of searching for it numerically.
The point estimate is the Hodges-Lehmann estimator, the median of the differences,
which is always inside the set of roots Kayenta's solver converges into.

The interval is always this normal-approximation one, as in Kayenta, even where R
would switch to the exact distribution. The p-value follows R and scipy: the exact
null distribution of U when both samples have fewer than 50 values and no ties (R's
default), otherwise the normal approximation with tie and continuity correction.

Standard library only: this runs inside Ansible modules. Complexity for samples of n
and m values: sorting and ranking O((n+m) log(n+m)); each of the four order
statistics of the n*m differences (median pair, two bounds) O((n log n + m) log(nm))
by selection in their implicitly sorted matrix, never materialising it; the exact
p-value O(min(n,m) * nm) integer operations, only for samples under 50.
"""

import math
from bisect import bisect_left
from collections import namedtuple
from itertools import accumulate, groupby
from statistics import NormalDist

EXACT_BELOW = 50

MannWhitney = namedtuple("MannWhitney", "u p_value estimate interval")
MannWhitney.__doc__ = """Two-sample comparison of ``x`` (canary) with ``y`` (baseline).

u: the U statistic of ``x`` (R's ``W``, scipy's first statistic), average ranks for ties.
p_value: two-sided p-value of "no location shift".
estimate: Hodges-Lehmann estimate of the shift ``x - y``.
interval: ``(low, high)`` confidence interval of the shift.
"""


def mann_whitney(x, y, confidence=0.98):
    """Compare sample ``x`` with sample ``y``: U, p-value, shift estimate and interval.

    Both samples must hold at least one finite number; cleaning them is the caller's
    job. ``confidence`` is the two-sided level of the interval (Kayenta's judge uses
    0.98).
    """
    xs, ys = sorted(x), sorted(y)
    if not xs or not ys:
        raise ValueError("both samples need at least one value")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    u, ties = _rank_statistic(xs, ys)
    return MannWhitney(
        u, _p_value(u, len(xs), len(ys), ties), _median(xs, ys), _interval(xs, ys, confidence)
    )


def kth_difference(xs, ys, k):
    """The ``k``-th smallest (1-based) of the ``len(xs)*len(ys)`` differences ``x - y``.

    ``xs`` and ``ys`` must be sorted ascending. With ``ys`` read backwards, row ``i`` of
    the difference matrix (``xs[i] - y``) is ascending, and so is every column, because
    floating-point subtraction is monotonic. Selection in such a matrix (Johnson and
    Mizoguchi; Monahan's Hodges-Lehmann algorithm, ACM TOMS 1984) keeps, per row, the
    window of entries that may still be the answer and narrows all windows around the
    weighted median of the rows' middle entries: at least a quarter of the remaining
    entries drop out per round, each round costs O(n+m) plus a sort of n row medians.
    When few candidates remain they are sorted directly.
    """
    n, m = len(xs), len(ys)
    if not 1 <= k <= n * m:
        raise ValueError(f"k must be between 1 and {n * m}, not {k}")
    descending = ys[::-1]
    # Row i: entries [0, low[i]) are below the answer, [high[i], m) above it.
    low, high = [0] * n, [m] * n
    while True:
        remaining = sum(high) - sum(low)
        if remaining <= n + m:
            rest = sorted(
                x - descending[j]
                for x, lo, hi in zip(xs, low, high, strict=True)
                for j in range(lo, hi)
            )
            return rest[k - sum(low) - 1]
        pivot = _weighted_median_of_rows(xs, descending, low, high, remaining)
        less = _count_per_row(xs, descending, pivot, inclusive=False)
        if sum(less) >= k:
            high = less
            continue
        at_most = _count_per_row(xs, descending, pivot, inclusive=True)
        if sum(at_most) < k:
            low = at_most
            continue
        return pivot


def _weighted_median_of_rows(xs, descending, low, high, remaining):
    """The middle entry of the row windows, weighted by window size: a good pivot."""
    middles = sorted(
        (x - descending[(lo + hi) // 2], hi - lo)
        for x, lo, hi in zip(xs, low, high, strict=True)
        if hi > lo
    )
    cumulative = list(accumulate(weight for _, weight in middles))
    return middles[bisect_left(cumulative, remaining / 2)][0]


def _count_per_row(xs, descending, pivot, inclusive):
    """Per row, how many differences are below ``pivot`` (or at most ``pivot``).

    Rows are ascending and later rows are larger, so the count never grows from one
    row to the next: one pointer walks the row length down once, O(n+m) in all.
    """
    counts = []
    j = len(descending)
    for x in xs:
        if inclusive:
            while j and x - descending[j - 1] > pivot:
                j -= 1
        else:
            while j and x - descending[j - 1] >= pivot:
                j -= 1
        counts.append(j)
    return counts


def _median(xs, ys):
    """Hodges-Lehmann estimate: the median of all pairwise differences ``x - y``."""
    total = len(xs) * len(ys)
    middle = kth_difference(xs, ys, (total + 1) // 2)
    if total % 2:
        return middle
    return (middle + kth_difference(xs, ys, total // 2 + 1)) / 2


def _interval(xs, ys, confidence):
    """Kayenta's (R's asymptotic) confidence interval of the shift ``x - y``.

    For a trial shift mu, U(mu) counts the differences above mu and falls by one at
    each difference. Kayenta solves ``(U(mu) - nm/2 -+ 1/2) / sigma = ±z``: the lower
    bound is where U(mu) drops to ``nm/2 + z*sigma + 1/2`` or below, the
    ``ceil(nm/2 - z*sigma - 1/2)``-th smallest difference, and the upper bound mirrors
    it. Between differences only ties within a sample remain, so sigma uses those.
    Indices outside ``1..nm`` are clamped, as Kayenta falls back to the smallest and
    largest difference when the statistic never crosses. With each sample constant
    (sigma 0, where Kayenta adds noise first) every difference is the same number and
    the interval is that number.
    """
    n, m = len(xs), len(ys)
    total = n * m
    sigma = _sigma(n, m, _tie_sum(xs) + _tie_sum(ys))
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    reach = z * sigma + 0.5
    lower = max(1, math.ceil(total / 2 - reach))
    upper = min(total, math.ceil(total / 2 + reach))
    return kth_difference(xs, ys, lower), kth_difference(xs, ys, upper)


def _rank_statistic(xs, ys):
    """U of ``xs`` from average ranks in the pooled sample, and the pooled tie sum."""
    pooled = sorted([(value, 1) for value in xs] + [(value, 0) for value in ys])
    rank_sum = 0.0
    ties = 0
    position = 0
    for _, group in groupby(pooled, key=lambda item: item[0]):
        flags = [from_x for _, from_x in group]
        size = len(flags)
        rank_sum += sum(flags) * (position + (size + 1) / 2)
        ties += size**3 - size
        position += size
    n = len(xs)
    return rank_sum - n * (n + 1) / 2, ties


def _tie_sum(values):
    """Sum of ``t^3 - t`` over groups of ``t`` equal values (sorted input)."""
    return sum(size**3 - size for size in (len(list(group)) for _, group in groupby(values)))


def _sigma(n, m, ties):
    """Standard deviation of U under the null, corrected for ties."""
    return math.sqrt(n * m / 12 * ((n + m + 1) - ties / ((n + m) * (n + m - 1))))


def _p_value(u, n, m, ties):
    """Two-sided p-value of U: exact for small samples without ties, else normal.

    When every value is the same there is no evidence of a shift at all; R and scipy
    return NaN (0/0) there, this returns 1 so the result stays valid JSON.
    """
    if ties == 0 and n < EXACT_BELOW and m < EXACT_BELOW:
        return _exact_p_value(u, n, m)
    sigma = _sigma(n, m, ties)
    if sigma == 0:
        return 1.0
    delta = u - n * m / 2
    corrected = delta - math.copysign(0.5, delta) if delta else 0.0
    return min(1.0, math.erfc(abs(corrected / sigma) / math.sqrt(2)))


def _exact_p_value(u, n, m):
    """``2 * P(U <= min(u, nm - u))`` under the null, capped at 1.

    The counts of arrangements by U are the coefficients of the Gaussian binomial
    ``[n+m choose n](q) = prod_{i=1..n} (1 - q^(m+i)) / (1 - q^i)``, built with exact
    integer power-series arithmetic truncated at degree nm (division by ``1 - q^i`` only
    looks at lower coefficients, so truncation does not change them).
    """
    small, large = sorted((n, m))
    top = n * m
    counts = [1] + [0] * top
    for i in range(1, small + 1):
        step = large + i
        for degree in range(top, step - 1, -1):
            counts[degree] -= counts[degree - step]
        for degree in range(i, top + 1):
            counts[degree] += counts[degree - i]
    tail = sum(counts[: int(min(u, top - u)) + 1])
    return min(1.0, 2 * tail / math.comb(n + m, n))
