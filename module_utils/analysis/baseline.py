"""Baseline judge: is the canary worse than a baseline running the old version beside it?

Fixed thresholds (``judge.py``) cannot tell a bad canary from a bad day: when a
dependency fails, canary and baseline degrade together. Comparing the two samples
instead, metric by metric, blames the canary only for what differs from the baseline.

The semantics are those of Kayenta's NetflixACAJudge (spinnaker/kayenta):

- kayenta-judge/src/main/scala/com/netflix/kayenta/judge/classifiers/metric/
  MannWhitneyClassifier.scala: the Mann-Whitney confidence interval of the shift
  canary - baseline is compared with bounds of ``±tolerance x |shift estimate|``
  (``calculateBounds``: a fraction of the Hodges-Lehmann estimate of the shift itself,
  not of the baseline's level), so a shift counts only when its whole interval lies
  beyond a quarter of its own size; "high" also needs the mean ratio canary/baseline
  to reach the allowed increase, "low" to fall to the allowed decrease, and the gate is
  skipped when a mean is 0 (ratio undefined). A metric only fails in the direction
  it is watched in; the other direction is a pass. Kayenta configures the allowed
  increase and decrease separately; here one ``effect_size`` r sets both, r and 1/r.
- kayenta-judge/src/main/scala/com/netflix/kayenta/judge/NetflixACAJudge.scala:
  confidence 0.98, tolerance 0.25, allowed increase and decrease 1.0 by default,
  NaN values removed before classification.
- kayenta-judge/src/main/scala/com/netflix/kayenta/judge/scorers/WeightedSumScorer.scala
  and classifiers/score/ThresholdScoreClassifier.scala: score = passes / classified x
  100, rounded to two decimals; any non-passing critical metric, or no data for 50%
  or more of the metrics, makes it 0; pass and marginal thresholds are inclusive.

Deliberate differences, all failing closed or removing chance: infinities are dropped
with NaN; fewer than ``min_samples`` values on a side is ``no_data`` (Kayenta only
needs one; its guidance is 50); every ``no_data`` counts against the score as if the
metric had Kayenta's ``mustHaveData``; and where both samples are constant Kayenta
adds random noise before the test, while here the shift is simply the difference of
the two constants, which is what the noise approximates. Not carried over: group
weights (every metric weighs the same), outlier removal and muted metrics.
"""

import math
import statistics

from ansible.module_utils.analysis.judge import NO_DATA, PASS, format_value
from ansible.module_utils.analysis.mannwhitney import mann_whitney

HIGH = "high"
LOW = "low"
FAIL = "fail"
MARGINAL = "marginal"

DIRECTIONS = ("increase", "decrease", "either")
NO_DATA_SHARE_LIMIT = 0.5


def classify(
    name,
    canary,
    baseline,
    direction="increase",
    confidence=0.98,
    tolerance=0.25,
    effect_size=None,
    min_samples=50,
):
    """Classify one metric's canary sample against its baseline sample.

    ``direction`` says which change hurts: ``increase`` (errors, latency), ``decrease``
    (throughput, success rate) or ``either``. ``effect_size`` r is the smallest ratio of
    means that counts as a change: an increase needs canary/baseline >= r, a decrease
    canary/baseline <= 1/r (None: 1, Kayenta's default), so r = 1.1 lets a statistically
    clear change of the means under 10% pass. ``canary`` and ``baseline`` are sequences
    of numbers or of Prometheus' number strings.

    Returns ``{name, result, reason, canary_samples, baseline_samples, p_value,
    estimate, interval, canary_mean, baseline_mean}``; ``result`` is ``pass``, ``high``,
    ``low`` or ``no_data``. The statistics are None when there was too little data.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    effect_size = 1.0 if effect_size is None else float(effect_size)
    if not effect_size > 0:
        raise ValueError(f"effect_size must be above 0, not {effect_size!r}")
    canary_values, baseline_values = _finite(canary), _finite(baseline)
    result = {
        "name": name,
        "canary_samples": len(canary_values),
        "baseline_samples": len(baseline_values),
        "p_value": None,
        "estimate": None,
        "interval": None,
        "canary_mean": _mean(canary_values),
        "baseline_mean": _mean(baseline_values),
    }
    needed = max(1, min_samples)
    if min(len(canary_values), len(baseline_values)) < needed:
        dropped = len(canary) + len(baseline) - len(canary_values) - len(baseline_values)
        return {
            **result,
            "result": NO_DATA,
            "reason": f"{name}: no data: {len(canary_values)} canary and "
            f"{len(baseline_values)} baseline samples, {needed} needed on each side"
            + (f" ({dropped} NaN/Inf dropped)" if dropped else ""),
        }

    stats = mann_whitney(canary_values, baseline_values, confidence)
    low, high = stats.interval
    bound = tolerance * abs(stats.estimate)
    ratio = _ratio(result["canary_mean"], result["baseline_mean"])
    outcome, note = _outcome(low > bound, high < -bound, ratio, direction, effect_size)
    summary = (
        f"{name}: canary median {format_value(statistics.median(canary_values))} vs baseline "
        f"{format_value(statistics.median(baseline_values))}, shift {_signed(stats.estimate)} "
        f"({confidence * 100:g}% CI {_signed(low)}..{_signed(high)})"
    )
    return {
        **result,
        "result": outcome,
        "reason": f"{summary}: {note}{outcome}",
        "p_value": stats.p_value,
        "estimate": stats.estimate,
        "interval": [low, high],
    }


def _outcome(above, below, ratio, direction, effect_size):
    """``(result, note)`` for a shift whose interval lies ``above``/``below`` the bounds.

    The note explains a shift that did not count, so the reason never shows a clear
    shift next to an unexplained pass.
    """
    if above:
        if direction == "decrease":
            return PASS, "high, but only a decrease fails: "
        if ratio is not None and ratio < effect_size:
            return PASS, f"high, but mean ratio {ratio:.3g} < effect size {effect_size:g}: "
        return HIGH, ""
    if below:
        if direction == "increase":
            return PASS, "low, but only an increase fails: "
        if ratio is not None and ratio > 1 / effect_size:
            return PASS, f"low, but mean ratio {ratio:.3g} > 1/effect size {1 / effect_size:.3g}: "
        return LOW, ""
    return PASS, ""


def score(results, pass_threshold=95, marginal_threshold=75, critical=()):
    """Sum classified metrics up into one score and verdict.

    ``results`` are ``classify`` results (only ``name`` and ``result`` are read);
    ``critical`` names metrics that fail the whole analysis unless they pass. Returns
    ``{score, verdict, reason}``: ``score`` in 0..100, ``verdict`` ``pass`` (score at
    least ``pass_threshold``), ``marginal`` (at least ``marginal_threshold``) or
    ``fail``. Nothing classified scores 0: an analysis that saw nothing proves nothing.
    """
    total = len(results)
    failing = [item for item in results if item["result"] != PASS]
    passes = total - len(failing)
    critical_failures = [item for item in failing if item["name"] in critical]
    no_data = sum(1 for item in failing if item["result"] == NO_DATA)
    prefix = ""
    if not total:
        value = 0.0
        prefix = "no metrics classified: "
    elif critical_failures:
        value = 0.0
        prefix = f"critical {_listing(critical_failures)}: "
    elif no_data >= NO_DATA_SHARE_LIMIT * total:
        value = 0.0
        prefix = f"{no_data} of {total} metrics without data (50% or more): "
    else:
        value = round(100.0 * passes / total, 2)
    if value >= pass_threshold:
        verdict = PASS
    elif value >= marginal_threshold:
        verdict = MARGINAL
    else:
        verdict = FAIL
    details = f"{passes} of {total} metrics pass"
    if failing:
        details += f"; not passing: {_listing(failing)}"
    return {
        "score": value,
        "verdict": verdict,
        "reason": f"{prefix}score {value:g} ({details}): {verdict}",
    }


def _listing(results):
    return ", ".join(f"{item['name']} {item['result']}" for item in results)


def _finite(values):
    """The finite samples as floats; NaN and ±Inf are gaps in the data, not values."""
    return [value for value in map(float, values) if math.isfinite(value)]


def _mean(values):
    return statistics.fmean(values) if values else None


def _ratio(canary_mean, baseline_mean):
    """Mean ratio canary/baseline; None when a mean is 0 and the ratio says nothing."""
    if not canary_mean or not baseline_mean:
        return None
    return canary_mean / baseline_mean


def _signed(value):
    """``+0.029``, ``-0.029`` or ``0``: a shift reads better with its sign."""
    # Adding 0.0 turns -0.0 into 0.0, which would otherwise print as "-0".
    return "+" + format_value(value) if value > 0 else format_value(value + 0.0)
