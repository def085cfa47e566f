from ansible.module_utils.bake import bake, failure_reason


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def measurement(verdict, value=0.0):
    result = "pass" if verdict == "pass" else "fail"
    return {
        "verdict": verdict,
        "checks": [
            {
                "name": "error_rate",
                "value": value,
                "result": result,
                "reason": f"error_rate = {value} > max 0.01" if result == "fail" else "",
            }
        ],
    }


def run(verdicts, duration, interval=2, failure_limit=2, initial_delay=0, failed_checks=0):
    clock = FakeClock()
    verdicts = iter(verdicts)
    times, recorded = [], []

    def measure():
        times.append(clock.now)
        return measurement(*next(verdicts))

    result = bake(
        measure,
        lambda m, n: recorded.append(n),
        duration,
        interval,
        failure_limit,
        initial_delay,
        failed_checks,
        clock=clock,
        sleep=clock.sleep,
    )
    return result, times, recorded


def test_healthy_bake_measures_on_schedule():
    result, times, recorded = run([("pass",)] * 10, duration=10, initial_delay=4)
    assert result["verdict"] == "pass" and result["failed_checks"] == 0
    assert times == [4, 6, 8, 10]
    assert recorded == [0, 0, 0, 0]


def test_zero_bake_still_measures_once():
    result, times, _ = run([("pass",)], duration=0)
    assert times == [0] and result["verdict"] == "pass"


def test_fails_when_failed_checks_reach_the_limit():
    result, times, recorded = run(
        [("pass",), ("fail", 0.03), ("pass",), ("fail", 0.05)], duration=60
    )
    assert result["verdict"] == "fail"
    assert times == [0, 2, 4, 6]
    assert recorded == [0, 1, 1, 2]
    assert result["reason"] == "error_rate = 0.05 > max 0.01"


def test_no_data_counts_as_a_failure():
    result, _, _ = run([("no_data",), ("no_data",)], duration=60)
    assert result["verdict"] == "fail"


def test_resumed_stage_keeps_its_count():
    result, times, _ = run([("fail", 0.02)], duration=60, failed_checks=1)
    assert result["verdict"] == "fail" and times == [0]


def test_slow_measurements_do_not_stretch_the_schedule():
    clock = FakeClock()
    times = []

    def slow_measure():
        times.append(clock.now)
        clock.now += 0.5
        return measurement("pass")

    bake(slow_measure, lambda m, n: None, 6, 2, 2, clock=clock, sleep=clock.sleep)
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
