#!/usr/bin/python
"""Bake one stage: measure every interval, record each measurement, fail on the limit."""

DOCUMENTATION = r"""
module: canary_bake
short_description: Bake one canary stage under analysis
description:
  - Measures every check of the release's analysis every C(analysis.interval) for the stage's
    C(bake) time, starting after C(analysis.initial_delay), and records each measurement and
    the decision it led to, with its reason, in the ledger while renewing the release lock.
  - A measurement whose critical check failed (or had no data under C(no_data=fail)) adds one
    to the stage's failed-check count; the stage fails when the count reaches
    C(analysis.failure_limit). C(analysis.error_limit) measurements in a row that could not be
    taken also fail it. The module then fails, naming the check, its value, its bound and
    the stage.
  - An important check failing (or no data under C(no_data=hold)) holds promotion; the bake
    goes on past its time, for at most C(analysis.hold_timeout), until the last
    C(analysis.success_limit) measurements passed. A stage still held then ends C(held), the
    module fails with C(held=true) and the release is C(paused) for a person to decide.
    General checks are recorded only.
  - With C(analysis.baseline), a stage that would pass is also judged against the stable
    track over its bake (Mann-Whitney U per metric, a 0-100 score); below
    C(marginal_score) it fails, below C(pass_score) it is held.
  - Stops at once when the release is no longer in progress (rolled back by someone else), or
    when another run took the release lock (then C(lock_lost) is true).
  - A failed or held stage leaves the release C(paused); running the stage again
    (promote.yml) bakes it anew.
  - In check mode it takes one measurement, records nothing and reports the verdict.
options:
  release:
    description: The completed release spec (the C(canary_release) fact set by M(canary_spec)).
    type: dict
    required: true
  stage:
    description: The stage to bake, 1-based.
    type: int
    required: true
  holder:
    description: The run's name in the lock, when M(canary_state) was given one.
    type: str
  secrets:
    description:
      - The spec's secret fields (the C(canary_secrets) filter), for Prometheus credentials.
    type: dict
    default: {}
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
author:
  - Canary runbooks maintainers
"""

EXAMPLES = r"""
- name: Bake stage 2
  canary_bake:
    release: "{{ canary_release }}"
    secrets: "{{ canary | canary_secrets }}"
    stage: 2
"""

RETURN = r"""
verdict:
  description:
    - C(pass), C(fail) (the failure or error limit was reached, or the baseline judge scored
      below C(marginal_score)) or C(hold).
  returned: always
  type: str
failed_checks:
  description: Failed measurements in this stage.
  returned: always
  type: int
reason:
  description: The checks that did not pass in the last failing measurement, with values and bounds.
  returned: always
  type: str
  sample: error_rate = 0.0312 > max 0.01
measurements:
  description:
    - Every measurement of the bake, each with its checks (value, bound, result, severity,
      effect, reason) and its C(decision) (outcome and reason).
  returned: success
  type: list
  elements: dict
baseline:
  description: The baseline judge's score, verdict and per-metric classification, when configured.
  returned: when analysis.baseline is set and the stage got that far
  type: dict
held:
  description: True when the stage ended held (promotion waits for a person), not failed.
  returned: failure
  type: bool
stage:
  description: The stage that failed or is held.
  returned: failure
  type: int
last_measurement:
  description: The measurement that failed the stage.
  returned: failure
  type: dict
lock_lost:
  description: True when the bake stopped because another run took the release lock.
  returned: failure
  type: bool
"""

import time

from ansible.module_utils import ledger as ledgers
from ansible.module_utils import lock as locks
from ansible.module_utils import secrets
from ansible.module_utils.analysis.compare import compare
from ansible.module_utils.analysis.measure import measure
from ansible.module_utils.bake import Limits, bake
from ansible.module_utils.cluster import Cluster, with_auth_options
from ansible.module_utils.ledger import LedgerError, conclude_stage, require_active, stage_status
from ansible.module_utils.lock import LockHeld
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule


def _bound_side(check):
    """Which side of the value is worse: above a max, below a min."""
    bound = check.get("bound") or {}
    return "min" if bound.get("max") is None and bound.get("min") is not None else "max"


def measurement_event(stage, measurement):
    """The compact history entry of one measurement: per check, value, result, bad side and
    effect; the decision and its reason."""
    return {
        "event": "measurement",
        "stage": stage,
        "verdict": measurement["verdict"],
        "decision": measurement["decision"]["outcome"],
        "reason": measurement["decision"]["reason"],
        "failed_checks": measurement["failed_checks"],
        "values": {
            check["name"]: [
                check.get("value"),
                check["result"],
                _bound_side(check),
                check["effect"],
            ]
            for check in measurement["checks"]
        },
    }


def baseline_event(stage, baseline):
    """The history entry of the baseline judgement: score, verdict, each metric's class."""
    return {
        "event": "baseline",
        "stage": stage,
        "verdict": baseline["verdict"],
        "score": baseline["score"],
        "reason": baseline["reason"],
        "metrics": {metric["name"]: metric["result"] for metric in baseline["metrics"]},
    }


def main():
    module = AnsibleK8SModule(
        argument_spec=with_auth_options(
            release={"type": "dict", "required": True},
            stage={"type": "int", "required": True},
            holder={"type": "str"},
            secrets=secrets.SECRETS_ARGUMENT,
        ),
        supports_check_mode=True,
    )
    release = module.params["release"]
    number = module.params["stage"]
    if not 1 <= number <= len(release["stages"]):
        module.fail_json(msg=f"stage: must be between 1 and {len(release['stages'])}, got {number}")
    stage = release["stages"][number - 1]
    try:
        analysis = secrets.merge(release, module.params["secrets"])["analysis"]
    except ValueError as err:
        module.fail_json(msg=str(err))
    if module.check_mode:
        measurement = measure(analysis)
        module.exit_json(
            changed=False,
            verdict=measurement["verdict"],
            failed_checks=0 if measurement["verdict"] == "pass" else 1,
            reason="",
            measurements=[measurement],
        )

    cluster = Cluster.from_module(module)
    ledger = ledgers.for_release(cluster, release)
    lock = locks.for_release(cluster, release, module.params["holder"])
    resumed_count = ledger.read()["failed_checks"]

    def record(measurement, failed_checks):
        # Renew first: a run that lost the lock must not write the ledger.
        lock.renew()

        def append(state):
            require_active(state)
            state["failed_checks"] = failed_checks
            return measurement_event(number, measurement)

        ledger.update(append)

    limits = Limits(
        duration=stage["bake_seconds"],
        interval=analysis["interval_seconds"],
        failure_limit=analysis["failure_limit"],
        initial_delay=analysis["initial_delay_seconds"],
        error_limit=analysis["error_limit"],
        success_limit=analysis["success_limit"],
        hold_timeout=analysis["hold_timeout_seconds"],
    )
    judge_baseline = None
    if analysis.get("baseline"):
        # Over the bake so far, after the initial delay (the canary warming up).
        window_start = time.time() + analysis["initial_delay_seconds"]

        def judge_baseline():
            baseline = compare(analysis, window_start, time.time())
            ledger.update(lambda state: baseline_event(number, baseline))
            return baseline

    try:
        result = bake(
            measure=lambda: measure(analysis),
            record=record,
            limits=limits,
            failed_checks=resumed_count,
            judge_baseline=judge_baseline,
        )
    except LockHeld as err:
        module.fail_json(msg=f"Stage {number} ({stage['weight']}%) stopped: {err}", lock_lost=True)
    except LedgerError as err:
        module.fail_json(msg=f"Stage {number} ({stage['weight']}%) stopped: {err}")

    ledger.update(lambda state: conclude_stage(state, number, stage["weight"], result))
    if result["verdict"] != "pass":
        # Every measurement is in the ledger; the failure shows the decision that ended it.
        held = stage_status(result["verdict"]) == "held"
        what = "is held" if held else "failed its analysis"
        module.fail_json(
            msg=f"Stage {number} ({stage['weight']}%) {what}: {result['reason']}",
            changed=True,
            stage=number,
            held=held,
            verdict=result["verdict"],
            failed_checks=result["failed_checks"],
            reason=result["reason"],
            baseline=result["baseline"],
            last_measurement=result["measurements"][-1],
        )
    module.exit_json(changed=True, **result)


if __name__ == "__main__":
    main()
