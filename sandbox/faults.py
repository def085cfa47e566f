"""Fault injection for the demo app, configured from container env.

A canary release is only worth testing if the canary can be bad. Ratios are spread
evenly over the requests (3% errors is one failed request in every 33 or 34, not a
coin toss per request), so a demo or a test sees the same fault every run even at the
low request counts of a 5% stage. ``FAULT_MIN_RPS`` makes a fault that only shows
under load; ``FAULT_START_AT`` makes a version go bad after a while; ``FAULT_PATHS``
(comma-separated API paths) limits the fault to those endpoints, the ratios then
counting their requests only.
"""

import collections
import dataclasses
import threading
import time

RATE_WINDOW_SECONDS = 5.0


def _float(env, name, default):
    raw = env.get(name, "")
    try:
        return float(raw) if raw.strip() else default
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


@dataclasses.dataclass(frozen=True)
class FaultConfig:
    """What to inject; all zero means a healthy app."""

    error_ratio: float = 0.0
    latency_seconds: float = 0.0
    latency_ratio: float = 1.0
    min_rps: float = 0.0
    start_at: float = 0.0
    # The endpoints that misbehave; empty: every API endpoint.
    paths: tuple = ()

    @classmethod
    def from_env(cls, env):
        paths = tuple(p.strip() for p in env.get("FAULT_PATHS", "").split(",") if p.strip())
        return cls(
            error_ratio=min(1.0, max(0.0, _float(env, "FAULT_ERROR_RATIO", 0.0))),
            latency_seconds=max(0.0, _float(env, "FAULT_LATENCY_SECONDS", 0.0)),
            latency_ratio=min(1.0, max(0.0, _float(env, "FAULT_LATENCY_RATIO", 1.0))),
            min_rps=max(0.0, _float(env, "FAULT_MIN_RPS", 0.0)),
            start_at=_float(env, "FAULT_START_AT", 0.0),
            paths=paths,
        )

    @property
    def active(self):
        return self.error_ratio > 0 or self.latency_seconds > 0


@dataclasses.dataclass(frozen=True)
class Decision:
    """The fault for one request: seconds to wait, then whether to answer 500."""

    delay: float = 0.0
    error: bool = False


class RateMeter:
    """Requests per second this process served over the last few seconds."""

    def __init__(self, window=RATE_WINDOW_SECONDS, clock=time.monotonic):
        self.window = window
        self.clock = clock
        self._times = collections.deque()
        self._lock = threading.Lock()

    def hit(self):
        """Record one request and return the rate including it."""
        now = self.clock()
        with self._lock:
            self._times.append(now)
            while self._times and self._times[0] <= now - self.window:
                self._times.popleft()
            return len(self._times) / self.window


class EvenShare:
    """Picks ``ratio`` of the calls, spread as evenly as possible (error diffusion)."""

    def __init__(self, ratio):
        self.ratio = ratio
        # Half a pick in hand: the first one comes after half a period, not a whole one.
        self._credit = 0.5 if ratio > 0 else 0.0

    def pick(self):
        self._credit += self.ratio
        if self._credit >= 1.0 - 1e-9:
            self._credit -= 1.0
            return True
        return False


class FaultInjector:
    """Decides, request by request, whether and how to misbehave."""

    def __init__(self, config, clock=time.time):
        self.config = config
        self.clock = clock
        self._delays = EvenShare(config.latency_ratio)
        self._errors = EvenShare(config.error_ratio)
        self._lock = threading.Lock()

    def decide(self, current_rps, path=None):
        config = self.config
        if not config.active or self.clock() < config.start_at or current_rps < config.min_rps:
            return Decision()
        if config.paths and path not in config.paths:
            return Decision()
        with self._lock:
            delayed = config.latency_seconds > 0 and self._delays.pick()
            failed = self._errors.pick()
        return Decision(delay=config.latency_seconds if delayed else 0.0, error=failed)
