"""A local HTTP/1.1 keep-alive server that counts what load generators send it.

It counts requests, connections and the most requests it had in flight at once, keeps
each request's headers and body, and answers per request number (status, delay), so
counts, concurrency, error breakdowns and percentiles can be checked exactly.
"""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class CountingServer:
    """``with CountingServer(status=..., delay=...) as server: ... server.url``.

    ``status`` and ``delay`` are functions of the request's number (1-based).
    """

    def __init__(self, status=lambda n: 200, delay=lambda n: 0.0):
        self.status, self.delay = status, delay
        self.lock = threading.Lock()
        self.count = self.connections = self.in_flight = self.max_in_flight = 0
        self.seen_headers, self.seen_bodies = [], []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/load"

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; Nagle would hold the second one.
            disable_nagle_algorithm = True

            def setup(self):
                super().setup()
                with owner.lock:
                    owner.connections += 1

            def answer(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with owner.lock:
                    owner.count += 1
                    number = owner.count
                    owner.in_flight += 1
                    owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
                    owner.seen_headers.append(dict(self.headers))
                    owner.seen_bodies.append(body)
                try:
                    time.sleep(owner.delay(number))
                finally:
                    with owner.lock:
                        owner.in_flight -= 1
                self.send_response(owner.status(number))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = do_PUT = answer

            def log_message(self, *args):
                pass

        return Handler

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def closed_url():
    """A URL on a port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
