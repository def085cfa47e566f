"""The demo app: the YYC3 short-drama API surface, with metrics and fault injection.

Run as ``python -m sandbox.app`` with ``PORT``, ``APP_VERSION`` and ``TRACK`` (stable or
canary) in the environment, plus the ``FAULT_*`` variables of ``sandbox.faults``. Every
replica is its own process, so the app only uses the standard library. It listens on
127.0.0.1 unless ``LISTEN_HOST`` says otherwise: in a real pod (the kind scenario's
image sets ``0.0.0.0``) the kubelet's probes and the router come from other addresses.

Tokens are an HMAC of the email under a fixed demo key: the router may send one user's
requests to any replica, and every replica can verify any token without shared state.
"""

import base64
import hashlib
import hmac
import json
import os
import time
from http.server import BaseHTTPRequestHandler

from sandbox import faults, promtext
from sandbox.httpserver import Server

DEMO_KEY = b"yyc3-sandbox-demo-key"
CONTENT = [
    {"id": 1, "title": "The Heiress Returns", "episodes": 80},
    {"id": 2, "title": "Midnight Contract", "episodes": 60},
    {"id": 3, "title": "Rebirth of the Tea Master", "episodes": 100},
]
ROUTES = {
    ("GET", "/api/health"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/ai/generate"),
    ("GET", "/api/content/list"),
}
KNOWN_PATHS = {path for _, path in ROUTES}
# Probes must keep passing when a version is broken, as they would on a real cluster.
FAULT_FREE_PATHS = {"/api/health"}
# What a production API answers with; a build can drop some (FAULT_DROP_HEADERS).
SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


def _flag(env, name):
    return env.get(name, "").strip().lower() in ("1", "true")


def make_token(email):
    mac = hmac.new(DEMO_KEY, email.encode("utf-8"), hashlib.sha256).hexdigest()
    return base64.urlsafe_b64encode(email.encode("utf-8")).decode("ascii") + "." + mac


def token_email(token):
    """Return the email a token was issued for, or None when it is not valid."""
    encoded = token.partition(".")[0]
    try:
        email = base64.urlsafe_b64decode(encoded.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError):
        return None
    return email if hmac.compare_digest(make_token(email), token) else None


class App:
    """State shared by all request threads of one process."""

    def __init__(self, env):
        self.version = env.get("APP_VERSION", "0.0.0")
        self.track = env.get("TRACK", "stable")
        # A build that never becomes ready: its health check (the readiness probe) fails.
        self.never_ready = _flag(env, "FAULT_NEVER_READY")
        # A build whose content list breaks for signed-in users only: a journey finds it,
        # an anonymous probe does not.
        self.content_fails_signed_in = _flag(env, "FAULT_CONTENT_ERRORS_WITH_TOKEN")
        dropped = {name.strip().lower() for name in env.get("FAULT_DROP_HEADERS", "").split(",")}
        self.security_headers = {
            name: value for name, value in SECURITY_HEADERS.items() if name.lower() not in dropped
        }
        self.injector = faults.FaultInjector(faults.FaultConfig.from_env(env))
        self.meter = faults.RateMeter()
        self.registry = promtext.Registry()
        self.requests = self.registry.register(
            promtext.Counter(
                "http_requests_total",
                "API requests served, by method, path and status code.",
                ("method", "path", "code", "track", "version"),
            )
        )
        self.duration = self.registry.register(
            promtext.Histogram(
                "http_request_duration_seconds",
                "API request duration in seconds, injected delay included.",
                ("path", "track", "version"),
            )
        )
        # Series exist from the start at 0, so the first error already counts as an
        # increase for rate(): a series born at 1 shows no increase until its second error.
        for method, path in ROUTES:
            for code in ("200", "500"):
                self.requests.inc(
                    0, method=method, path=path, code=code, track=self.track, version=self.version
                )

    def record(self, method, path, code, seconds):
        labels = {"track": self.track, "version": self.version}
        self.requests.inc(method=method, path=path, code=str(code), **labels)
        self.duration.observe(seconds, path=path, **labels)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a kept-alive client waits
    # for its delayed ACK (40 ms) on every request.
    disable_nagle_algorithm = True
    app: App

    def log_message(self, format, *args):
        """Per-request logs would only fill the disk; metrics count the requests."""

    def do_GET(self):
        self.serve("GET")

    def do_POST(self):
        self.serve("POST")

    def serve(self, method):
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            return self.reply(200, self.app.registry.render(), promtext.CONTENT_TYPE)
        if not path.startswith("/api/"):
            return self.reply_json(404, {"error": "not found"})
        started = time.monotonic()
        label = path if path in KNOWN_PATHS else "other"
        code = self.serve_api(method, path)
        self.app.record(method, label, code, time.monotonic() - started)
        return None

    def serve_api(self, method, path):
        rps = self.app.meter.hit()
        body = self.read_body()
        if path not in FAULT_FREE_PATHS:
            decision = self.app.injector.decide(rps, path)
            if decision.delay:
                time.sleep(decision.delay)
            if decision.error:
                return self.reply_json(500, {"error": "injected fault"})
        if (method, path) not in ROUTES:
            code = 405 if path in KNOWN_PATHS else 404
            return self.reply_json(code, {"error": "no such endpoint"})
        return getattr(self, "api_" + path[5:].replace("/", "_"))(body)

    def api_health(self, _body):
        app = self.app
        if app.never_ready:
            return self.reply_json(503, {"status": "starting", "version": app.version})
        return self.reply_json(200, {"status": "ok", "version": app.version, "track": app.track})

    def api_auth_login(self, body):
        email, password = body.get("email"), body.get("password")
        if not isinstance(email, str) or not email or not isinstance(password, str) or not password:
            return self.reply_json(400, {"error": "email and password are required"})
        return self.reply_json(200, {"token": make_token(email)})

    def api_ai_generate(self, body):
        email = self.authorized()
        if email is None:
            return self.reply_json(401, {"error": "missing or invalid token"})
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            return self.reply_json(400, {"error": "prompt is required"})
        script = f"EP1. {prompt.strip()[:200]} (draft by model {self.app.version} for {email})"
        return self.reply_json(200, {"script": script, "version": self.app.version})

    def api_content_list(self, _body):
        if self.authorized() is None:
            return self.reply_json(401, {"error": "missing or invalid token"})
        if self.app.content_fails_signed_in:
            return self.reply_json(500, {"error": "content store unavailable"})
        return self.reply_json(200, {"items": CONTENT, "version": self.app.version})

    def authorized(self):
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        return token_email(token.strip()) if scheme.lower() == "bearer" else None

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def reply_json(self, code, payload):
        return self.reply(code, json.dumps(payload).encode("utf-8"), "application/json")

    def reply(self, code, body, content_type):
        self.send_response(code)
        for name, value in self.app.security_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return code


def listen_address(env):
    """``LISTEN_HOST`` (127.0.0.1 unless set) and ``PORT`` (8080 unless set)."""
    return env.get("LISTEN_HOST") or "127.0.0.1", int(env.get("PORT", "8080"))


def main():
    Handler.app = App(os.environ)
    server = Server(listen_address(os.environ), Handler)
    print(
        f"app {Handler.app.version} ({Handler.app.track}) on port {server.server_port}",
        flush=True,
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
