"""Fault decisions: configured from env, evenly spread, gated by rate and time."""

import itertools

import pytest

from sandbox import faults


def test_from_env_defaults_to_no_fault():
    config = faults.FaultConfig.from_env({})
    assert not config.active
    assert config.latency_ratio == 1.0
    assert faults.FaultInjector(config).decide(1000) == faults.Decision()


def test_from_env_clamps_ratios_and_rejects_garbage():
    config = faults.FaultConfig.from_env({"FAULT_ERROR_RATIO": "1.7", "FAULT_LATENCY_RATIO": "-1"})
    assert (config.error_ratio, config.latency_ratio) == (1.0, 0.0)
    with pytest.raises(ValueError, match="FAULT_ERROR_RATIO"):
        faults.FaultConfig.from_env({"FAULT_ERROR_RATIO": "lots"})


def _decisions(env, count=2000, rps=100.0):
    injector = faults.FaultInjector(faults.FaultConfig.from_env(env))
    return [injector.decide(rps) for _ in range(count)]


def test_error_ratio_is_spread_evenly_over_the_requests():
    decisions = _decisions({"FAULT_ERROR_RATIO": "0.03"}, count=1000)
    assert sum(d.error for d in decisions) == 30
    failed_at = [i for i, d in enumerate(decisions) if d.error]
    gaps = {b - a for a, b in itertools.pairwise(failed_at)}
    assert gaps <= {33, 34}
    assert _decisions({"FAULT_ERROR_RATIO": "0.03"}, count=1000) == decisions


def test_latency_applies_to_the_configured_share_of_requests():
    decisions = _decisions({"FAULT_LATENCY_SECONDS": "1.5", "FAULT_LATENCY_RATIO": "0.25"})
    assert {d.delay for d in decisions} == {0.0, 1.5}
    assert sum(d.delay > 0 for d in decisions) == 500
    assert not any(d.error for d in decisions)


def test_every_request_fails_at_ratio_one():
    assert all(d.error for d in _decisions({"FAULT_ERROR_RATIO": "1"}, count=50))


def test_min_rps_hides_the_fault_under_light_traffic():
    env = {"FAULT_ERROR_RATIO": "1", "FAULT_MIN_RPS": "10"}
    assert not any(d.error for d in _decisions(env, 10, rps=9.9))
    assert all(d.error for d in _decisions(env, 10, rps=10))


def test_start_at_delays_the_fault():
    config = faults.FaultConfig.from_env({"FAULT_ERROR_RATIO": "1", "FAULT_START_AT": "1000"})
    assert not faults.FaultInjector(config, clock=lambda: 999.0).decide(1).error
    assert faults.FaultInjector(config, clock=lambda: 1000.0).decide(1).error


def test_rate_meter_counts_the_last_window_only():
    now = [0.0]
    meter = faults.RateMeter(window=5.0, clock=lambda: now[0])
    for _ in range(50):
        meter.hit()
    assert meter.hit() == pytest.approx(51 / 5)
    now[0] = 5.5
    assert meter.hit() == pytest.approx(1 / 5)


def test_paths_limit_the_fault_to_those_endpoints_and_count_their_requests_only():
    env = {"FAULT_ERROR_RATIO": "0.25", "FAULT_PATHS": "/api/ai/generate, /api/login"}
    injector = faults.FaultInjector(faults.FaultConfig.from_env(env))
    elsewhere = [injector.decide(100, "/api/content/list") for _ in range(100)]
    assert not any(d.error for d in elsewhere)
    generated = [injector.decide(100, "/api/ai/generate") for _ in range(100)]
    assert sum(d.error for d in generated) == 25
    assert sum(injector.decide(100, "/api/login").error for _ in range(4)) == 1
