"""The HTML page and its charts as text: self-contained, escaped, accessible, complete."""

import re
from html import escape
from html.parser import HTMLParser

import pytest
from ansible.module_utils.report import render
from ansible.module_utils.report.charts import Frame, nice_ticks, value_domain
from ansible.module_utils.report.page import duration, render_page

from . import ledgers


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text, of a page."""

    def __init__(self, text):
        super().__init__()
        self.tags = []
        self.text = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag, **attributes):
        return [
            attrs
            for name, attrs in self.tags
            if name == tag and all(attrs.get(k) == v for k, v in attributes.items())
        ]


def page(scenario):
    spec, state = scenario()
    report, texts = render(spec, state)
    return report, texts[f"{report['service']}-latest.html"]


def test_nothing_is_loaded_from_elsewhere():
    _, text = page(ledgers.promoted)
    parsed = Elements(text)
    policy = parsed.all("meta", **{"http-equiv": "Content-Security-Policy"})
    assert policy == [
        {
            "http-equiv": "Content-Security-Policy",
            "content": "default-src 'none'; style-src 'unsafe-inline'",
        }
    ]
    assert not parsed.all("script") and not parsed.all("link") and not parsed.all("img")
    links = [attrs.get("href") for _, attrs in parsed.tags if "href" in attrs]
    assert links and all(link.startswith("#") for link in links)
    assert not any("src" in attrs for _, attrs in parsed.tags)
    # The only URL is the SVG namespace, a name rather than something to fetch.
    assert set(re.findall(r"https?://[^\"'\s<>]+", text)) == {"http://www.w3.org/2000/svg"}


def test_text_from_the_ledger_is_escaped():
    report, text = page(ledgers.hostile)
    assert ledgers.HOSTILE not in text
    assert "<script" not in text
    parsed = Elements(text)
    assert not parsed.all("script") and not parsed.all("img") and not parsed.all("b")
    visible = "".join(parsed.text)
    assert report["reason"] in visible
    assert f"<b>{ledgers.HOSTILE}</b>" in visible
    assert [f["data-check"] for f in parsed.all("figure") if "data-check" in f] == [
        "error_rate",
        ledgers.HOSTILE,
    ]


def test_every_chart_is_accessible_and_its_numbers_are_in_a_table():
    report, text = page(ledgers.rolled_back)
    parsed = Elements(text)
    charts = parsed.all("svg", role="img")
    # The weight, then seven checks in each of the two stages that ran.
    assert len(charts) == 1 + 7 + 7
    ids = {attrs["id"] for _, attrs in parsed.tags if "id" in attrs}
    for chart in charts:
        title, description = chart["aria-labelledby"].split()
        assert {title, description} <= ids
    assert "error_rate in stage 2 (20%)" in text
    assert (
        "3 measurement(s) of error_rate from 2025-01-01 12:00:15 UTC, bound max 0.01; 2 did not pass."
        in text
    )
    values = re.search(r'<div id="stage-2-values">(.*?)</div>', text).group(1)
    for measurement in report["stages"][1]["measurements"]:
        assert f"<td>2025-01-01 {measurement['at'][11:19]} UTC</td>" in values
    assert '<th scope="col">error_rate (max 0.01)</th>' in values
    assert '<td class="num fail">0.0312 (fail)</td>' in values
    first = re.search(r'<div id="stage-1-values">(.*?)</div>', text).group(1)
    assert '<td class="num fail">no value (error)</td>' in first


def test_the_header_says_how_the_release_ended():
    report, text = page(ledgers.rolled_back)
    assert (
        '<span class="outcome bad" id="outcome" data-outcome="rolled_back">Rolled back</span>'
        in text
    )
    assert f'<p class="reason" id="reason">{escape(report["reason"])}</p>' in text
    assert "&gt; max 0.01" in text
    assert "<title>frontend: Rolled back - canary release report</title>" in text
    assert "<dd>22s</dd>" in text
    _, held = page(ledgers.held)
    assert 'data-outcome="held">Held: waiting for a person</span>' in held
    assert "<dd>not ended</dd>" in held


def test_stages_that_did_not_start_say_so():
    _, text = page(ledgers.held)
    assert text.count("<p>Not started.</p>") == 3
    assert '<h3 id="stage-4">Stage 4: 100% <span class="badge none">not_started</span></h3>' in text


def test_failing_points_are_marked_and_missing_values_crossed():
    _, text = page(ledgers.rolled_back)
    chart = re.search(r'<svg[^>]*id="chart-2-0".*?</svg>', text).group(0)
    assert 'data-points="3"' in chart and 'data-failing="2"' in chart
    assert chart.count('class="point fail"') == 2 and chart.count('class="point pass"') == 1
    assert chart.count('class="bound"') == 1 and 'class="zone"' in chart
    outage = re.search(r'<svg[^>]*id="chart-1-0".*?</svg>', text).group(0)
    assert outage.count('class="point missing"') == 1
    # The line breaks where the value is missing: two pieces.
    line = re.search(r'class="value-line" d="([^"]*)"', outage).group(1)
    assert line.count("M") == 2 and line.count("L") == 3


def test_a_resumed_stage_marks_its_second_run():
    _, text = page(ledgers.resumed)
    chart = re.search(r'<svg[^>]*id="chart-2-0".*?</svg>', text).group(0)
    assert chart.count('class="run"') == 1 and "run 2 (resumed)" in chart
    # Two measurements in the first run, six in the second: not joined across the gap.
    line = re.search(r'class="value-line" d="([^"]*)"', chart).group(1)
    assert line.count("M") == 2 and line.count("L") == 1 + 5


@pytest.mark.parametrize(
    ("low", "high", "ticks"),
    [
        (0, 0.0105, [0, 0.005, 0.01, 0.015]),
        (0.985, 1.005, [0.985, 0.99, 0.995, 1.0, 1.005]),
        (0, 100, [0, 25, 50, 75, 100]),
        (0.2, 2.1, [0, 0.5, 1.0, 1.5, 2.0, 2.5]),
    ],
)
def test_nice_ticks(low, high, ticks):
    assert nice_ticks(low, high) == pytest.approx(ticks)


def test_the_value_axis_holds_every_value_and_bound():
    ticks = value_domain([1.0, 1.0, 0.99])
    assert ticks[0] <= 0.99 and ticks[-1] >= 1.0 and ticks[0] > 0.9
    assert value_domain([0.0, 0.0, 0.01])[0] == 0
    flat = value_domain([0.5])
    assert flat[0] < 0.5 < flat[-1]
    frame = Frame(100.0, 110.0, [0, 1])
    assert (frame.x(100.0), frame.x(110.0)) == (56, 464)
    assert (frame.y(1), frame.y(0)) == (14, 170)
    assert Frame(5.0, 5.0, [0, 1]).x(5.0) == 56


def test_durations_read_well():
    assert [duration(s) for s in (None, 4.0, 4.25, 754, 7384)] == [
        "-",
        "4s",
        "4.2s",
        "12m 34s",
        "2h 3m 4s",
    ]


def test_rendering_is_repeatable():
    spec, state = ledgers.promoted()
    _, first = render(spec, state)
    _, second = render(spec, state)
    assert first == second
    report, _ = render(spec, state)
    assert render_page(report) == first[f"{report['service']}-latest.html"]
