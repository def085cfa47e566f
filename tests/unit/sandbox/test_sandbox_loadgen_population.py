"""The load generator's users: their attributes, the headers they send, the segment counts.

The end-to-end test runs the generator against a small router on a free 127.0.0.1 port
that routes with ``sandbox.routing`` under the plan's targeting, and checks that the
stats file's per-rule counts are what the ``canary_target`` filter says of those users.
"""

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from filter_plugins.canary import FilterModule
from sandbox import loadgen, routing
from sandbox.httpserver import Server
from tests.unit.sandbox.test_sandbox_targeting_routing import Rules
from tests.unit.targeting.plan import plan_targeting

canary_target = FilterModule().filters()["canary_target"]


def test_a_user_keeps_its_attributes_and_the_seed_draws_another_population():
    assert loadgen.profile("user-000001") == loadgen.profile("user-000001", 0)
    ids = [f"user-{n:06d}" for n in range(200)]
    assert [loadgen.profile(u, 1) for u in ids] != [loadgen.profile(u, 0) for u in ids]


def test_the_mix_is_the_documented_one():
    users = [loadgen.profile(f"user-{n:06d}") for n in range(20_000)]

    def share(predicate, among=users):
        return 100 * sum(1 for u in among if predicate(u)) / len(among)

    for kind, percent in loadgen.TYPES.items():
        assert share(lambda u, k=kind: u["type"] == k) == pytest.approx(percent, abs=1.5)
    for region, percent in loadgen.REGIONS.items():
        assert share(lambda u, r=region: u["region"] == r) == pytest.approx(percent, abs=1.5)
    assert all(u["internal"] == (u["type"] == "internal") for u in users)
    assert all(1 <= u["level"] <= 10 for u in users)
    assert all(u["level"] <= 3 for u in users if u["type"] == "new")
    vip_levels = [u["level"] for u in users if u["type"] == "vip"]
    normal_levels = [u["level"] for u in users if u["type"] == "normal"]
    assert sum(vip_levels) / len(vip_levels) > sum(normal_levels) / len(normal_levels) + 2
    for kind in ("vip", "new", "normal"):
        of_kind = [u for u in users if u["type"] == kind]
        assert share(lambda u: u["active"], of_kind) == pytest.approx(
            100 * loadgen.ACTIVE[kind], abs=4
        )


def test_headers_are_the_ones_the_targeting_defaults_read():
    attributes = loadgen.profile("user-000003")
    sent, segments = loadgen.Population().of("user-000003")
    assert sent == {
        "X-User-Id": "user-000003",
        "X-User-Type": attributes["type"],
        "X-User-Level": str(attributes["level"]),
        "X-User-Active": "true" if attributes["active"] else "false",
        "X-User-Internal": "true" if attributes["internal"] else "false",
        "X-User-Region": attributes["region"],
    }
    assert segments == [
        ("type", attributes["type"]),
        ("level", str(attributes["level"])),
        ("active", sent["X-User-Active"]),
        ("internal", sent["X-User-Internal"]),
        ("region", attributes["region"]),
    ]
    with_rules = loadgen.Population(targeting_spec=plan_targeting())
    rule = canary_target({"headers": sent}, plan_targeting(), 100)["rule"]
    assert dict(with_rules.of("user-000003")[1])["rule"] == rule


def test_segments_count_requests_and_distinct_users_per_track():
    stats = loadgen.Stats(seed=1)
    stats.add("u1", "canary", 200, 0.01, [("type", "vip"), ("region", "beijing")])
    stats.add("u1", "canary", 200, 0.01, [("type", "vip"), ("region", "beijing")])
    stats.add("u2", "stable", 200, 0.01, [("type", "vip"), ("region", "wuhan")])
    segments = stats.snapshot()["segments"]
    assert segments["type"]["vip"] == {
        "requests": 3,
        "users": 2,
        "tracks": {"canary": {"requests": 2, "users": 1}, "stable": {"requests": 1, "users": 1}},
    }
    assert segments["region"]["wuhan"]["tracks"] == {"stable": {"requests": 1, "users": 1}}


class PlanRouter(BaseHTTPRequestHandler):
    """Answers every request itself, saying which track the plan's targeting picked."""

    rules = None
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        """Quiet: the test reads the load generator's stats."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        choice = routing.route(self.rules, self.headers, self.headers.get("Cookie"), True)
        body = b'{"token": "t"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Canary-Track", choice.track)
        self.end_headers()
        self.wfile.write(body)


def test_per_rule_shares_measured_through_a_router_are_what_the_filter_says(tmp_path):
    spec = plan_targeting()
    handler = type("Handler", (PlanRouter,), {"rules": Rules(20, targeting=spec)})
    server = Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stats_file = tmp_path / "stats.json"
    args = argparse.Namespace(
        url=f"http://127.0.0.1:{server.server_address[1]}",
        rate=4000.0,
        duration=60.0,
        users=1000,
        max_requests=0,
        stats_file=str(stats_file),
        once_per_user=True,
        threads=4,
        timeout=10.0,
        seed=3,
        profile_seed=0,
        targeting=spec,
    )
    try:
        final = loadgen.run(args, threading.Event())
    finally:
        server.shutdown()
        server.server_close()
    assert json.loads(stats_file.read_text()) == final
    assert final["total"]["requests"] == 1000
    expected = {}
    population = loadgen.Population()
    for n in range(1000):
        user = f"user-{n:06d}"
        decision = canary_target({"headers": population.of(user)[0]}, spec, 20)
        counts = expected.setdefault(decision["rule"], {})
        counts[decision["track"]] = counts.get(decision["track"], 0) + 1
    measured = {
        rule: {track: figures["users"] for track, figures in segment["tracks"].items()}
        for rule, segment in final["segments"]["rule"].items()
    }
    assert measured == expected
    assert sum(s["users"] for s in final["segments"]["type"].values()) == 1000


def test_a_bad_targeting_file_is_refused_naming_the_field(tmp_path, capsys):
    bad = tmp_path / "targeting.yml"
    bad.write_text("rules:\n  - {share: 500}\n")
    with pytest.raises(SystemExit):
        loadgen.main(["--targeting", str(bad)])
    assert f"--targeting: {bad}.rules[0].share" in capsys.readouterr().err
