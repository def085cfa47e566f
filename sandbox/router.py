"""The sandbox traffic router: applies the live traffic object to real HTTP requests.

``python -m sandbox.router --config sandbox/router.yaml``. A poller reads the traffic
object (through the reader the config selects, see ``sandbox.traffic``) and the
Endpoints of the stable and canary Services every ``poll_interval_seconds``; each
request is then routed by ``sandbox.routing`` and proxied to one backend of its track,
round-robin. Responses carry ``X-Canary-Track`` and ``X-Backend-Pod``.

If the API server cannot be reached, the router keeps the last state it read, as an
ingress controller keeps its last configuration. ``apiserver: in-cluster`` reads the
cluster the router runs in as its pod's service account (the kind scenario), which
needs ``get`` on the traffic ConfigMap and the two Services' Endpoints.
"""

import argparse
import http.client
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler

import yaml

from sandbox import kubeapi, promtext, routing, traffic
from sandbox.httpserver import Server

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
    "backends": {
        "stable": {"namespace": "yyc3-short-drama", "service": "frontend"},
        "canary": {"namespace": "yyc3-short-drama-canary", "service": "frontend-canary"},
    },
}


def load_config(path=None, port=None, admin_port=None, apiserver=None):
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
    for track in (routing.STABLE, routing.CANARY):
        if track not in config["backends"]:
            raise ValueError(f"backends.{track} is missing from the router config")
    traffic.make_reader(config["traffic"])
    return config


class Router:
    """Live routing state plus the metrics describing it."""

    def __init__(self, config, client):
        self.config = config
        self.client = client
        self.reader = traffic.make_reader(config["traffic"])
        self.rules = traffic.TrafficRules()
        self.pools = {routing.STABLE: routing.RoundRobin(), routing.CANARY: routing.RoundRobin()}
        self.logged = None
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
        """Read the traffic object and both Services' Endpoints once."""
        rules = self.reader.read(self.client)
        pools = {}
        for track, target in self.config["backends"].items():
            endpoints = self.client.get("Endpoints", target["namespace"], target["service"])
            pools[track] = routing.backends_from_endpoints(endpoints)
        self.rules = rules
        self.weight.set(rules.weight)
        for track, backends in pools.items():
            self.pools[track].update(backends)
            self.backends.set(len(backends), track=track)
        summary = (rules, {t: len(b) for t, b in pools.items()})
        if summary != self.logged:
            self.logged = summary
            if rules.problem:
                LOG.warning("%s", rules.problem)
            LOG.info("weight %d, backends %s", rules.weight, {t: len(b) for t, b in pools.items()})

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
            "weight": self.rules.weight,
            "canary_header": self.rules.canary_header,
            "backends": {track: len(pool) for track, pool in self.pools.items()},
        }


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
        rules = router.rules
        choice = routing.choose(
            routing.user_id(self.headers, self.headers.get("Cookie")),
            rules.weight,
            routing.forced_track(self.headers.get(rules.canary_header)),
            len(router.pools[routing.CANARY]) > 0,
        )
        backend = None if choice.status else router.pools[choice.track].next()
        if backend is None:
            code = choice.status or 503
            self.answer(code, choice.track, "", b'{"error": "no ready backend"}', {})
        else:
            code = self.forward(backend, choice.track, body)
        router.requests.inc(track=choice.track, code=str(code))
        router.duration.observe(time.monotonic() - started, track=choice.track)

    def forward(self, backend, track, body):
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["X-Forwarded-For"] = self.client_address[0]
        timeout = self.router.config["backend_timeout_seconds"]
        connection = http.client.HTTPConnection(backend.host, backend.port, timeout=timeout)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
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


def make_client(apiserver):
    """The API server's URL, or ``in-cluster`` for the cluster the router runs in."""
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = load_config(args.config, args.port, args.admin_port, args.apiserver)
    router = Router(config, make_client(config["apiserver"]))
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
