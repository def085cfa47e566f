from ansible.module_utils.bake import Limits, bake, failure_reason

from .fakes import FakeClock


def measurement(verdict, value=0.0):
    result = {"pass": "pass", "error": "error", "hold": "fail"}.get(verdict, "fail")
    reason = f"error_rate = {value} > max 0.01" if result != "pass" else "every check passed"
    return {
        "verdict": verdict,
        "reason": reason,
        "checks": [{"name": "error_rate", "value": value, "result": result, "reason": reason}],
    }


def run(verdicts, judge_baseline=None, failed_checks=0, **limits):
    limits = Limits(**{"duration": 60, "interval": 2, "failure_limit": 2, **limits})
    clock = FakeClock()
    verdicts = iter(verdicts)
    times, recorded = [], []

    def measure():
        times.append(clock.now)
        return measurement(*next(verdicts))

    result = bake(
        measure,
        lambda m, n: recorded.append((m["decision"]["outcome"], n)),
        limits,
        failed_checks=failed_checks,
        judge_baseline=judge_baseline,
        clock=clock,
        sleep=clock.sleep,
    )
    return result, times, recorded


def test_healthy_bake_measures_on_schedule():
    result, times, recorded = run([("pass",)] * 10, duration=10, initial_delay=4)
    assert result["verdict"] == "pass" and result["failed_checks"] == 0
    assert times == [4, 6, 8, 10]
    assert recorded == [("pass", 0)] * 4


def test_zero_bake_still_measures_once():
    result, times, _ = run([("pass",)], duration=0)
    assert times == [0] and result["verdict"] == "pass"


def test_fails_when_failed_checks_reach_the_limit():
    result, times, recorded = run([("pass",), ("fail", 0.03), ("pass",), ("fail", 0.05)])
    assert result["verdict"] == "fail"
    assert times == [0, 2, 4, 6]
    assert recorded == [("pass", 0), ("fail", 1), ("pass", 1), ("fail", 2)]
    assert result["reason"] == (
        "failed measurement 2 (failure_limit 2): error_rate = 0.05 > max 0.01"
    )


def test_resumed_stage_keeps_its_count():
    result, times, _ = run([("fail", 0.02)], failed_checks=1)
    assert result["verdict"] == "fail" and times == [0]


def test_errors_fail_only_after_error_limit_in_a_row():
    verdicts = [("error",), ("error",), ("pass",), ("error",), ("error",), ("error",)]
    result, times, recorded = run(verdicts, error_limit=3)
    assert result["verdict"] == "fail" and len(times) == 6
    assert result["failed_checks"] == 0
    assert [outcome for outcome, _ in recorded] == ["error"] * 2 + ["pass"] + ["error"] * 3
    assert result["reason"].startswith("measurement error 3 in a row (error_limit 3)")


def test_errors_below_the_limit_do_not_count_as_failures():
    result, _, _ = run([("error",), ("pass",), ("pass",)], duration=4, error_limit=2)
    assert result["verdict"] == "pass" and result["failed_checks"] == 0


def test_a_hold_at_the_end_extends_the_bake_until_it_passes():
    verdicts = [("pass",), ("hold", 0.007), ("hold", 0.007), ("pass",)]
    result, times, recorded = run(verdicts, duration=2, hold_timeout=10)
    assert result["verdict"] == "pass"
    assert times == [0, 2, 4, 6]
    assert [outcome for outcome, _ in recorded] == ["pass", "hold", "hold", "pass"]
    assert result["failed_checks"] == 0


def test_a_hold_past_hold_timeout_holds_the_stage():
    result, times, _ = run([("hold", 0.007)] * 10, duration=2, hold_timeout=4)
    assert result["verdict"] == "hold"
    assert times == [0, 2, 4, 6]
    assert "success_limit 1" in result["reason"]
    assert "promotion held: error_rate = 0.007 > max 0.01" in result["reason"]


def test_holds_never_count_toward_the_failure_limit():
    result, _, _ = run([("hold", 0.007)] * 5 + [("pass",)], duration=10, failure_limit=1)
    assert result["verdict"] == "pass" and result["failed_checks"] == 0


def test_success_limit_needs_consecutive_passes_at_the_end():
    verdicts = [("pass",), ("pass",), ("fail", 0.02), ("pass",), ("pass",), ("pass",)]
    result, times, _ = run(verdicts, duration=4, failure_limit=3, success_limit=3, hold_timeout=60)
    assert result["verdict"] == "pass"
    assert times == [0, 2, 4, 6, 8, 10]
    assert result["failed_checks"] == 1


def test_baseline_judges_only_a_stage_that_would_pass():
    calls = []

    def judge(verdict):
        def judge_baseline():
            calls.append(verdict)
            return {"verdict": verdict, "reason": f"score: {verdict}"}

        return judge_baseline

    for verdict, expected in (("pass", "pass"), ("marginal", "hold"), ("fail", "fail")):
        result, _, _ = run([("pass",)] * 3, duration=4, judge_baseline=judge(verdict))
        assert result["verdict"] == expected
        assert result["baseline"]["verdict"] == verdict
        assert result["reason"] == f"score: {verdict}"
    run([("fail", 0.05)] * 2, judge_baseline=judge("pass"))
    assert calls == ["pass", "marginal", "fail"]


def test_slow_measurements_do_not_stretch_the_schedule():
    clock = FakeClock()
    times = []

    def slow_measure():
        times.append(clock.now)
        clock.now += 0.5
        return measurement("pass")

    bake(slow_measure, lambda m, n: None, Limits(6, 2, 2), clock=clock, sleep=clock.sleep)
    assert times == [0, 2, 4, 6]


def test_failure_reason_lists_failing_checks():
    m = {
        "verdict": "fail",
        "checks": [
            {"name": "a", "result": "pass"},
            {"name": "b", "result": "no_data", "reason": "b: no data"},
            {"name": "c", "result": "error"},
        ],
    }
    assert failure_reason(m) == "b: no data; c: error"
