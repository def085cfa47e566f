"""The HTTP server class of the sandbox's router and app processes.

``ThreadingHTTPServer`` listens with a backlog of 5: a burst of new connections (a load
test opening ten at once, ab opening one per request) overflows it, and each dropped
connect waits for the client's 1 s SYN retransmission. Real routers and apps listen with
backlogs in the hundreds, so the sandbox does too.
"""

from http.server import ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True
