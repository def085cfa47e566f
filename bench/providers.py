"""Traffic providers: the share of users each gives the canary, per segment, at each stage,
and how long the router takes to apply a weight once ``canary_traffic`` has returned.

For each provider (the configmap of the default host, then the sandbox inventory's
groups ``frontend_<provider>``) the router is switched to it
(``python -m sandbox router --traffic``), a healthy release is prepared and each of the
group's stages promoted without a bake. After each promote:

- share: one request through the router per distinct user (``users``, 10,000 by
  default), each with the load generator's attributes (type, level, active, internal,
  region); the canary's share of all users and of every segment, against the stage's
  weight. Target: within 1 point for all users; a segment's share is judged against
  the larger of 1 point and three binomial standard errors for its size, since a segment
  of a few hundred users cannot show a share to 1 point by sampling alone;
- apply time: from the end of promote's ``canary_traffic`` task (the JSON callback's
  timestamp) to the first ``/state`` of the router (polled every 10 ms) showing the
  stage's weight. Negative when the weight was in force before the task returned (the
  replicas provider: the stage's scaling, which runs first, already moves the pod ratio).

With the replicas provider the router's weight is the pod ratio and requests are spread
per request, not per user; its target is the share its pods reach. Figures only.
"""

import concurrent.futures
import json
import math
import os
import subprocess
import sys
import threading
import time

import requests

from bench.common import parse_time, row
from sandbox.loadgen import Population
from sandbox.product import PROJECT_ROOT
from sandbox.releases import HEALTHY_IMAGE, PROVIDERS, ROUTER, ROUTER_ADMIN, provider_spec

TARGET_POINTS = 1.0
THREADS = 8
POLL_SECONDS = 0.01
# Where the pod ratio may sit from a stage's weight (the replicas provider's tolerance).
RATIO_POINTS = 5.0


def hosts(provider):
    """The inventory hosts releasing the frontend through ``provider``."""
    return "canary_services" if provider == "configmap" else f"frontend_{provider}"


def stage_weights(provider):
    return [stage["weight"] for stage in provider_spec(provider)["stages"]]


def run(name, provider, *args, as_json=False):
    """A playbook for the provider's hosts; its JSON callback output when ``as_json``."""
    env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(PROJECT_ROOT, "ansible.cfg")}
    if as_json:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    result = subprocess.run(
        [
            os.path.join(PROJECT_ROOT, ".venv", "bin", "ansible-playbook"),
            os.path.join(PROJECT_ROOT, "playbooks", name),
            *("-e", f"canary_hosts={hosts(provider)}", *args),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{name} failed with {provider}:\n{result.stdout[-3000:]}")
    return json.loads(result.stdout) if as_json else None


def switch_router(provider):
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "router", "--traffic", provider],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"switching the router to {provider}: {result.stderr}")


def router_weight():
    return requests.get(ROUTER_ADMIN + "/state", timeout=5).json()["weight"]


class WeightWatch:
    """When the router's weight changed, polled every 10 ms: ``[(unix time, weight)]``."""

    def __init__(self):
        self.changes = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)

    def poll(self):
        session = requests.Session()
        while not self.done.wait(POLL_SECONDS):
            try:
                weight = session.get(ROUTER_ADMIN + "/state", timeout=5).json()["weight"]
            except (requests.RequestException, ValueError):
                continue
            if not self.changes or self.changes[-1][1] != weight:
                self.changes.append((time.time(), weight))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()

    def first(self, weight, tolerance, since):
        """The first time after ``since`` (or the change in force then) showing ``weight``."""
        current = [t for t, w in self.changes if t <= since]
        start = len(current) - 1 if current else 0
        for when, seen in self.changes[start:]:
            if abs(seen - weight) <= tolerance:
                return when
        return None


def traffic_returned(output, weight):
    """The end of the canary_traffic task that set ``weight`` (unix time), from the JSON."""
    for play in output["plays"]:
        for task in play["tasks"]:
            for result in task["hosts"].values():
                # Changed or not: with replicas the stage's scaling may have done it already.
                if result.get("action") == "canary_traffic" and result.get("weight") == weight:
                    return parse_time(task["task"]["duration"]["end"])
    raise RuntimeError(f"no canary_traffic task set the weight to {weight}")


def canary_users(population, users):
    """One request per user through the router; return the users the canary served."""
    local = threading.local()

    def ask(user):
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        answer = session.get(f"{ROUTER}/api/health", headers=population.of(user)[0], timeout=10)
        return user, answer.headers.get("X-Canary-Track")

    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        tracks = dict(pool.map(ask, users))
    unknown = [u for u, track in tracks.items() if track not in ("canary", "stable")]
    if unknown:
        raise RuntimeError(f"{len(unknown)} answers did not say which track served them")
    return {u for u, track in tracks.items() if track == "canary"}


def segment_shares(population, users, canary, target):
    """``{dimension: {value: {users, share, within}}}`` over the users."""
    found = {}
    for user in users:
        for dimension, value in population.of(user)[1]:
            found.setdefault(dimension, {}).setdefault(value, []).append(user in canary)
    result = {}
    for dimension, values in sorted(found.items()):
        result[dimension] = {}
        for value, hits in sorted(values.items()):
            share = 100.0 * sum(hits) / len(hits)
            p = min(max(target / 100.0, 0.0), 1.0)
            allowed = max(TARGET_POINTS, 300.0 * math.sqrt(p * (1 - p) / len(hits)))
            result[dimension][value] = {
                "users": len(hits),
                "share": round(share, 2),
                "within": abs(share - target) <= allowed,
            }
    return result


def measure_provider(sandbox, provider, users, population):
    print(f"\n  {provider}", flush=True)
    switch_router(provider)
    sandbox.release.reset()
    run("prepare.yml", provider, "-e", f"canary_image={HEALTHY_IMAGE}")
    ids = [f"bench-provider-user-{n:06d}" for n in range(users)]
    stages, previous, sticky = [], set(), True
    ratio = provider == "replicas"
    for weight in stage_weights(provider):
        with WeightWatch() as watch:
            output = run("promote.yml", provider, "-e", "canary_sandbox_bake=0s", as_json=True)
            returned = traffic_returned(output, weight)
            tolerance = RATIO_POINTS if ratio else 0
            applied = watch.first(weight, tolerance, returned)
            deadline = time.monotonic() + 30
            while applied is None and time.monotonic() < deadline:
                time.sleep(0.05)
                applied = watch.first(weight, tolerance, returned)
        if applied is None:
            raise RuntimeError(f"the {provider} router never showed {weight}%")
        target = router_weight() if ratio else weight
        canary = canary_users(population, ids)
        share = 100.0 * len(canary) / users
        segments = segment_shares(population, ids, canary, target)
        stayed = previous <= canary
        sticky = sticky and stayed
        row(
            f"{weight:>3}%: canary share of users",
            f"{share:.2f}%",
            f"{target:g} +/- {TARGET_POINTS:g} points",
            abs(share - target) <= TARGET_POINTS,
        )
        row(f"{weight:>3}%: canary_traffic -> router applies", f"{applied - returned:+.3f} s")
        outside = [
            f"{dimension}={value} {figures['share']:.1f}% (n={figures['users']})"
            for dimension, values in segments.items()
            for value, figures in values.items()
            if not figures["within"]
        ]
        row(
            f"{weight:>3}%: segments within their bound",
            f"{sum(len(v) for v in segments.values()) - len(outside)} of "
            f"{sum(len(v) for v in segments.values())}",
            None,
            not outside,
        )
        for text in outside:
            print(f"      outside: {text}", flush=True)
        stages.append(
            {
                "weight": weight,
                "target": target,
                "share": round(share, 3),
                "apply_seconds": round(applied - returned, 3),
                "still_canary": stayed,
                "segments": segments,
            }
        )
        previous = canary
    if not ratio:
        row("earlier canary users still canary", "100%" if sticky else "NO", "100%", sticky)
    run("rollback.yml", provider)
    return {"stages": stages, "sticky": sticky if not ratio else None}


def measure(sandbox, users=10_000):
    print(
        f"\nTraffic providers ({users:,} distinct users per stage, one request each)",
        flush=True,
    )
    population = Population()
    results = {}
    try:
        for provider in ("configmap", *PROVIDERS):
            results[provider] = measure_provider(sandbox, provider, users, population)
    finally:
        switch_router("configmap")
        sandbox.release.reset()
    return {"users": users, "providers": results}
