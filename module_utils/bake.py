"""The bake of one stage: measure every interval, decide when the stage has an answer.

Each measurement's verdict (see ``analysis.policy``) moves one counter:

- ``fail`` adds one to the stage's failed-check count, Flagger's way; the stage fails
  when the count reaches ``failure_limit``.
- ``error`` (the measurement could not be taken) adds one to the consecutive errors;
  ``error_limit`` in a row fail the stage, Argo Rollouts' ``consecutiveErrorLimit``.
- ``pass`` adds one to the consecutive passes; anything else resets them.

When the bake time is over the stage passes once the last ``success_limit``
measurements were passes, and then only if the baseline judge (when configured) does
not object. Until then the bake goes on, for at most ``hold_timeout`` more seconds;
after that the stage is *held*: promotion stops for a person to decide.

Measurements are scheduled on absolute times (initial delay + k x interval) so slow
queries do not stretch the bake, and at least one measurement is always taken, even
for a zero bake time. Every measurement gets a ``decision`` saying what it changed.
"""

import time
from dataclasses import dataclass

PASS = "pass"
FAIL = "fail"
HOLD = "hold"


@dataclass
class Limits:
    """How a stage is judged; durations in seconds."""

    duration: float
    interval: float
    failure_limit: int
    initial_delay: float = 0.0
    error_limit: int = 4
    success_limit: int = 1
    hold_timeout: float = 0.0


@dataclass
class _Counts:
    failed_checks: int = 0
    errors_in_a_row: int = 0
    passes_in_a_row: int = 0

    def add(self, measurement, limits):
        """Count ``measurement``; return ``(decision, reason)`` for it."""
        verdict, reason = measurement.get("verdict"), measurement.get("reason", "")
        if verdict == PASS:
            self.passes_in_a_row += 1
            self.errors_in_a_row = 0
            return PASS, (
                f"pass {self.passes_in_a_row} in a row (success_limit {limits.success_limit})"
            )
        self.passes_in_a_row = 0
        if verdict == "error":
            self.errors_in_a_row += 1
            return "error", (
                f"measurement error {self.errors_in_a_row} in a row "
                f"(error_limit {limits.error_limit}): {reason}"
            )
        self.errors_in_a_row = 0
        if verdict == HOLD:
            return HOLD, f"promotion held: {reason}"
        self.failed_checks += 1
        return FAIL, (
            f"failed measurement {self.failed_checks} (failure_limit {limits.failure_limit}): "
            f"{reason or failure_reason(measurement)}"
        )


def failure_reason(measurement):
    """One line naming the checks that did not pass, with their values and bounds."""
    reasons = [
        check.get("reason") or f"{check['name']}: {check['result']}"
        for check in measurement.get("checks", [])
        if check.get("result") != "pass"
    ]
    return "; ".join(reasons) or f"verdict {measurement.get('verdict')}"


def bake(
    measure,
    record,
    limits,
    failed_checks=0,
    judge_baseline=None,
    clock=time.monotonic,
    sleep=time.sleep,
):
    """Run the bake; return ``{verdict, failed_checks, measurements, reason, baseline}``.

    ``verdict`` is ``pass``, ``fail`` or ``hold``. ``measure()`` returns one analysis
    measurement (``verdict``, ``reason`` and ``checks``); ``record(measurement,
    failed_checks)`` persists it (and may raise to abort the bake, e.g. when the release
    was rolled back meanwhile). ``failed_checks`` carries the count of a stage resumed
    after an interruption. ``judge_baseline()``, when given, compares canary and stable
    once the stage would pass and returns ``{verdict: pass|marginal|fail, reason, ...}``.
    """
    start = clock()
    counts = _Counts(failed_checks=failed_checks)
    measurements = []
    tick = 0
    last_problem = ""

    def result(verdict, reason, baseline=None):
        return {
            "verdict": verdict,
            "failed_checks": counts.failed_checks,
            "measurements": measurements,
            "reason": reason,
            "baseline": baseline,
        }

    while True:
        wait = start + limits.initial_delay + tick * limits.interval - clock()
        if wait > 0:
            sleep(wait)
        measurement = measure()
        decision, reason = counts.add(measurement, limits)
        measurement["decision"] = {"outcome": decision, "reason": reason}
        measurement["failed_checks"] = counts.failed_checks
        record(measurement, counts.failed_checks)
        measurements.append(measurement)
        if decision != PASS:
            last_problem = reason
        if counts.failed_checks >= limits.failure_limit:
            return result(FAIL, reason)
        if counts.errors_in_a_row >= limits.error_limit:
            return result(FAIL, reason)
        tick += 1
        next_at = limits.initial_delay + tick * limits.interval
        if next_at <= limits.duration:
            continue
        if counts.passes_in_a_row >= limits.success_limit:
            if judge_baseline is None:
                return result(PASS, last_problem)
            baseline = judge_baseline()
            outcome = {"pass": PASS, "marginal": HOLD}.get(baseline["verdict"], FAIL)
            return result(outcome, baseline["reason"], baseline)
        if next_at > limits.duration + limits.hold_timeout:
            return result(
                HOLD,
                f"{counts.passes_in_a_row} passing measurement(s) in a row when the bake "
                f"and hold_timeout ended, success_limit {limits.success_limit}; last: "
                f"{last_problem}",
            )
