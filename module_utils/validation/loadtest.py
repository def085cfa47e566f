"""A built-in HTTP load test: fixed requests or a fixed time, N workers, an optional rate.

A stage's analysis judges the canary under whatever traffic its users send; a load test
adds a known, bounded load first, so that faults which only show under load (a pool that
runs dry, a lock that contends) show before more users reach the canary. It needs no
external binary: each worker is a thread with one ``http.client`` keep-alive connection
(reopened after an error or when the server closes it), which is fast enough to saturate
a Python app and costs no dependency. ``ab``, ``hey`` or ``wrk`` can be asked for
instead (``loadtools``); their output is parsed into the same report (``loadreport``).
"""

import http.client
import json
import ssl
import threading
import time
import urllib.parse

from ansible.module_utils.validation import loadtools
from ansible.module_utils.validation.loadreport import LoadTestError, exact_latency, summarize

TOOLS = ("builtin", *loadtools.ADAPTERS)


def _target(url):
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LoadTestError(f"url must be an http or https URL, got {url!r}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, parts.port, path


def _failure_kind(exc):
    """A short, stable name for why a request got no answer (the breakdown's key)."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)):
        return "connection_reset"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ssl.SSLError):
        return "tls_error"
    return "connection_error"


class _Builtin:
    """Threads with one keep-alive connection each, drawing request tickets from a counter.

    A failed request is not retried, not even on a kept-alive connection the server has
    just closed: a retry would hide a canary that drops connections.

    A shared ticket counter (rather than a per-worker share) keeps the total exact and
    lets fast workers take over from slow ones. With a rate, ticket ``i`` is due at
    ``start + i / rate``, which paces the requests evenly whichever worker sends them.
    """

    def __init__(self, options):
        self.scheme, self.host, self.port, self.path = _target(options["url"])
        self.method = options["method"]
        self.headers = dict(options["headers"] or {})
        body = options["body"]
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.timeout = options["timeout"]
        self.requests = options["requests"]
        self.duration = options["duration"]
        self.rate = options["rate"]
        self.concurrency = options["concurrency"]
        self.context = None
        if self.scheme == "https":
            self.context = ssl.create_default_context(cafile=options["ca_path"])
            if not options["validate_certs"]:
                self.context.check_hostname = False
                self.context.verify_mode = ssl.CERT_NONE
        self.lock = threading.Lock()
        self.next_ticket = 0

    def connect(self):
        if self.scheme == "https":
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout, context=self.context
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def ticket(self, start):
        """The next ticket's due time, or None when the budget (count or time) is spent."""
        with self.lock:
            number = self.next_ticket
            if self.requests is not None and number >= self.requests:
                return None
            self.next_ticket += 1
        due = start + number / self.rate if self.rate else time.perf_counter()
        if self.duration is not None and due >= start + self.duration:
            return None
        return due

    def worker(self, start, latencies, outcomes):
        connection = None
        while True:
            due = self.ticket(start)
            if due is None:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if connection is None:
                connection = self.connect()
            began = time.perf_counter()
            try:
                connection.request(self.method, self.path, body=self.body, headers=self.headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                connection = None
                outcome = _failure_kind(exc)
            else:
                latencies.append(time.perf_counter() - began)
                outcome = response.status
                if response.will_close:
                    connection.close()
                    connection = None
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if connection is not None:
            connection.close()

    def run(self):
        """Send the load; per-thread lists are merged at the end to keep locks off the hot path."""
        per_worker = [([], {}) for _ in range(self.concurrency)]
        start = time.perf_counter()
        threads = [
            threading.Thread(target=self.worker, args=(start, *lists), daemon=True)
            for lists in per_worker
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        duration = time.perf_counter() - start
        latencies, outcomes = [], {}
        for worker_latencies, worker_outcomes in per_worker:
            latencies.extend(worker_latencies)
            for outcome, count in worker_outcomes.items():
                outcomes[outcome] = outcomes.get(outcome, 0) + count
        return summarize(
            sum(outcomes.values()), outcomes, duration, "builtin", exact_latency(latencies)
        )


def normalize(options):
    """Defaults filled and bounds checked; raises LoadTestError naming the option."""
    merged = {
        "method": "GET",
        "headers": None,
        "body": None,
        "requests": None,
        "duration": None,
        "concurrency": 1,
        "rate": None,
        "timeout": 10.0,
        "validate_certs": True,
        "ca_path": None,
        "tool": "builtin",
        **options,
    }
    if merged["requests"] is None and merged["duration"] is None:
        raise LoadTestError("one of requests or duration is required")
    if merged["requests"] is not None and merged["requests"] < 1:
        raise LoadTestError(f"requests must be at least 1, got {merged['requests']}")
    for name in ("duration", "rate", "timeout"):
        if merged[name] is not None and merged[name] <= 0:
            raise LoadTestError(f"{name} must be greater than 0, got {merged[name]}")
    if merged["concurrency"] < 1:
        raise LoadTestError(f"concurrency must be at least 1, got {merged['concurrency']}")
    if merged["tool"] not in TOOLS:
        raise LoadTestError(f"tool must be one of {', '.join(TOOLS)}, got {merged['tool']!r}")
    merged["method"] = merged["method"].upper()
    if isinstance(merged["body"], (dict, list)):
        # A structured body is sent as JSON, as the journeys send theirs.
        merged["body"] = json.dumps(merged["body"])
        merged["headers"] = {"Content-Type": "application/json", **(merged["headers"] or {})}
    _target(merged["url"])
    if merged["tool"] != "builtin":
        loadtools.check(merged)
    return merged


def run(options):
    """Run one load test (options as ``normalize`` takes them) and return its report."""
    options = normalize(options)
    if options["tool"] == "builtin":
        return _Builtin(options).run()
    return loadtools.run(options)


def compare(options, stable):
    """The same load against the URL and then against ``stable`` ({url, headers}).

    One after the other rather than at once: two runs at once would share this host's
    two cores and the GIL, and the slower target would slow the faster one's figures.
    The ratios are canary / stable (None when stable's value is 0 or missing).
    """
    canary_report = run(options)
    stable_options = {**options, "url": stable["url"]}
    if stable.get("headers") is not None:
        stable_options["headers"] = stable["headers"]
    stable_report = run(stable_options)
    ratio = {}
    for key in ("p95", "p99"):
        mine, theirs = canary_report[f"latency_{key}"], stable_report[f"latency_{key}"]
        ratio[key] = mine / theirs if mine is not None and theirs else None
    return {"canary": canary_report, "stable": stable_report, "ratio": ratio}
