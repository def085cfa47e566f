"""Ledgers of whole releases, written by the project's own recording code.

A ``Recorder`` plays a release the way the modules record it - ``start_release`` and
``begin_stage`` of the ledger (canary_state, canary_traffic with the validation summary),
the real bake loop with ``canary_bake.measurement_event`` and its stage conclusion, the
status events of canary_state (rollback, promotion) - on an in-memory cluster and a fake
clock. The report is tested on what the runbooks write, not on a copy of its shape.
"""

import math

from ansible.module_utils.analysis import policy
from ansible.module_utils.analysis.judge import error, judge
from ansible.module_utils.bake import Limits, bake
from ansible.module_utils.ledger import Ledger, begin_stage, conclude_stage, start_release
from ansible.module_utils.spec import validate_release
from canary_bake import measurement_event

from tests.bad_specs import merged
from tests.unit.runbooks.fakes import FakeCluster

START = 1_735_732_800.0  # 2025-01-01T12:00:00Z
IMAGE = "yyc3/short-drama-frontend:1.1.0"
STABLE = "yyc3/short-drama-frontend:1.0.0"
HOLDER = "ops@controller:4242"
VALIDATION = {
    "health": "pass",
    "journeys": {"yyc3@canary": "pass", "yyc3@stable": "pass"},
    "security": {"headers": "pass"},
    "resources": {"cpu": "skipped", "memory": "skipped"},
}


def release(**changes):
    """A completed release spec: the tests' good spec (four 10 s stages, measured every 2 s)."""
    spec, errors = validate_release(merged(changes))
    assert not errors, errors
    return spec


def healthy(index):
    """What a healthy canary measures at its ``index``-th measurement, by check type."""
    return {
        "error_rate": 0.0004 + 0.0002 * (index % 3),
        "latency": 0.25 + 0.05 * (index % 4),
        "availability": 1.0,
    }


def measurement(spec, values):
    """One analysis measurement (canary_analysis' shape) of ``values``.

    ``values`` maps a check's name, else its type, to a number, None (an empty result)
    or ``"error"`` (the query failed).
    """
    analysis = spec["analysis"]
    checks = []
    for check in analysis["checks"]:
        value = values.get(check["name"], values.get(check["type"]))
        if value == "error":
            value, (result, reason) = None, error(check["name"], "connection refused")
        else:
            result, reason = judge(
                check["name"], value, check["min"], check["max"], check["type"] == "latency"
            )
        effect, note = policy.effect(result, check["severity"], analysis["no_data"])
        checks.append(
            {
                "name": check["name"],
                "type": check["type"],
                "severity": check["severity"],
                "value": value if value is not None and math.isfinite(value) else None,
                "bound": {"min": check["min"], "max": check["max"]},
                "result": result,
                "effect": effect,
                "reason": f"{reason} ({note})" if note else reason,
            }
        )
    verdict = policy.verdict({check["effect"] for check in checks})
    reasons = [check["reason"] for check in checks if check["effect"] == verdict]
    return {
        "verdict": verdict,
        "reason": "; ".join(reasons) if verdict != policy.PASS else "every check passed",
        "checks": checks,
    }


class Recorder:
    """Records one service's releases into a ledger, as the runbooks do."""

    def __init__(self, spec, start=START):
        self.spec = spec
        self.now = start
        settings = spec["ledger"]
        self.ledger = Ledger(
            FakeCluster(),
            settings["namespace"],
            settings["name"],
            spec["service"],
            clock=lambda: self.now,
        )

    def wait(self, seconds):
        self.now += seconds

    def state(self):
        return self.ledger.read()

    def start(self, image=IMAGE, stable=STABLE):
        """canary_state action=start (prepare.yml, release.yml), then the prepared canary."""
        stages = len(self.spec["stages"])

        def start(state):
            return {**start_release(state, image, stable, stages, HOLDER, True), "by": HOLDER}

        self.ledger.update(start)
        self.wait(3)
        self.ledger.update(
            lambda state: {"event": "canary_prepared", "image": image, "created_namespace": True}
        )
        self.wait(1)

    def stage(self, number, values=None, validation=VALIDATION, interrupt_after=None):
        """Run stage ``number``: weight (with the validation summary), bake, conclusion.

        ``values(index)`` gives the measured values (default: healthy). With
        ``interrupt_after``, the run stops after that many measurements with nothing
        concluded, like a run killed mid-bake. Returns the bake's result.
        """
        stage = self.spec["stages"][number - 1]
        analysis = self.spec["analysis"]
        values = values or healthy

        def take_weight(state):
            event = begin_stage(state, number, stage["weight"], state["weight"])
            return {"validation": validation, **event} if validation is not None else event

        self.ledger.update(take_weight)
        taken = []

        def measure():
            if interrupt_after is not None and len(taken) == interrupt_after:
                raise KeyboardInterrupt
            taken.append(1)
            return measurement(self.spec, values(len(taken) - 1))

        def record(measured, failed_checks):
            def append(state):
                state["failed_checks"] = failed_checks
                return measurement_event(number, measured)

            self.ledger.update(append)

        limits = Limits(
            duration=stage["bake_seconds"],
            interval=analysis["interval_seconds"],
            failure_limit=analysis["failure_limit"],
            initial_delay=analysis["initial_delay_seconds"],
            error_limit=analysis["error_limit"],
            success_limit=analysis["success_limit"],
            hold_timeout=analysis["hold_timeout_seconds"],
        )
        try:
            result = bake(
                measure,
                record,
                limits,
                failed_checks=self.state()["failed_checks"],
                clock=lambda: self.now,
                sleep=self.wait,
            )
        except KeyboardInterrupt:
            return None
        self._conclude(number, stage, result)
        self.wait(1)
        return result

    def _conclude(self, number, stage, result):
        """canary_bake's conclusion of the stage."""
        self.ledger.update(lambda state: conclude_stage(state, number, stage["weight"], result))

    def resume(self):
        """canary_state action=start on a release in progress (a re-run)."""
        self.ledger.update(lambda state: {**start_release(state, "", "", 0, HOLDER), "by": HOLDER})

    def _status(self, status, reason, event, fields=None):
        def set_status(state):
            state.update(fields or {})
            state["status"] = status
            state["reason"] = reason
            return {**event, "status": status, "reason": reason}

        self.ledger.update(set_status)

    def roll_back(self, reason):
        """canary_rollback: traffic to 0, then the status, its reason and the weight 0."""
        self.wait(2)
        state = self.state()
        event = {"event": "rolled_back", "stage": state["stage"], "weight_before": state["weight"]}
        self._status("rolled_back", reason, event, {"weight": 0})

    def finalize(self):
        """canary_finalize: traffic handed back (canary_traffic with the release), promoted."""
        self.wait(5)

        def hand_back(state):
            previous = state["weight"]
            state["weight"] = 0
            return {"event": "weight_set", "weight": 0, "previous_weight": previous}

        self.ledger.update(hand_back)
        self.wait(1)
        self._status("promoted", "every stage passed", {"event": "promoted", "image": IMAGE})


def promoted():
    """Four healthy stages, then finalized; at stage 3 two measurements cross a general bound."""
    spec = release()
    recorder = Recorder(spec)
    recorder.start()
    recorder.stage(1)
    recorder.stage(2)
    recorder.stage(3, lambda i: {**healthy(i), "error_rate": 0.002} if i in (1, 2) else healthy(i))
    recorder.stage(4)
    recorder.finalize()
    return spec, recorder.state()


def rolled_back(reason_prefix="Stage 2 (20%) failed its analysis: "):
    """Stage 1 passes through a Prometheus outage; stage 2's error rate fails it twice."""
    spec = release()
    recorder = Recorder(spec)
    recorder.start()
    outage = {"error_rate": "error", "latency": "error", "availability": "error"}
    recorder.stage(1, lambda i: outage if i == 2 else healthy(i))
    result = recorder.stage(2, lambda i: {**healthy(i), "error_rate": 0.0312} if i else healthy(i))
    recorder.roll_back(reason_prefix + result["reason"])
    return spec, recorder.state()


def held():
    """Stage 1's p99 stays above the important bound past the bake and hold_timeout."""
    spec = release(analysis={"hold_timeout": "4s"})
    recorder = Recorder(spec)
    recorder.start()
    recorder.stage(1, lambda i: {**healthy(i), "latency": 1.7})
    return spec, recorder.state()


def resumed():
    """Stage 2 interrupted after two measurements, resumed by a re-run and passed."""
    spec = release()
    recorder = Recorder(spec)
    recorder.start()
    recorder.stage(1)
    recorder.stage(2, interrupt_after=2)
    recorder.wait(30)
    recorder.resume()
    recorder.stage(2)
    return spec, recorder.state()


def second_release():
    """A release rolled back at stage 1, then another one promoted: two in one ledger."""
    spec = release()
    recorder = Recorder(spec)
    recorder.start(image="yyc3/short-drama-frontend:1.0.9-errors")
    result = recorder.stage(1, lambda i: {**healthy(i), "error_rate": 0.05})
    recorder.roll_back(result["reason"])
    recorder.wait(3600)
    recorder.start()
    for number in (1, 2, 3, 4):
        recorder.stage(number)
    recorder.finalize()
    return spec, recorder.state()


HOSTILE = '<img src=x onerror="alert(1)">&\'</script>'


def hostile():
    """Text from checks and operators that must not become markup: a check's name, the
    validation summary, the rollback reason."""
    check = {"name": HOSTILE, "type": "promql", "query": "sum(up)", "max": 1}
    spec = release(
        analysis={"checks": [{"name": "error_rate", "type": "error_rate", "max": 0.01}, check]}
    )
    recorder = Recorder(spec)
    recorder.start()
    validation = {**VALIDATION, "load": f"<b>{HOSTILE}</b>"}
    recorder.stage(1, lambda i: {"error_rate": 0.001, "promql": 2.0 if i == 1 else 0.5}, validation)
    recorder.roll_back(f"operator: </script><script>alert('{HOSTILE}')</script>")
    return spec, recorder.state()
