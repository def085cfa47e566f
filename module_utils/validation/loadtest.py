"""A built-in HTTP load test: fixed requests or a fixed time, N workers, an optional rate.

A stage's analysis judges the canary under whatever traffic its users send; a load test
adds a known, bounded load first, so that faults which only show under load (a pool that
runs dry, a lock that contends) show before more users reach the canary. It needs no
external binary: each worker is a thread with one ``http.client`` keep-alive connection
(reopened after an error or when the server closes it), which is fast enough to saturate
a Python app and costs no dependency. ``ab`` can be asked for instead (``tool="ab"``);
its output is parsed into the same report (ab opens a new connection per request).

Errors are answers outside 2xx/3xx and requests that got no answer (refused, reset,
timed out, TLS failure), counted by status code or by kind. Latency percentiles are
exact (nearest rank over every answered request, not a histogram or a reservoir),
since a load test is short and its p99 is often the figure that decides.
"""

import http.client
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse

TOOLS = ("builtin", "ab", "wrk", "hey")
THRESHOLDS = {
    # threshold name: (report metric, which side of the bound fails)
    "max_error_ratio": ("error_ratio", "max"),
    "max_p95": ("latency_p95", "max"),
    "max_p99": ("latency_p99", "max"),
    "min_requests_per_second": ("requests_per_second", "min"),
}


class LoadTestError(Exception):
    """The load test could not run (bad options, tool missing or failing)."""


def percentile(ordered, pct):
    """Nearest-rank percentile of a sorted list; None when it is empty."""
    if not ordered:
        return None
    rank = max(1, -(-pct * len(ordered) // 100))
    return ordered[int(rank) - 1]


def summarize(sent, latencies, outcomes, duration, tool):
    """The report shape shared by every tool.

    ``latencies`` are the seconds of the answered requests; ``outcomes`` counts each
    answer by status code (int) and each failed request by kind (str).
    """
    errors = {}
    for outcome, count in outcomes.items():
        if isinstance(outcome, str) or not 200 <= outcome < 400:
            errors[str(outcome)] = errors.get(str(outcome), 0) + count
    completed = sum(count for outcome, count in outcomes.items() if isinstance(outcome, int))
    error_count = sum(errors.values())
    ordered = sorted(latencies)
    return {
        "tool": tool,
        "sent": sent,
        "completed": completed,
        "errors": error_count,
        "error_breakdown": dict(sorted(errors.items())),
        "error_ratio": error_count / sent if sent else 0.0,
        "requests_per_second": completed / duration if duration > 0 else 0.0,
        "latency_p50": percentile(ordered, 50),
        "latency_p95": percentile(ordered, 95),
        "latency_p99": percentile(ordered, 99),
        "latency_max": ordered[-1] if ordered else None,
        "duration": duration,
    }


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
        return summarize(sum(outcomes.values()), latencies, outcomes, duration, "builtin")


def _ab_command(options, gnuplot, body_file):
    if options["rate"]:
        raise LoadTestError("rate is not supported with tool ab (it sends as fast as it can)")
    if urllib.parse.urlsplit(options["url"]).scheme == "https" and options["validate_certs"]:
        raise LoadTestError(
            "ab does not verify TLS certificates: use tool builtin, or set validate_certs false"
        )
    _target(options["url"])
    # No -k: ab's keep-alive is HTTP/1.0's, and against an HTTP/1.1 server that does not
    # answer "Connection: keep-alive" (Python's, the sandbox app) ab waits out its timeout.
    command = ["ab", "-q", "-r", "-s", str(max(1, round(options["timeout"])))]
    command += ["-g", gnuplot, "-m", options["method"]]
    if options["duration"] is not None:
        command += ["-t", str(max(1, round(options["duration"])))]
    # After -t, which would cap the total at 50,000; without a count, the time decides.
    total = options["requests"] if options["requests"] is not None else 10**9
    command += ["-n", str(total), "-c", str(min(options["concurrency"], total))]
    headers = dict(options["headers"] or {})
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    for name, value in headers.items():
        if name.lower() != "content-type":
            command += ["-H", f"{name}: {value}"]
    if body_file:
        command += ["-p", body_file, "-T", content_type or "application/octet-stream"]
    return [*command, options["url"]]


def parse_ab(stdout, gnuplot_text):
    """ab's summary and its per-request ``-g`` file, as a report.

    ab's percentile table and ``-e`` file are coarse or, at small counts, wrong; its
    ``-g`` file has every request's total time (whole milliseconds), so the percentiles
    come from there. ab counts 3xx answers among its non-2xx responses, so they are
    errors here; length mismatches are not (dynamic pages vary in length).
    """
    fields = {}
    for line in stdout.splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    try:
        completed = int(fields["Complete requests"])
        duration = float(fields["Time taken for tests"].split()[0])
    except (KeyError, ValueError, IndexError) as exc:
        raise LoadTestError(f"could not parse ab's output: {stdout[-500:]!r}") from exc
    failures = {}
    detail = fields.get("(Connect", "")
    if detail:
        for part in ("Connect: " + detail).rstrip(")").split(","):
            kind, _, count = part.partition(":")
            failures[kind.strip().lower()] = int(count)
    non_2xx = int(fields.get("Non-2xx responses", 0))
    no_answer = {
        "connection_error": failures.get("connect", 0),
        "receive_error": failures.get("receive", 0),
        "exception": failures.get("exceptions", 0),
    }
    outcomes = {200: completed - non_2xx}
    if non_2xx:
        outcomes["non_2xx"] = non_2xx
    outcomes.update({kind: count for kind, count in no_answer.items() if count})
    latencies = []
    for line in gnuplot_text.splitlines()[1:]:
        columns = line.split("\t")
        if len(columns) >= 6:
            latencies.append(int(columns[4]) / 1000)
    report = summarize(completed + sum(no_answer.values()), latencies, outcomes, duration, "ab")
    # Non-2xx answers were answered: they count as completed, as ab counts them.
    report["completed"] = completed
    report["requests_per_second"] = completed / duration if duration > 0 else 0.0
    return report


def _run_ab(options):
    with tempfile.TemporaryDirectory(prefix="canary-load-") as scratch:
        gnuplot = os.path.join(scratch, "requests.tsv")
        body_file = None
        if options["body"] is not None:
            body_file = os.path.join(scratch, "body")
            body = options["body"]
            with open(body_file, "wb") as handle:
                handle.write(body.encode("utf-8") if isinstance(body, str) else body)
        command = _ab_command(options, gnuplot, body_file)
        limit = (options["duration"] or 0) + options["timeout"] + 600
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=limit)
        except subprocess.TimeoutExpired as exc:
            raise LoadTestError(f"ab did not finish within {limit:.0f} s") from exc
        if done.returncode != 0:
            raise LoadTestError(f"ab failed ({done.returncode}): {done.stderr.strip()[-300:]}")
        text = ""
        if os.path.exists(gnuplot):
            with open(gnuplot) as handle:
                text = handle.read()
        return parse_ab(done.stdout, text)


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
    return merged


def run(options):
    """Run one load test (options as ``normalize`` takes them) and return its report."""
    options = normalize(options)
    tool = options["tool"]
    if tool == "builtin":
        return _Builtin(options).run()
    if not shutil.which(tool):
        raise LoadTestError(f"tool {tool} was asked for but is not installed (not on PATH)")
    if tool != "ab":
        raise LoadTestError(f"tool {tool} is not supported yet: use builtin or ab")
    return _run_ab(options)


def check_thresholds(report, thresholds):
    """A failure (metric, value, bound, reason) per threshold the report crosses.

    A latency threshold on a run where nothing was answered fails: no data is not a pass.
    """
    failures = []
    for name, (metric, side) in THRESHOLDS.items():
        bound = (thresholds or {}).get(name)
        if bound is None:
            continue
        value = report[metric]
        if value is None:
            reason = f"{metric} has no value (no request was answered), {side} {bound}"
        elif side == "max" and value > bound:
            reason = f"{metric} = {value:.4g} > max {bound:g}"
        elif side == "min" and value < bound:
            reason = f"{metric} = {value:.4g} < min {bound:g}"
        else:
            continue
        failures.append({"metric": metric, "value": value, "bound": bound, "reason": reason})
    return failures


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
