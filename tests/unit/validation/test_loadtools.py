"""The external load generators (ab, hey, wrk): their refusals, their output parsed, and
real runs against the counting server wherever the tool is installed."""

import shutil

import pytest
from ansible.module_utils.validation.loadreport import LoadTestError
from ansible.module_utils.validation.loadtest import run
from ansible.module_utils.validation.loadtools import lua_string, parse_ab, parse_hey, parse_wrk

from .loadserver import CountingServer, closed_url

needs = {
    tool: pytest.mark.skipif(shutil.which(tool) is None, reason=f"{tool} is not installed")
    for tool in ("ab", "hey", "wrk")
}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"requests": 1, "rate": 5, "tool": "ab"}, "rate is not supported with tool ab"),
        ({"duration": 1, "tool": "hey"}, "duration is not supported with tool hey"),
        (
            {"requests": 10, "concurrency": 3, "tool": "hey"},
            r"requests \(10\) must be a multiple of concurrency \(3\) with tool hey",
        ),
        ({"requests": 2, "method": "patch", "tool": "hey"}, "method PATCH is not supported"),
        ({"requests": 1, "tool": "wrk"}, "requests is not supported with tool wrk"),
        ({"duration": 1, "rate": 5, "tool": "wrk"}, "rate is not supported with tool wrk"),
    ],
)
def test_options_a_tool_cannot_honour_are_refused_before_anything_runs(options, message):
    with pytest.raises(LoadTestError, match=message):
        run({"url": "http://127.0.0.1:1/", **options})


@pytest.mark.parametrize(
    ("tool", "budget"),
    [("ab", {"requests": 1}), ("hey", {"requests": 1}), ("wrk", {"duration": 1})],
)
def test_no_tool_is_used_on_https_with_certificate_checks_on(tool, budget):
    with pytest.raises(LoadTestError, match=f"{tool} does not verify TLS certificates"):
        run({"url": "https://127.0.0.1:1/", "tool": tool, **budget})


AB_OUTPUT = """\
Concurrency Level:      5
Time taken for tests:   0.500 seconds
Complete requests:      100
Failed requests:        7
   (Connect: 0, Receive: 2, Length: 5, Exceptions: 0)
Non-2xx responses:      3
Requests per second:    200.00 [#/sec] (mean)
"""


def test_ab_output_is_parsed_into_the_same_report():
    rows = [f"Thu Nov 26 16:38:05 2026\t1795711085\t0\t{ms}\t{ms}\t{ms}" for ms in range(1, 101)]
    gnuplot = "starttime\tseconds\tctime\tdtime\tttime\twait\n" + "\n".join(rows)
    report = parse_ab(AB_OUTPUT, gnuplot)
    assert report["tool"] == "ab"
    assert (report["sent"], report["completed"], report["errors"]) == (102, 100, 5)
    assert report["error_breakdown"] == {"non_2xx": 3, "receive_error": 2}
    assert report["requests_per_second"] == pytest.approx(200.0)
    assert report["latency_p95"] == pytest.approx(0.095)
    assert report["latency_max"] == pytest.approx(0.1)
    assert report["duration"] == 0.5


HEY_HEADER = (
    "response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset"
)


def test_hey_rows_are_parsed_and_the_missing_ones_count_as_no_answer():
    rows = [f"{n / 1000:.4f},0,0,0,0,0,{500 if n == 7 else 200},{n / 100:.4f}" for n in range(1, 9)]
    report = parse_hey("\n".join([HEY_HEADER, *rows]) + "\n", sent=10)
    assert report["tool"] == "hey"
    assert (report["sent"], report["completed"], report["errors"]) == (10, 8, 3)
    assert report["error_breakdown"] == {"500": 1, "no_answer": 2}
    assert report["latency_p50"] == pytest.approx(0.004)
    assert report["latency_max"] == pytest.approx(0.008)
    # The last request started at 0.08 s and took 0.008 s.
    assert report["duration"] == pytest.approx(0.088)


def test_hey_output_that_is_not_its_csv_is_an_error():
    with pytest.raises(LoadTestError, match="could not parse hey's output"):
        parse_hey("response-time,status-code\nfast,200\n", sent=1)


def test_wrk_report_line_is_parsed():
    line = (
        'canary-load-report {"requests": 90, "duration_us": 2000000, "connect": 0, '
        '"read": 4, "write": 0, "status": 9, "timeout": 1, "p50": 1500, "p95": 9000, '
        '"p99": 12000, "max": 30000}'
    )
    report = parse_wrk("Running 2s test @ http://x/\n" + line + "\n")
    assert report["tool"] == "wrk"
    assert (report["sent"], report["completed"], report["errors"]) == (95, 90, 14)
    assert report["error_breakdown"] == {
        "read_error": 4,
        "status_400_or_more": 9,
        "timeout_error": 1,
    }
    assert report["requests_per_second"] == pytest.approx(45.0)
    assert (report["latency_p50"], report["latency_p95"]) == (0.0015, 0.009)
    assert report["latency_max"] == 0.03


def test_wrk_output_without_the_report_line_is_an_error():
    with pytest.raises(LoadTestError, match="could not parse wrk's output"):
        parse_wrk("Running 1s test\n")


def test_lua_strings_escape_everything_outside_printable_ascii():
    assert lua_string('a "b" \\ c') == '"a \\034b\\034 \\092 c"'
    assert lua_string("x\ny") == '"x\\010y"'
    assert lua_string("河") == '"\\230\\178\\179"'


@needs["ab"]
def test_ab_runs_against_the_counting_server():
    with CountingServer(status=lambda n: 500 if n % 10 == 0 else 200) as server:
        report = run({"url": server.url, "requests": 100, "concurrency": 4, "tool": "ab"})
    assert server.count == 100
    assert (report["sent"], report["completed"], report["errors"]) == (100, 100, 10)
    assert report["error_breakdown"] == {"non_2xx": 10}
    assert report["latency_p50"] is not None


@needs["hey"]
def test_hey_sends_exactly_the_requests_with_method_headers_and_body():
    with CountingServer(status=lambda n: 500 if n % 10 == 0 else 200) as server:
        report = run(
            {
                "url": server.url,
                "requests": 60,
                "concurrency": 3,
                "method": "POST",
                "headers": {"X-Canary": "always"},
                "body": {"email": "load@example.com"},
                "tool": "hey",
            }
        )
    assert server.count == 60
    assert (report["sent"], report["completed"], report["errors"]) == (60, 60, 6)
    assert report["error_breakdown"] == {"500": 6}
    assert {h["X-Canary"] for h in server.seen_headers} == {"always"}
    assert {h["Content-Type"] for h in server.seen_headers} == {"application/json"}
    assert set(server.seen_bodies) == {b'{"email": "load@example.com"}'}
    assert 0 < report["latency_p50"] <= report["latency_p99"] <= report["latency_max"]


@needs["hey"]
def test_hey_counts_the_requests_that_got_no_answer():
    report = run({"url": closed_url(), "requests": 4, "concurrency": 2, "tool": "hey"})
    assert (report["sent"], report["completed"], report["errors"]) == (4, 0, 4)
    assert report["error_breakdown"] == {"no_answer": 4}
    assert report["latency_p99"] is None


@needs["wrk"]
def test_wrk_sends_method_headers_and_an_awkward_body_for_its_duration():
    body = 'a "quoted" \\ body\nwith 河洛 and a second line'
    with CountingServer(status=lambda n: 404 if n % 4 == 0 else 200) as server:
        report = run(
            {
                "url": server.url,
                "duration": 1,
                "concurrency": 2,
                "method": "PUT",
                "headers": {"X-Canary": "always", "Content-Type": "text/plain"},
                "body": body,
                "tool": "wrk",
            }
        )
    assert report["tool"] == "wrk"
    # wrk stops with up to one request per connection in flight, which it does not count.
    assert 0 <= server.count - report["completed"] <= 2
    assert set(report["error_breakdown"]) == {"status_400_or_more"}
    assert abs(report["errors"] - server.count // 4) <= 2
    assert {h["X-Canary"] for h in server.seen_headers} == {"always"}
    assert set(server.seen_bodies) == {body.encode()}
    assert 0.5 < report["duration"] < 3
    assert 0 < report["latency_p50"] <= report["latency_p95"] <= report["latency_max"]


@needs["wrk"]
def test_wrk_that_cannot_connect_is_a_clear_error():
    with pytest.raises(LoadTestError, match=r"wrk failed .*Connection refused"):
        run({"url": closed_url(), "duration": 1, "concurrency": 1, "tool": "wrk"})
