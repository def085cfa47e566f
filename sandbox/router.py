"""The sandbox traffic router: applies the live traffic object to real HTTP requests.

``python -m sandbox.router --config sandbox/router.yaml [--traffic PROVIDER]``. A poller
reads the traffic object (through the reader the config selects, see ``sandbox.traffic``)
and the EndpointSlices of the stable and canary Services every ``poll_interval_seconds``.
Each request then goes, in this order:

1. a path ``/api/v1/namespaces/<namespace>/services/<service>/proxy/<path>`` naming
   one of the two Services goes to that Service as ``/<path>``: the API server's service
   proxy URL, how a validation reaches one track when the traffic object cannot force it;
2. with ``replicas``, to the next ready pod of the Service selecting both tracks
   (round-robin, so the canary's share is its share of the pods);
3. with a route table (HTTPRoute, canary Ingress, VirtualService, Route), by the first
   route that matches, its share applied with the sticky bucket;
4. otherwise (the ConfigMap) by ``sandbox.routing``.

It is proxied to one backend of the chosen track, round-robin. Responses carry
``X-Canary-Track`` and ``X-Backend-Pod``.

If the API server cannot be reached, the router keeps the last state it read, as an
ingress controller keeps its last configuration. ``apiserver: in-cluster`` reads the
cluster the router runs in as its pod's service account (the kind scenario), which
needs ``get`` on the traffic ConfigMap and ``list`` on EndpointSlices.
"""

import argparse
import dataclasses
import http.client
import json
import logging
import re
import threading
import time
from http.server import BaseHTTPRequestHandler

import yaml

from sandbox import kubeapi, promtext, routing, traffic
from sandbox.httpserver import Server
from sandbox.readers.rules import Request, first_match, percentage

LOG = logging.getLogger("sandbox.router")
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}
IN_CLUSTER = "in-cluster"
DEFAULTS = {
    "listen": {"host": "127.0.0.1", "port": 18080},
    "admin": {"host": "127.0.0.1", "port": 18081},
    "apiserver": "http://127.0.0.1:16443",
    "poll_interval_seconds": 0.2,
    "backend_timeout_seconds": 30,
    "traffic": {"provider": "configmap"},
    "backends": traffic.DEFAULT_BACKENDS,
}
ANSWERS = {404: "no route matches the request", 503: "no ready backend"}
# The API server's service proxy path; the name may carry a scheme and a port.
SERVICE_PROXY = re.compile(
    r"/api/v1/namespaces/(?P<namespace>[^/]+)/services/(?:https?:)?(?P<name>[^/:]+)(?::[^/]*)?"
    r"/proxy(?P<rest>[/?].*)?$"
)


def load_config(path=None, port=None, admin_port=None, apiserver=None, provider=None):
    """The config file merged over the defaults, then command-line overrides on top."""
    config = json.loads(json.dumps(DEFAULTS))
    if path:
        with open(path) as handle:
            loaded = yaml.safe_load(handle) or {}
        for key, value in loaded.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key] = {**config[key], **value}
            else:
                config[key] = value
    if port is not None:
        config["listen"]["port"] = port
    if admin_port is not None:
        config["admin"]["port"] = admin_port
    if apiserver:
        config["apiserver"] = apiserver
    if provider:
        config["traffic"]["provider"] = provider
    # A provider may need other Services, e.g. a Route reaches its own namespace only.
    section = config["traffic"].get(config["traffic"].get("provider", "configmap")) or {}
    config["backends"] = {**config["backends"], **(section.get("backends") or {})}
    for track in (routing.STABLE, routing.CANARY):
        if track not in config["backends"]:
            raise ValueError(f"backends.{track} is missing from the router config")
    traffic.make_reader(config["traffic"], config["backends"])
    return config


def choose_route(routes, request, user, canary_ready):
    """The first matching route decides; its share is applied with the sticky bucket.

    As with ``routing.choose``: a canary chosen by a header, cookie or query match
    without a ready backend is refused (503), a weighted one falls back to stable.
    """
    route = first_match(routes, request)
    if route is None:
        return routing.Choice(routing.STABLE, 404)
    if route.status:
        return routing.Choice(routing.STABLE, route.status)
    share = route.share
    if not (share >= 100 or (share > 0 and routing.bucketing.in_canary(user, share))):
        return routing.Choice(routing.STABLE)
    if canary_ready:
        return routing.Choice(routing.CANARY)
    return routing.Choice(routing.CANARY, 503) if route.forced else routing.Choice(routing.STABLE)


class Router:
    """Live routing state plus the metrics describing it."""

    def __init__(self, config, client):
        self.config = config
        self.client = client
        self.provider = config["traffic"].get("provider", "configmap")
        self.reader = traffic.make_reader(config["traffic"], config["backends"])
        self.rules = traffic.TrafficRules()
        self.pools = {routing.STABLE: routing.RoundRobin(), routing.CANARY: routing.RoundRobin()}
        # The replicas mode's one pool: (track, backend) of every pod its Service selects.
        self.everyone = routing.RoundRobin()
        self.services = {
            (target["namespace"], target["service"]): track
            for track, target in config["backends"].items()
        }
        self.logged = None
        self.logged_problem = ""
        self.registry = promtext.Registry()
        self.requests = self.registry.register(
            promtext.Counter(
                "router_requests_total", "Requests routed, by track and status.", ("track", "code")
            )
        )
        self.duration = self.registry.register(
            promtext.Histogram(
                "router_request_duration_seconds", "Time to answer through the router.", ("track",)
            )
        )
        self.weight = self.registry.register(
            promtext.Gauge("router_canary_weight", "Canary weight in effect (0..100).")
        )
        self.backends = self.registry.register(
            promtext.Gauge("router_backends", "Ready backends per track.", ("track",))
        )
        self.weight.set(0)
        for track in self.pools:
            self.backends.set(0, track=track)

    def refresh(self):
        """Read the traffic object and both Services' EndpointSlices once."""
        rules = self.reader.read(self.client)
        pools = {}
        for track, target in self.config["backends"].items():
            pools[track] = routing.backends_from_slices(
                routing.service_slices(self.client, target["namespace"], target["service"])
            )
        if rules.replicas:
            canary = {(b.host, b.port) for b in pools[routing.CANARY]}
            tracked = [
                (routing.CANARY if (b.host, b.port) in canary else routing.STABLE, b)
                for b in rules.pods
            ]
            share = sum(t == routing.CANARY for t, _ in tracked) / len(tracked) if tracked else 0
            rules = dataclasses.replace(rules, weight=percentage(100.0 * share))
            self.everyone.update(tracked)
        self.rules = rules
        self.weight.set(rules.weight)
        for track, backends in pools.items():
            self.pools[track].update(backends)
            self.backends.set(len(backends), track=track)
        if rules.problem != self.logged_problem:
            self.logged_problem = rules.problem
            if rules.problem:
                LOG.warning("%s", rules.problem)
        summary = (rules.mode, rules.weight, {t: len(b) for t, b in pools.items()})
        if summary != self.logged:
            self.logged = summary
            LOG.info("%s: weight %s, backends %s", self.provider, rules.weight, summary[2])

    def poll(self, stop):
        interval = self.config["poll_interval_seconds"]
        failing = False
        while not stop.is_set():
            try:
                self.refresh()
                failing = False
            # OSError covers requests' errors and an unreadable service account token.
            except (OSError, kubeapi.ApiError) as error:
                if not failing:
                    LOG.error("cannot read routing state, keeping the last one: %s", error)
                failing = True
            stop.wait(interval)

    def state(self):
        return {
            "provider": self.provider,
            "mode": self.rules.mode,
            "weight": self.rules.weight,
            "canary_header": self.rules.canary_header,
            "problem": self.rules.problem,
            "backends": {track: len(pool) for track, pool in self.pools.items()},
        }

    def addressed(self, target):
        """(track, path for the backend) when ``target`` is a service proxy URL of ours."""
        found = SERVICE_PROXY.match(target)
        if not found:
            return None, target
        track = self.services.get((found["namespace"], found["name"]))
        rest = found["rest"] or "/"
        return track, (rest if rest.startswith("/") else "/" + rest)

    def pick(self, command, target, headers):
        """(Choice, backend or None, the path to send) for one request."""
        headers = routing.decoded_headers(headers)
        rules = self.rules
        track, path = self.addressed(target)
        if track:
            backend = self.pools[track].next()
            return routing.Choice(track, 0 if backend else 503), backend, path
        if rules.replicas and not rules.problem:
            picked = self.everyone.next()
            if picked is None:
                return routing.Choice(routing.STABLE, 503), None, target
            return routing.Choice(picked[0]), picked[1], target
        if rules.replicas:
            return routing.Choice(routing.STABLE), self.pools[routing.STABLE].next(), target
        canary_ready = len(self.pools[routing.CANARY]) > 0
        if rules.routes:
            request = Request.from_http(command, target, headers.items())
            user = routing.user_id(headers, headers.get("Cookie"))
            choice = choose_route(rules.routes, request, user, canary_ready)
        else:
            choice = routing.route(rules, headers, headers.get("Cookie"), canary_ready)
        return choice, None if choice.status else self.pools[choice.track].next(), target


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else every kept-alive request waits 40 ms for an ACK
    router: Router

    def log_message(self, format, *args):
        """Requests are counted in metrics; logging each would only fill the disk."""

    def do_GET(self):
        self.proxy()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def proxy(self):
        started = time.monotonic()
        router = self.router
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        choice, backend, path = router.pick(self.command, self.path, self.headers)
        if backend is None:
            code = choice.status or 503
            message = json.dumps({"error": ANSWERS.get(code, "the route has no backend")})
            self.answer(code, choice.track, "", message.encode(), {})
        else:
            code = self.forward(backend, choice.track, body, path)
        router.requests.inc(track=choice.track, code=str(code))
        router.duration.observe(time.monotonic() - started, track=choice.track)

    def forward(self, backend, track, body, path):
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["X-Forwarded-For"] = self.client_address[0]
        timeout = self.router.config["backend_timeout_seconds"]
        connection = http.client.HTTPConnection(backend.host, backend.port, timeout=timeout)
        try:
            connection.request(self.command, path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            status, reply_headers = response.status, response.getheaders()
        except OSError as error:
            LOG.warning("backend %s (%s) failed: %s", backend.pod, track, error)
            message = json.dumps({"error": "bad gateway", "backend": backend.pod}).encode()
            return self.answer(502, track, backend.pod, message, {})
        finally:
            connection.close()
        passed = {k: v for k, v in reply_headers if k.lower() not in HOP_BY_HOP}
        return self.answer(status, track, backend.pod, payload, passed)

    def answer(self, code, track, pod, payload, headers):
        self.send_response(code)
        for key, value in headers.items():
            self.send_header(key, value)
        if "Content-Type" not in headers:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Canary-Track", track)
        if pod:
            self.send_header("X-Backend-Pod", pod)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        return code


class AdminHandler(BaseHTTPRequestHandler):
    """``/metrics`` for Prometheus, ``/healthz`` and ``/state`` for people and tests."""

    router: Router

    def log_message(self, format, *args):
        """Scrapes every second would drown the log."""

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            body, content_type = self.router.registry.render(), promtext.CONTENT_TYPE
        elif path == "/state":
            body, content_type = json.dumps(self.router.state()).encode(), "application/json"
        elif path == "/healthz":
            body, content_type = b"ok\n", "text/plain"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def make_client(apiserver, kubeconfig=None):
    """A kubeconfig's identity, else the API server's URL, or ``in-cluster`` for the
    cluster the router runs in."""
    if kubeconfig:
        return kubeapi.Client.from_kubeconfig(kubeconfig, timeout=2.0)
    if apiserver == IN_CLUSTER:
        return kubeapi.Client.in_cluster(timeout=2.0)
    return kubeapi.Client(apiserver, timeout=2.0)


def serve(handler, router, address):
    handler_class = type(handler.__name__, (handler,), {"router": router})
    return Server((address["host"], address["port"]), handler_class)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sandbox.router", description=__doc__)
    parser.add_argument("--config", help="YAML router config (see sandbox/router.yaml)")
    parser.add_argument("--port", type=int, help="proxy port (overrides listen.port)")
    parser.add_argument("--admin-port", type=int, help="metrics port (overrides admin.port)")
    parser.add_argument("--apiserver", help="API server URL, or in-cluster (overrides apiserver)")
    parser.add_argument("--kubeconfig", help="read the cluster as this kubeconfig's user")
    parser.add_argument(
        "--traffic",
        choices=sorted(traffic.READERS),
        help="traffic provider (overrides traffic.provider)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = load_config(args.config, args.port, args.admin_port, args.apiserver, args.traffic)
    router = Router(config, make_client(config["apiserver"], args.kubeconfig))
    stop = threading.Event()
    proxy = serve(ProxyHandler, router, config["listen"])
    admin = serve(AdminHandler, router, config["admin"])
    threading.Thread(target=router.poll, args=(stop,), daemon=True).start()
    threading.Thread(target=admin.serve_forever, daemon=True).start()
    LOG.info("routing on %s:%d, admin on %s:%d", *proxy.server_address, *admin.server_address)
    try:
        proxy.serve_forever()
    finally:
        stop.set()


if __name__ == "__main__":
    main()
