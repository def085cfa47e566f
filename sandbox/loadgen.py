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

Every user has attributes, drawn once per user id from ``--profile-seed`` (the same id
always has the same ones) and sent on every request in the headers the targeting
defaults read (``X-User-Type``, ``X-User-Level``, ``X-User-Active``,
``X-User-Internal``, ``X-User-Region``). The mix, after the plan's user types and a
short-drama audience: type internal 1 %, vip 9 %, new 20 %, normal 70 %; internal is
true for internal users only; level 1-10, new users 1-3, VIP users skewed high; active
90 % of internal, 70 % of VIP, 50 % of new and 35 % of normal users; region beijing 12 %,
shanghai 11 %, guangzhou 8 %, shenzhen 7 %, hangzhou 6 %, chengdu 6 %, wuhan 5 %,
zhengzhou 5 %, luoyang 5 %, others 35 %. The stats file counts requests and distinct
users per track for every value of every attribute (``segments``), and, given
``--targeting FILE`` (a targeting spec, YAML or JSON), per rule the user falls under
(``segments.rule``), so the canary's share of each segment can be measured.
"""

import argparse
import json
import logging
import os
import queue
import random
import signal
import tempfile
import threading
import time

import requests
import yaml

from sandbox.routing import targeting

LOG = logging.getLogger("sandbox.loadgen")
RESERVOIR_SIZE = 20000
PERCENTILES = (50, 90, 95, 99)
JOURNEY = (
    ("GET", "/api/content/list", 60),
    ("POST", "/api/ai/generate", 30),
    ("GET", "/api/health", 10),
)
# The population (percentages; see the module's doc).
TYPES = {"internal": 1, "vip": 9, "new": 20, "normal": 70}
LEVELS = {  # weights of levels 1..10
    "internal": (10,) * 10,
    "vip": (2, 3, 5, 8, 12, 15, 17, 16, 12, 10),
    "new": (60, 30, 10, 0, 0, 0, 0, 0, 0, 0),
    "normal": (16, 15, 14, 12, 11, 9, 8, 6, 5, 4),
}
ACTIVE = {"internal": 0.9, "vip": 0.7, "new": 0.5, "normal": 0.35}
REGIONS = {
    "beijing": 12,
    "shanghai": 11,
    "guangzhou": 8,
    "shenzhen": 7,
    "hangzhou": 6,
    "chengdu": 6,
    "wuhan": 5,
    "zhengzhou": 5,
    "luoyang": 5,
    "others": 35,
}
ATTRIBUTES = ("type", "level", "active", "internal", "region")


def write_atomically(path, data):
    """Write JSON through a temporary file and rename, so readers never see half a file."""
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json.part")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


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


class SegmentStats:
    """Requests and distinct users of one segment, in all and per track."""

    def __init__(self):
        self.requests = {}
        self.users = {}

    def add(self, user, track):
        for key in ("all", track):
            self.requests[key] = self.requests.get(key, 0) + 1
            self.users.setdefault(key, set()).add(user)

    def summary(self):
        return {
            "requests": self.requests.get("all", 0),
            "users": len(self.users.get("all", ())),
            "tracks": {
                track: {"requests": self.requests[track], "users": len(self.users[track])}
                for track in sorted(self.requests)
                if track != "all"
            },
        }


class Stats:
    """Totals, per-track and per-segment figures; the track comes from ``X-Canary-Track``."""

    def __init__(self, seed=None):
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.total = TrackStats(self.rng)
        self.tracks = {}
        self.segments = {}
        self.started = time.time()
        self.skipped = 0

    def add(self, user, track, code, seconds, segments=()):
        """Count one answer; ``segments``: the user's ``(dimension, value)`` pairs."""
        with self.lock:
            self.total.add(user, code, seconds)
            if track not in self.tracks:
                self.tracks[track] = TrackStats(self.rng)
            self.tracks[track].add(user, code, seconds)
            for dimension, value in segments:
                values = self.segments.setdefault(dimension, {})
                values.setdefault(value, SegmentStats()).add(user, track)

    def snapshot(self):
        with self.lock:
            return {
                "started": self.started,
                "elapsed_seconds": round(time.time() - self.started, 3),
                "skipped_ticks": self.skipped,
                "total": self.total.summary(),
                "tracks": {t: s.summary() for t, s in sorted(self.tracks.items())},
                "segments": {
                    dimension: {value: s.summary() for value, s in sorted(values.items())}
                    for dimension, values in sorted(self.segments.items())
                },
            }


def profile(user, seed=0):
    """The user's attributes, the same for the same id and seed."""
    rng = random.Random(f"{seed}:{user}")
    kind = rng.choices(list(TYPES), weights=list(TYPES.values()))[0]
    return {
        "type": kind,
        "level": rng.choices(range(1, 11), weights=LEVELS[kind])[0],
        "active": rng.random() < ACTIVE[kind],
        "internal": kind == "internal",
        "region": rng.choices(list(REGIONS), weights=list(REGIONS.values()))[0],
    }


def _text(value):
    return str(value).lower() if isinstance(value, bool) else str(value)


class Population:
    """Each user's attributes as request headers and as stats segments."""

    def __init__(self, seed=0, targeting_spec=None):
        self.seed = seed
        self.targeting = targeting.Targeting(targeting_spec) if targeting_spec else None
        self.known = {}

    def of(self, user):
        """``(headers, segments)`` of a user; computed once per user."""
        found = self.known.get(user)
        if found is None:
            attributes = profile(user, self.seed)
            where = targeting.DEFAULT_ATTRIBUTES
            headers = {where["user_id"]["header"]: user}
            headers.update({where[a]["header"]: _text(attributes[a]) for a in ATTRIBUTES})
            segments = [(a, _text(attributes[a])) for a in ATTRIBUTES]
            if self.targeting is not None:
                # The rule does not depend on the weight; a user no rule matches is "none".
                rule = self.targeting.decide({"headers": headers}, 100)[1]
                segments.append(("rule", rule or "none"))
            found = self.known[user] = (headers, segments)
        return found


def load_targeting(path):
    """A targeting spec from a YAML or JSON file; ValueError naming its problems."""
    with open(path) as handle:
        spec = yaml.safe_load(handle)
    errors = targeting.validate(spec, path)
    if errors:
        raise ValueError("; ".join(errors))
    return spec


class Users:
    """Simulated users, their attributes and their cached login tokens."""

    def __init__(self, url, timeout, population=None):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.population = population or Population()
        self.tokens = {}
        self.lock = threading.Lock()
        self.local = threading.local()

    def session(self):
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def send(self, user, method, path, body=None, token=None):
        headers = dict(self.population.of(user)[0])
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
    population = Population(args.profile_seed, args.targeting)
    users = Users(args.url, args.timeout, population)
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
            stats.add(user, track, code, time.monotonic() - started, population.of(user)[1])

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
    parser.add_argument("--profile-seed", type=int, default=0, help="draws the users' attributes")
    parser.add_argument(
        "--targeting", help="a targeting spec (YAML or JSON) to count users per rule"
    )
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.users <= 0 or args.threads <= 0:
        parser.error("--rate, --users and --threads must be positive")
    if args.targeting:
        try:
            args.targeting = load_targeting(args.targeting)
        except (OSError, ValueError, yaml.YAMLError) as error:
            parser.error(f"--targeting: {error}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    LOG.info("sending %.1f req/s to %s for at most %.0fs", args.rate, args.url, args.duration)
    final = run(args, stop)
    LOG.info("done: %s", json.dumps(final["total"]))


if __name__ == "__main__":
    main()
