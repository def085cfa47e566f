#!/usr/bin/python
"""Bake one stage: measure every interval, record each measurement, fail on the limit."""

DOCUMENTATION = r"""
module: canary_bake
short_description: Bake one canary stage under analysis
description:
  - Measures every check of the release's analysis every C(analysis.interval) for the stage's
    C(bake) time, starting after C(analysis.initial_delay), and records each measurement in the
    ledger while renewing the release lock.
  - Each measurement that is not a pass (a failed bound, no data or a query error) adds one to
    the stage's failed-check count; the stage fails when the count reaches
    C(analysis.failure_limit). The module then fails, naming the check, its value, its bound
    and the stage.
  - Stops at once when the release is no longer in progress (rolled back by someone else), or
    when another run took the release lock (then C(lock_lost) is true).
  - A failed stage leaves the release C(paused) with the stage C(failed); running the stage
    again (promote.yml) bakes it anew.
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
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
author:
  - Canary runbooks maintainers
"""

EXAMPLES = r"""
- name: Bake stage 2
  canary_bake:
    release: "{{ canary_release }}"
    stage: 2
"""

RETURN = r"""
verdict:
  description: C(pass) when the stage baked without reaching the failure limit, else C(fail).
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
  description: Every measurement of the bake, each with its checks, values, bounds and results.
  returned: success
  type: list
  elements: dict
last_measurement:
  description: The measurement that failed the stage.
  returned: failure
  type: dict
lock_lost:
  description: True when the bake stopped because another run took the release lock.
  returned: failure
  type: bool
"""

from ansible.module_utils import ledger as ledgers
from ansible.module_utils import lock as locks
from ansible.module_utils.analysis.measure import measure
from ansible.module_utils.bake import bake
from ansible.module_utils.cluster import Cluster, with_auth_options
from ansible.module_utils.ledger import LedgerError, require_active
from ansible.module_utils.lock import LockHeld
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule


def _bound_side(check):
    """Which side of the value is worse: above a max, below a min."""
    bound = check.get("bound") or {}
    return "min" if bound.get("max") is None and bound.get("min") is not None else "max"


def measurement_event(stage, measurement):
    """The compact history entry of one measurement: per check, value, result, bad side."""
    return {
        "event": "measurement",
        "stage": stage,
        "verdict": measurement["verdict"],
        "failed_checks": measurement["failed_checks"],
        "values": {
            check["name"]: [check.get("value"), check["result"], _bound_side(check)]
            for check in measurement["checks"]
        },
    }


def main():
    module = AnsibleK8SModule(
        argument_spec=with_auth_options(
            release={"type": "dict", "required": True},
            stage={"type": "int", "required": True},
            holder={"type": "str"},
        ),
        supports_check_mode=True,
    )
    release = module.params["release"]
    number = module.params["stage"]
    if not 1 <= number <= len(release["stages"]):
        module.fail_json(msg=f"stage: must be between 1 and {len(release['stages'])}, got {number}")
    stage = release["stages"][number - 1]
    analysis = release["analysis"]
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

    try:
        result = bake(
            measure=lambda: measure(analysis),
            record=record,
            duration=stage["bake_seconds"],
            interval=analysis["interval_seconds"],
            failure_limit=analysis["failure_limit"],
            initial_delay=analysis["initial_delay_seconds"],
            failed_checks=resumed_count,
        )
    except LockHeld as err:
        module.fail_json(msg=f"Stage {number} ({stage['weight']}%) stopped: {err}", lock_lost=True)
    except LedgerError as err:
        module.fail_json(msg=f"Stage {number} ({stage['weight']}%) stopped: {err}")

    stage_status = "passed" if result["verdict"] == "pass" else "failed"

    def conclude(state):
        state["stage_status"] = stage_status
        if stage_status == "failed":
            # Held for a decision: rolled back by the caller, or resumed to run it again.
            state["status"] = "paused"
        return {
            "event": f"stage_{stage_status}",
            "stage": number,
            "weight": stage["weight"],
            "failed_checks": result["failed_checks"],
            "reason": result["reason"],
        }

    ledger.update(conclude)
    if result["verdict"] != "pass":
        # Every measurement is in the ledger; the failure shows the one that decided.
        module.fail_json(
            msg=(
                f"Stage {number} ({stage['weight']}%) failed its analysis: {result['reason']} "
                f"({result['failed_checks']} failed measurements, limit "
                f"{analysis['failure_limit']})"
            ),
            changed=True,
            verdict=result["verdict"],
            failed_checks=result["failed_checks"],
            reason=result["reason"],
            last_measurement=result["measurements"][-1],
        )
    module.exit_json(changed=True, **result)


if __name__ == "__main__":
    main()
