"""The bake of one stage: measure every interval, fail once enough checks failed.

Follows Flagger's counting: each measurement whose verdict is not a pass adds
one to the stage's failed-check count, and the stage fails when the count
reaches ``failure_limit``. Measurements are scheduled on absolute times
(initial delay + k x interval) so slow queries do not stretch the bake, and at
least one measurement is always taken, even for a zero bake time.
"""

import time


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
    duration,
    interval,
    failure_limit,
    initial_delay=0.0,
    failed_checks=0,
    clock=time.monotonic,
    sleep=time.sleep,
):
    """Run the bake; return ``{verdict, failed_checks, measurements, reason}``.

    ``measure()`` returns one analysis measurement (``verdict`` and ``checks``);
    ``record(measurement, failed_checks)`` persists it (and may raise to abort
    the bake, e.g. when the release was rolled back meanwhile).
    ``failed_checks`` carries the count of a stage resumed after an interruption.
    """
    start = clock()
    measurements = []
    tick = 0
    reason = ""
    while True:
        due = start + initial_delay + tick * interval
        wait = due - clock()
        if wait > 0:
            sleep(wait)
        measurement = measure()
        if measurement.get("verdict") != "pass":
            failed_checks += 1
            reason = failure_reason(measurement)
        measurement["failed_checks"] = failed_checks
        record(measurement, failed_checks)
        measurements.append(measurement)
        if failed_checks >= failure_limit:
            return {
                "verdict": "fail",
                "failed_checks": failed_checks,
                "measurements": measurements,
                "reason": reason,
            }
        tick += 1
        if initial_delay + tick * interval > duration:
            return {
                "verdict": "pass",
                "failed_checks": failed_checks,
                "measurements": measurements,
                "reason": reason,
            }
