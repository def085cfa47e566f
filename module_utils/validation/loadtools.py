"""External load generators (ab, hey, wrk), used only when the spec asks for one.

Each adapter refuses up front, when the spec is validated, the options its tool cannot
honour (a rate for ab, a request count for wrk, ...), rather than silently sending a
different load. It builds the tool's command line, runs it with a time limit, and
parses its output into the report shape of ``loadreport.summarize``.

None of the three verifies TLS certificates, so an https URL needs ``validate_certs``
false with them; the built-in generator is the one that verifies.
"""

import csv
import io
import json
import os
import shutil
import subprocess
import tempfile
import urllib.parse

from ansible.module_utils.validation.loadreport import LoadTestError, exact_latency, summarize

# Lets the process finish writing its report after its own timeouts have passed.
GRACE_SECONDS = 600
WRK_REPORT_MARK = "canary-load-report "
HEY_METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS")


def _refuse_unverified_tls(tool, options):
    if urllib.parse.urlsplit(options["url"]).scheme == "https" and options["validate_certs"]:
        raise LoadTestError(
            f"{tool} does not verify TLS certificates: use tool builtin, "
            "or set validate_certs false"
        )


def _content_type(headers):
    return next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), None)


def _other_headers(headers):
    return [f"{k}: {v}" for k, v in (headers or {}).items() if k.lower() != "content-type"]


def _write_body(scratch, body):
    path = os.path.join(scratch, "body")
    with open(path, "wb") as handle:
        handle.write(body.encode("utf-8") if isinstance(body, str) else body)
    return path


def _execute(tool, command, options):
    limit = (options["duration"] or 0) + options["timeout"] + GRACE_SECONDS
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired as exc:
        raise LoadTestError(f"{tool} did not finish within {limit:.0f} s") from exc
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip())[-300:]
        raise LoadTestError(f"{tool} failed (exit {done.returncode}): {said}")
    return done.stdout


class Ab:
    """ApacheBench: a new connection per request, whole-millisecond latencies."""

    @staticmethod
    def check(options):
        if options["rate"]:
            raise LoadTestError("rate is not supported with tool ab (it sends as fast as it can)")
        _refuse_unverified_tls("ab", options)

    @staticmethod
    def command(options, gnuplot, body_file):
        # No -k: ab's keep-alive is HTTP/1.0's, and against an HTTP/1.1 server that does
        # not answer "Connection: keep-alive" (Python's, the sandbox app) ab waits out its
        # timeout.
        command = ["ab", "-q", "-r", "-s", str(max(1, round(options["timeout"])))]
        command += ["-g", gnuplot, "-m", options["method"]]
        if options["duration"] is not None:
            command += ["-t", str(max(1, round(options["duration"])))]
        # After -t, which would cap the total at 50,000; without a count, the time decides.
        total = options["requests"] if options["requests"] is not None else 10**9
        command += ["-n", str(total), "-c", str(min(options["concurrency"], total))]
        for header in _other_headers(options["headers"]):
            command += ["-H", header]
        if body_file:
            content_type = _content_type(options["headers"]) or "application/octet-stream"
            command += ["-p", body_file, "-T", content_type]
        return [*command, options["url"]]

    @classmethod
    def run(cls, options):
        with tempfile.TemporaryDirectory(prefix="canary-load-") as scratch:
            gnuplot = os.path.join(scratch, "requests.tsv")
            body_file = None
            if options["body"] is not None:
                body_file = _write_body(scratch, options["body"])
            stdout = _execute("ab", cls.command(options, gnuplot, body_file), options)
            text = ""
            if os.path.exists(gnuplot):
                with open(gnuplot) as handle:
                    text = handle.read()
            return parse_ab(stdout, text)


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
    # Non-2xx answers were answered: they count as completed, as ab counts them.
    outcomes = {200: completed - non_2xx}
    if non_2xx:
        outcomes["non_2xx"] = non_2xx
    outcomes.update({kind: count for kind, count in no_answer.items() if count})
    latencies = []
    for line in gnuplot_text.splitlines()[1:]:
        columns = line.split("\t")
        if len(columns) >= 6:
            latencies.append(int(columns[4]) / 1000)
    return summarize(
        completed + sum(no_answer.values()),
        outcomes,
        duration,
        "ab",
        exact_latency(latencies),
        completed=completed,
    )


class Hey:
    """hey: keep-alive workers, every answered request's time in its CSV output.

    The CSV leaves out the requests that got no answer, so they are counted as the
    difference from the requests sent; that needs a known count, hence requests rather
    than duration. hey gives each worker requests / concurrency requests and a rate of
    its own, so the count must divide evenly and the rate is split between the workers.
    """

    @staticmethod
    def check(options):
        if options["duration"] is not None:
            raise LoadTestError(
                "duration is not supported with tool hey (its per-request output leaves out "
                "the requests that got no answer, so it needs requests to count them)"
            )
        if options["requests"] % options["concurrency"]:
            raise LoadTestError(
                f"requests ({options['requests']}) must be a multiple of concurrency "
                f"({options['concurrency']}) with tool hey (each worker sends an equal share)"
            )
        if options["method"] not in HEY_METHODS:
            raise LoadTestError(
                f"method {options['method']} is not supported with tool hey "
                f"(one of {', '.join(HEY_METHODS)})"
            )
        _refuse_unverified_tls("hey", options)

    @staticmethod
    def command(options, body_file):
        command = ["hey", "-n", str(options["requests"]), "-c", str(options["concurrency"])]
        command += ["-t", str(max(1, round(options["timeout"]))), "-m", options["method"]]
        # Redirects are answers here, as with the other generators, not requests to follow.
        command += ["-disable-redirects", "-o", "csv"]
        if options["rate"]:
            command += ["-q", f"{options['rate'] / options['concurrency']:.6g}"]
        for header in _other_headers(options["headers"]):
            command += ["-H", header]
        content_type = _content_type(options["headers"])
        if content_type:
            command += ["-T", content_type]
        if body_file:
            command += ["-D", body_file]
        return [*command, options["url"]]

    @classmethod
    def run(cls, options):
        with tempfile.TemporaryDirectory(prefix="canary-load-") as scratch:
            body_file = None
            if options["body"] is not None:
                body_file = _write_body(scratch, options["body"])
            stdout = _execute("hey", cls.command(options, body_file), options)
        return parse_hey(stdout, options["requests"])


def parse_hey(stdout, sent):
    """hey's ``-o csv`` rows (one per answered request) as a report.

    The run's duration is the end of its last request: the CSV has each request's start
    offset and its time, and no total.
    """
    rows = list(csv.DictReader(io.StringIO(stdout)))
    latencies, outcomes, duration = [], {}, 0.0
    try:
        for row in rows:
            seconds, status = float(row["response-time"]), int(row["status-code"])
            latencies.append(seconds)
            outcomes[status] = outcomes.get(status, 0) + 1
            duration = max(duration, float(row["offset"]) + seconds)
    except (KeyError, TypeError, ValueError) as exc:
        raise LoadTestError(f"could not parse hey's output: {stdout[:300]!r}") from exc
    if len(rows) < sent:
        outcomes["no_answer"] = sent - len(rows)
    return summarize(sent, outcomes, duration, "hey", exact_latency(latencies))


def lua_string(text):
    """A Lua string literal for any text: bytes outside printable ASCII as decimal escapes."""
    escaped = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if 32 <= byte < 127 and char not in '"\\':
            escaped.append(char)
        else:
            escaped.append(f"\\{byte:03d}")
    return '"' + "".join(escaped) + '"'


WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\n%s{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d, "p50": %d, "p95": %d, "p99": %d, "max": %d}\\n',
    MARK, summary.requests, summary.duration, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max))
end
"""


class Wrk:
    """wrk: keep-alive connections for a fixed time, latencies at microsecond resolution.

    wrk runs for a duration only, and without a rate. Method, headers and body go in
    through a Lua script, whose ``done`` hook prints the figures as JSON: wrk's own
    summary has no p95.
    """

    @staticmethod
    def check(options):
        if options["requests"] is not None or options["duration"] is None:
            raise LoadTestError(
                "requests is not supported with tool wrk (it runs for a duration: set duration)"
            )
        if options["rate"]:
            raise LoadTestError("rate is not supported with tool wrk (it sends as fast as it can)")
        _refuse_unverified_tls("wrk", options)

    @staticmethod
    def script(options):
        lines = [f"MARK = {lua_string(WRK_REPORT_MARK)}"]
        lines.append(f"wrk.method = {lua_string(options['method'])}")
        for name, value in (options["headers"] or {}).items():
            lines.append(f"wrk.headers[{lua_string(name)}] = {lua_string(str(value))}")
        if options["body"] is not None:
            body = options["body"]
            text = body if isinstance(body, str) else body.decode("utf-8", "surrogateescape")
            lines.append(f"wrk.body = {lua_string(text)}")
        return "\n".join(lines) + "\n" + WRK_DONE

    @staticmethod
    def command(options, script_file):
        threads = min(options["concurrency"], os.cpu_count() or 1)
        return [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(options["concurrency"]),
            "-d",
            f"{max(1, round(options['duration']))}s",
            "--timeout",
            f"{max(1, round(options['timeout']))}s",
            "-s",
            script_file,
            options["url"],
        ]

    @classmethod
    def run(cls, options):
        with tempfile.TemporaryDirectory(prefix="canary-load-") as scratch:
            script_file = os.path.join(scratch, "request.lua")
            with open(script_file, "w") as handle:
                handle.write(cls.script(options))
            stdout = _execute("wrk", cls.command(options, script_file), options)
        return parse_wrk(stdout)


def parse_wrk(stdout):
    """The JSON line the ``done`` hook printed, as a report.

    wrk counts answers of 400 and above as status errors, and requests that got no
    answer as connect, read, write or timeout errors.
    """
    line = next((x for x in stdout.splitlines() if x.startswith(WRK_REPORT_MARK)), None)
    if line is None:
        raise LoadTestError(f"could not parse wrk's output: {stdout[-300:]!r}")
    figures = json.loads(line[len(WRK_REPORT_MARK) :])
    no_answer = {kind: figures[kind] for kind in ("connect", "read", "write", "timeout")}
    answered = figures["requests"]
    outcomes = {200: answered - figures["status"]}
    if figures["status"]:
        outcomes["status_400_or_more"] = figures["status"]
    outcomes.update({f"{kind}_error": count for kind, count in no_answer.items() if count})
    latency = {}
    if answered:
        latency = {
            name: figures[key] / 1e6
            for name, key in (("p50", "p50"), ("p95", "p95"), ("p99", "p99"), ("max", "max"))
        }
    return summarize(
        answered + sum(no_answer.values()),
        outcomes,
        figures["duration_us"] / 1e6,
        "wrk",
        latency,
        completed=answered,
    )


ADAPTERS = {"ab": Ab, "hey": Hey, "wrk": Wrk}


def check(options):
    """Raise LoadTestError for an option the asked-for tool cannot honour."""
    ADAPTERS[options["tool"]].check(options)


def run(options):
    """Run the asked-for tool; it must be installed."""
    tool = options["tool"]
    if not shutil.which(tool):
        raise LoadTestError(f"tool {tool} was asked for but is not installed (not on PATH)")
    return ADAPTERS[tool].run(options)
