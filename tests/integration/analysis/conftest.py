"""A real Prometheus loaded with a known ten-minute history, for deterministic analysis.

The history is written as OpenMetrics at 1 s resolution, turned into TSDB blocks with
``promtool tsdb create-blocks-from openmetrics`` and served by Debian's prometheus with
no scrape targets. It lies a few hours in the past, so tests query it with an explicit
``time`` and every result is exact and repeatable.

Each scenario is a namespace (``case-<name>``), so one server answers every test. The
stable track is unhealthy unless a scenario gives its own, which proves the checks only
see the canary; the baseline scenarios give both tracks, with seeded per-second jitter
so the judge compares real distributions.
"""

import random
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass

import pytest

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
SECONDS = 600
BUCKETS = ("0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf")
# Cumulative per-second bucket increments for 100 requests and their duration sum.
FAST = ((90, 100, 100, 100, 100, 100, 100, 100), 4.0)  # p99 = 0.095 s
SLOW = ((90, 90, 90, 90, 90, 99, 100, 100), 24.6)  # p99 = 2.5 s


@dataclass
class Track:
    ok: float = 100  # 2xx responses per second
    errors: int = 0  # 5xx responses per second; 0 means no 5xx series at all
    latency: tuple = FAST
    idle: bool = False  # series exist but do not move: no traffic
    down_for: int = 0  # the second target is down for the last this many seconds
    flap: int = 0  # errors only in every other period of this many seconds
    jitter: int = 0  # errors per second vary by up to this much (seeded)

    def error_increments(self, seed):
        """Errors in each second of the history."""
        rng = random.Random(seed)
        for i in range(SECONDS):
            quiet = self.idle or (self.flap and (i // self.flap) % 2 == 0)
            jitter = rng.randint(-self.jitter, self.jitter) if self.jitter else 0
            yield 0 if quiet else max(0, self.errors + jitter)


STABLE = Track(ok=95, errors=5, latency=SLOW)
SCENARIOS = {
    "healthy": Track(),
    "errors": Track(ok=97, errors=3),
    "slow": Track(latency=SLOW),
    "idle": Track(idle=True),
    "down": Track(down_for=30),
    # The plan's tiers: 0.7 % errors is important only, 0.3 % general only.
    "important": Track(ok=993, errors=7),
    "general": Track(ok=997, errors=3),
    # 0.1 request per second: 6 a minute.
    "quiet": Track(ok=0.1),
    # 3 % errors in every other minute, none in between.
    "flapping": Track(ok=97, errors=3, flap=60),
    # Baseline judge: both tracks equally degraded; canary worse than a healthy stable.
    "degraded": (
        Track(ok=95, errors=5, latency=SLOW, jitter=2),
        Track(ok=95, errors=5, latency=SLOW, jitter=2),
    ),
    "regression": (Track(ok=996, errors=4, jitter=2), Track(ok=999, errors=1, jitter=1)),
}


@dataclass
class History:
    url: str
    end: float  # unix time of the last sample; query here


def openmetrics(start):
    """The whole history as one OpenMetrics exposition, families kept together."""
    tracks = []
    for name, scenario in SCENARIOS.items():
        canary, stable = scenario if isinstance(scenario, tuple) else (scenario, STABLE)
        tracks += [(f"case-{name}", "canary", canary), (f"case-{name}", "stable", stable)]
    lines = ["# TYPE http_requests counter"]
    for namespace, track_name, track in tracks:
        version = "v2" if track_name == "canary" else "v1"
        base = f'namespace="{namespace}",track="{track_name}",version="{version}",method="GET"'
        ok = 0 if track.idle else track.ok
        lines += [
            f'http_requests_total{{{base},path="/api/dramas",code="200"}} {i * ok:g} {start + i}'
            for i in range(SECONDS)
        ]
        if track.errors:
            labels = f'{base},path="/api/ai/generate",code="500"'
            total = 0
            for i, errors in enumerate(track.error_increments(f"{namespace}/{track_name}")):
                total += errors if i else 0
                lines.append(f"http_requests_total{{{labels}}} {total} {start + i}")
    lines.append("# TYPE http_request_duration_seconds histogram")
    for namespace, track_name, track in tracks:
        labels = f'namespace="{namespace}",track="{track_name}",path="/api/dramas"'
        counts, duration = track.latency
        for i in range(SECONDS):
            n = 0 if track.idle else i
            lines += [
                f'http_request_duration_seconds_bucket{{{labels},le="{le}"}} {n * c} {start + i}'
                for le, c in zip(BUCKETS, counts, strict=True)
            ]
            lines.append(
                f"http_request_duration_seconds_count{{{labels}}} {n * counts[-1]} {start + i}"
            )
            lines.append(
                f"http_request_duration_seconds_sum{{{labels}}} {n * duration:g} {start + i}"
            )
    lines.append("# TYPE up gauge")
    for namespace, track_name, track in tracks:
        for instance in ("a", "b"):
            labels = f'job="short-drama",instance="{instance}",namespace="{namespace}",track="{track_name}"'
            down_from = SECONDS - track.down_for if instance == "b" and track.down_for else SECONDS
            lines += [f"up{{{labels}}} {int(i < down_from)} {start + i}" for i in range(SECONDS)]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url, process, deadline=15.0):
    limit = time.monotonic() + deadline
    while time.monotonic() < limit:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"prometheus not ready after {deadline}s")


@pytest.fixture(scope="session")
def history(tmp_path_factory):
    if not (shutil.which(PROMETHEUS) and shutil.which(PROMTOOL)):
        pytest.skip("needs prometheus and promtool (Debian package prometheus)")
    root = tmp_path_factory.mktemp("prometheus")
    start = int(time.time()) - 3 * 3600 - SECONDS
    (root / "history.om").write_text(openmetrics(start))
    subprocess.run(
        [
            PROMTOOL,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            str(root / "history.om"),
            str(root / "tsdb"),
        ],
        check=True,
        capture_output=True,
    )
    (root / "prometheus.yml").write_text("scrape_configs: []\n")
    url = f"http://127.0.0.1:{free_port()}"
    with (root / "prometheus.log").open("w") as log:
        process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={root / 'prometheus.yml'}",
                f"--storage.tsdb.path={root / 'tsdb'}",
                "--storage.tsdb.retention.time=10y",
                f"--web.listen-address={url.removeprefix('http://')}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(url, process)
        yield History(url=url, end=float(start + SECONDS - 1))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
