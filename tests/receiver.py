"""A local HTTP receiver that keeps what it is sent: stands in for Slack, a webhook, Alertmanager.

Listens on 127.0.0.1 and a free port, answers every POST with ``status`` (after
``delay`` seconds), and records each request's path, headers and JSON body. Shared by
the unit tests of the notify code and the integration tests of the runbooks.
"""

import http.server
import json
import socket
import threading


class Receiver:
    """``with Receiver() as receiver: ... receiver.url ... receiver.received``."""

    def __init__(self, status=200, delay=0.0, body=b""):
        self.status = status
        self.delay = delay
        self.body = body
        self.received = []
        self._done = threading.Event()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def _handler(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                receiver.received.append(
                    {"path": self.path, "headers": dict(self.headers), "json": body}
                )
                if receiver.delay:
                    receiver._done.wait(receiver.delay)
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            def log_message(self, *args):
                pass

        return Handler

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def events(self):
        """The events received, in order (webhook JSON ``event``, or Alertmanager alertnames)."""
        names = []
        for request in self.received:
            body = request["json"]
            if isinstance(body, dict) and "event" in body:
                names.append(body["event"])
            elif isinstance(body, list):
                names.extend(alert["labels"]["alertname"] for alert in body)
        return names


def closed_port_url():
    """The URL of a port on 127.0.0.1 that nothing listens on: a receiver that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
