"""Split accuracy: which distinct users the router sends to the canary at each stage."""

import concurrent.futures
import threading

import requests

from bench.common import playbook, row
from sandbox.releases import HEALTHY_IMAGE, ROUTER, wait_for

WEIGHTS = (5, 20, 50, 100)
TARGET_POINTS = 1.0
THREADS = 8


def canary_users(users, weight):
    """Send one request per user through the router; return the set sent to the canary."""
    local = threading.local()

    def ask(user):
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        answer = session.get(f"{ROUTER}/api/health", headers={"X-User-Id": user}, timeout=10)
        return user, answer.headers.get("X-Canary-Track")

    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        tracks = dict(pool.map(ask, users))
    unknown = [u for u, track in tracks.items() if track not in ("canary", "stable")]
    if unknown:
        raise RuntimeError(f"{len(unknown)} answers did not say which track served them")
    return {u for u, track in tracks.items() if track == "canary"}


def measure(sandbox, users):
    print(f"\nSplit accuracy ({users:,} distinct users per stage, one request each)", flush=True)
    release = sandbox.release
    release.reset()
    if playbook("prepare.yml", "-e", f"canary_image={HEALTHY_IMAGE}").returncode != 0:
        raise RuntimeError("prepare.yml failed")
    ids = [f"bench-user-{n:06d}" for n in range(users)]
    results = []
    previous = set()
    sticky = True
    for weight in WEIGHTS:
        # Each stage as operators run it: promote.yml scales the canary and sets the weight.
        if playbook("promote.yml", "-e", "canary_sandbox_bake=0s").returncode != 0:
            raise RuntimeError(f"promote.yml failed at {weight}%")
        wait_for(
            f"the router to apply {weight}%",
            lambda w=weight: (
                requests.get(f"{ROUTER}/api/health", timeout=5).ok and _router_weight() == w
            ),
        )
        canary = canary_users(ids, weight)
        share = 100.0 * len(canary) / users
        stayed = previous <= canary
        sticky = sticky and stayed
        row(
            f"{weight:>3}%: canary share of users",
            f"{share:.2f}%",
            f"{weight} +/- {TARGET_POINTS:g} points",
            abs(share - weight) <= TARGET_POINTS,
        )
        results.append({"weight": weight, "share": round(share, 3), "still_canary": stayed})
        previous = canary
    row("earlier canary users still canary", "100%" if sticky else "NO", "100%", sticky)
    playbook("rollback.yml")
    return {"users": users, "stages": results, "sticky": sticky}


def _router_weight():
    metrics = requests.get("http://127.0.0.1:18081/metrics", timeout=5).text
    for line in metrics.splitlines():
        if line.startswith("router_canary_weight "):
            return int(float(line.split()[1]))
    return None
