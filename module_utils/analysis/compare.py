"""The baseline judge: canary against stable over the bake, Kayenta's way.

For each metric of ``analysis.baseline`` the same query runs on both tracks as a range
query over the bake window; ``baseline.classify`` compares the two sample sets
(Mann-Whitney U) and ``baseline.score`` turns the classes into a 0-100 score with a
pass / marginal / fail verdict. A metric whose range query failed counts as no data:
fail-closed, like everything in the analysis. The no-data policy applies to metrics
without enough samples: ``ignore`` leaves them out of the score, ``hold`` makes the
verdict at best marginal, ``fail`` scores them as failures (Kayenta's rule).
"""

from ansible.module_utils.analysis.baseline import classify, score
from ansible.module_utils.analysis.checks import build_query
from ansible.module_utils.analysis.prometheus import (
    PrometheusClient,
    PrometheusError,
    series_values,
)

TRACKS = ("canary", "stable")


def compare(analysis, start, end):
    """Judge the canary against the stable track from ``start`` to ``end`` (unix times).

    Returns ``{verdict, score, reason, metrics, start, end}``; each metric is the
    classification (``result`` pass/high/low/no_data, ``reason`` and statistics).
    """
    settings = analysis["baseline"]
    client = PrometheusClient.from_settings(analysis["prometheus"])
    step = settings["step_seconds"]
    end = max(end, start + step)
    metrics = []
    for metric in settings["metrics"]:
        samples, problem = {}, None
        for track in TRACKS:
            try:
                query = build_query(metric, analysis, track)
                samples[track] = series_values(client.query_range(query, start, end, step))
            except PrometheusError as exc:
                problem = f"{metric['name']}: {track} query failed: {exc}"
                break
        if problem is not None:
            metrics.append({"name": metric["name"], "result": "no_data", "reason": problem})
            continue
        metrics.append(
            classify(
                metric["name"],
                samples["canary"],
                samples["stable"],
                direction=metric["direction"],
                confidence=settings["confidence"],
                tolerance=settings["tolerance"],
                effect_size=metric["effect_size"],
                min_samples=settings["min_samples"],
            )
        )
    judged = _apply_no_data_policy(metrics, analysis["no_data"])
    critical = [metric["name"] for metric in settings["metrics"] if metric["critical"]]
    verdict = score(
        judged,
        pass_threshold=settings["pass_score"],
        marginal_threshold=settings["marginal_score"],
        critical=critical,
    )
    missing = [metric for metric in metrics if metric["result"] == "no_data"]
    if missing and analysis["no_data"] == "hold" and verdict["verdict"] == "pass":
        verdict["verdict"] = "marginal"
        verdict["reason"] += "; held: " + "; ".join(metric["reason"] for metric in missing)
    return {**verdict, "metrics": metrics, "start": start, "end": end}


def _apply_no_data_policy(metrics, policy):
    """The metrics that are scored: without the no-data ones unless the policy is ``fail``."""
    if policy == "fail":
        return metrics
    return [metric for metric in metrics if metric["result"] != "no_data"]
