"""A bounded load generator of simulated short-drama users.

``python -m sandbox.loadgen --url http://127.0.0.1:18080 --rate 50 --duration 600
--users 2000``. A ticker releases requests at a steady rate to a small thread pool; each
request comes from a random user ``user-%06d`` (header ``X-User-Id``). A user logs in
once (the token is cached), then mostly lists content and generates scripts, with the
odd health check. When the workers fall behind, ticks are skipped rather than queued,
so the load never exceeds the rate. It stops by itself after ``--duration`` seconds or
``--max-requests`` requests, and on SIGTERM; the stats file is rewritten every second
and once more at the end.

``--once-per-user`` sends exactly one login per user id, in order, which is what a
split-accuracy measurement needs.
"""

import argparse
import json
import logging
import os
import queue
import random
import signal
import threading
import time

import requests

from sandbox.publish import write_atomically

LOG = logging.getLogger("sandbox.loadgen")
RESERVOIR_SIZE = 20000
PERCENTILES = (50, 90, 95, 99)
JOURNEY = (
    ("GET", "/api/content/list", 60),
    ("POST", "/api/ai/generate", 30),
    ("GET", "/api/health", 10),
)


def percentile(sorted_values, pct):
    """Nearest-rank percentile of an already sorted list; None when it is empty."""
    if not sorted_values:
        return None
    rank = max(1, -(-pct * len(sorted_values) // 100))
    return sorted_values[int(rank) - 1]


class TrackStats:
    """Counters and a latency reservoir (bounded memory for long runs)."""

    def __init__(self, rng):
        self.rng = rng
        self.requests = 0
        self.errors = 0
        self.codes = {}
        self.users = set()
        self.latencies = []

    def add(self, user, code, seconds):
        self.requests += 1
        self.errors += code == 0 or code >= 500
        self.codes[str(code)] = self.codes.get(str(code), 0) + 1
        self.users.add(user)
        if len(self.latencies) < RESERVOIR_SIZE:
            self.latencies.append(seconds)
        else:
            slot = self.rng.randrange(self.requests)
            if slot < RESERVOIR_SIZE:
                self.latencies[slot] = seconds

    def summary(self):
        ordered = sorted(self.latencies)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "error_ratio": self.errors / self.requests if self.requests else 0.0,
            "codes": dict(sorted(self.codes.items())),
            "users": len(self.users),
            "latency_seconds": {f"p{p}": percentile(ordered, p) for p in PERCENTILES},
        }


class Stats:
    """Totals and per-track figures; the track comes from ``X-Canary-Track``."""

    def __init__(self, seed=None):
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.total = TrackStats(self.rng)
        self.tracks = {}
        self.started = time.time()
        self.skipped = 0

    def add(self, user, track, code, seconds):
        with self.lock:
            self.total.add(user, code, seconds)
            if track not in self.tracks:
                self.tracks[track] = TrackStats(self.rng)
            self.tracks[track].add(user, code, seconds)

    def snapshot(self):
        with self.lock:
            return {
                "started": self.started,
                "elapsed_seconds": round(time.time() - self.started, 3),
                "skipped_ticks": self.skipped,
                "total": self.total.summary(),
                "tracks": {t: s.summary() for t, s in sorted(self.tracks.items())},
            }


class Users:
    """Simulated users and their cached login tokens."""

    def __init__(self, url, timeout):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.tokens = {}
        self.lock = threading.Lock()
        self.local = threading.local()

    def session(self):
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def send(self, user, method, path, body=None, token=None):
        headers = {"X-User-Id": user}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.session().request(
            method, self.url + path, json=body, headers=headers, timeout=self.timeout
        )

    def login(self, user):
        response = self.send(
            user, "POST", "/api/auth/login", {"email": f"{user}@demo.yyc3", "password": "demo"}
        )
        if response.status_code == 200:
            with self.lock:
                self.tokens[user] = response.json().get("token")
        return response

    def step(self, user, rng):
        """One request of the user's journey: login first, then a weighted pick."""
        with self.lock:
            token = self.tokens.get(user)
        if token is None:
            return self.login(user)
        method, path, _ = rng.choices(JOURNEY, weights=[w for *_, w in JOURNEY])[0]
        body = {"prompt": f"a twist for {user}"} if method == "POST" else None
        response = self.send(user, method, path, body, token)
        if response.status_code == 401:
            with self.lock:
                self.tokens.pop(user, None)
        return response


def run(args, stop):
    rng = random.Random(args.seed)
    stats = Stats(args.seed)
    users = Users(args.url, args.timeout)
    work = queue.Queue(maxsize=args.threads)

    def worker(local_rng):
        while True:
            user = work.get()
            if user is None:
                return
            started = time.monotonic()
            try:
                response = users.login(user) if args.once_per_user else users.step(user, local_rng)
                code, track = response.status_code, response.headers.get("X-Canary-Track", "none")
            except requests.RequestException:
                code, track = 0, "none"
            stats.add(user, track, code, time.monotonic() - started)

    threads = [
        threading.Thread(target=worker, args=(random.Random(rng.random()),), daemon=True)
        for _ in range(args.threads)
    ]
    for thread in threads:
        thread.start()
    if args.once_per_user:
        plan = iter(f"user-{n:06d}" for n in range(args.users))
    else:
        plan = iter(lambda: f"user-{rng.randrange(args.users):06d}", None)
    limit = args.max_requests or (args.users if args.once_per_user else 0)
    deadline = time.monotonic() + args.duration
    next_tick = next_write = time.monotonic()
    sent = 0
    while not stop.is_set() and time.monotonic() < deadline and (not limit or sent < limit):
        if work.full():  # only this thread adds work, so the check cannot go stale
            with stats.lock:
                stats.skipped += 1
        else:
            user = next(plan, None)
            if user is None:
                break
            work.put_nowait(user)
            sent += 1
        if args.stats_file and time.monotonic() >= next_write:
            write_atomically(args.stats_file, stats.snapshot())
            next_write += 1.0
        next_tick += 1.0 / args.rate
        stop.wait(max(0.0, next_tick - time.monotonic()))
    for _ in threads:
        work.put(None)
    for thread in threads:
        thread.join(timeout=args.timeout + 1)
    final = stats.snapshot()
    if args.stats_file:
        write_atomically(args.stats_file, final)
    return final


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sandbox.loadgen", description=__doc__)
    parser.add_argument(
        "--url", default=os.environ.get("SANDBOX_ROUTER_URL", "http://127.0.0.1:18080")
    )
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--max-requests", type=int, default=0, help="0 means no limit")
    parser.add_argument("--stats-file")
    parser.add_argument("--once-per-user", action="store_true")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.users <= 0 or args.threads <= 0:
        parser.error("--rate, --users and --threads must be positive")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    LOG.info("sending %.1f req/s to %s for at most %.0fs", args.rate, args.url, args.duration)
    final = run(args, stop)
    LOG.info("done: %s", json.dumps(final["total"]))


if __name__ == "__main__":
    main()
