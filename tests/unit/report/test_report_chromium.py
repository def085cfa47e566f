"""The HTML report in a real browser: Debian's headless Chromium opens the file.

Each chart is checked twice: in the DOM the browser built (its size once laid out, the
length of the value line's geometry, one mark per measurement, the failing ones marked)
and in pixels (a screenshot of exactly its box must show the value line's, the bound's
and - only where a measurement did not pass - the failure colour). What a chart should
show is computed from the report's JSON, not from the HTML. Broken copies of a page must
fail the same checks, so they cannot pass by accident.
"""

import json

import pytest
from ansible.module_utils.report import render
from ansible.module_utils.report.charts import COLORS, HEIGHT, WIDTH

from . import ledgers
from .chromium import Browser, group_processes
from .png import count, crop, decode

# Each chart's layout box and that of its group (a stage's charts, or its own figure):
# one screenshot per group, cut into charts, is quicker than one per chart.
CHARTS = """JSON.stringify([...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  const group = (svg.closest('.charts') || svg.closest('figure')).getBoundingClientRect();
  const line = svg.querySelector('.value-line, .weight-line');
  return {
    id: svg.id,
    box: [box.x, box.y, box.width, box.height],
    group: [group.x, group.y, group.width, group.height],
    length: line ? line.getTotalLength() : 0,
    marks: svg.querySelectorAll('.point').length,
    failing: svg.querySelectorAll('.point.fail, .point.missing').length,
    bounds: svg.querySelectorAll('line.bound').length,
    title: svg.querySelector('title').textContent,
  };
}))"""


@pytest.fixture(scope="module")
def browser():
    with Browser() as chromium:
        yield chromium
    assert group_processes(chromium.process.pid) == [], "Chromium processes were left behind"


def expected_charts(report):
    """What each chart must show, by chart id, from the report's data."""
    expected = {"chart-weight": {"points": len(report["weights"]), "values": 2, "failing": 0}}
    for stage in report["stages"]:
        measured = {name for m in stage["measurements"] for name in m["checks"]}
        checks = [check for check in report["checks"] if check["name"] in measured]
        for index, check in enumerate(checks):
            recorded = [
                m["checks"][check["name"]]
                for m in stage["measurements"]
                if check["name"] in m["checks"]
            ]
            expected[f"chart-{stage['number']}-{index}"] = {
                "name": check["name"],
                "points": len(recorded),
                "values": sum(1 for r in recorded if r["value"] is not None),
                "failing": sum(1 for r in recorded if r["result"] != "pass"),
                "bounds": sum(1 for side in ("min", "max") if check[side] is not None),
            }
    return expected


def verify(page, report):
    """Assert every chart of ``report`` rendered in ``page``; return the charts checked."""
    page.fit()
    charts = {chart["id"]: chart for chart in json.loads(page.evaluate(CHARTS))}
    groups = {}
    for chart in charts.values():
        group = tuple(chart["group"])
        if group not in groups:
            groups[group] = decode(page.screenshot(group))
    expected = expected_charts(report)
    assert sorted(charts) == sorted(expected)
    for chart_id, want in expected.items():
        chart = charts[chart_id]
        assert chart["box"][2:] == [WIDTH, HEIGHT], f"{chart_id}: laid out as {chart['box']}"
        assert chart["marks"] == want["points"], f"{chart_id}: {chart['marks']} marks"
        assert chart["failing"] == want["failing"], f"{chart_id}: {chart['failing']} failing"
        if want["values"] > 1:
            assert chart["length"] > 10, f"{chart_id}: the line has no geometry"
        x, y = (round(chart["box"][i] - chart["group"][i]) for i in (0, 1))
        pixels = crop(groups[tuple(chart["group"])], x, y, WIDTH, HEIGHT)
        line = COLORS["weight"] if chart_id == "chart-weight" else COLORS["value"]
        if want["values"] > 1:
            assert count(pixels, line) > 100, f"{chart_id}: no line drawn"
        if want.get("bounds"):
            assert chart["bounds"] == want["bounds"], f"{chart_id}: {chart['bounds']} bounds"
            assert count(pixels, COLORS["bound"]) > 60, f"{chart_id}: no bound drawn"
        failing = count(pixels, COLORS["fail"])
        if want["failing"]:
            assert failing > 20 * want["failing"], f"{chart_id}: failures not highlighted"
        else:
            assert failing == 0, f"{chart_id}: a passing chart shows the failure colour"
    return charts


def page_of(tmp_path, scenario):
    spec, state = scenario()
    report, texts = render(spec, state)
    path = tmp_path / f"{report['service']}-latest.html"
    path.write_text(texts[path.name], encoding="utf-8")
    return report, path


@pytest.mark.parametrize("scenario", [ledgers.promoted, ledgers.rolled_back])
def test_every_chart_renders_with_its_line_bounds_and_failures(browser, tmp_path, scenario):
    report, path = page_of(tmp_path, scenario)
    page = browser.open(path.as_uri())
    charts = verify(page, report)
    assert len(charts) > 7
    # Nothing fetched but the file itself, nothing blocked or failing in the console.
    assert page.requests() == [path.as_uri()]
    assert page.problems() == []


def test_the_page_shows_the_outcome_and_untrusted_text_as_text(browser, tmp_path):
    report, path = page_of(tmp_path, ledgers.hostile)
    page = browser.open(path.as_uri())
    verify(page, report)
    seen = json.loads(
        page.evaluate(
            "JSON.stringify({scripts: document.scripts.length, images: document.images.length,"
            " outcome: document.getElementById('outcome').dataset.outcome,"
            " reason: document.getElementById('reason').textContent,"
            " figures: [...document.querySelectorAll('figure[data-check]')]"
            ".map(f => f.dataset.check), text: document.body.innerText})"
        )
    )
    assert seen["scripts"] == 0 and seen["images"] == 0
    assert seen["outcome"] == "rolled_back"
    assert seen["reason"] == report["reason"]
    assert ledgers.HOSTILE in seen["figures"]
    assert f"<b>{ledgers.HOSTILE}</b>" in seen["text"]
    assert page.requests() == [path.as_uri()]
    assert page.problems() == []


BREAKAGES = {
    # The charts are in the DOM but never painted.
    "hidden": ("</style>", "svg.chart { visibility: hidden; }</style>", "no line drawn"),
    # The value lines' geometry does not parse.
    "bad-path": ('class="value-line" d="M', 'class="value-line" d="Q', "no geometry"),
    # Points that did not pass are painted like the others.
    "no-highlight": (
        f'fill="{COLORS["fail"]}" stroke="#ffffff"',
        f'fill="{COLORS["value"]}" stroke="#ffffff"',
        "failures not highlighted",
    ),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_chart_that_did_not_render_fails_the_check(browser, tmp_path, breakage):
    report, path = page_of(tmp_path, ledgers.held)
    before, after, failure = BREAKAGES[breakage]
    text = path.read_text(encoding="utf-8")
    assert before in text
    path.write_text(text.replace(before, after), encoding="utf-8")
    page = browser.open(path.as_uri())
    with pytest.raises(AssertionError, match=failure):
        verify(page, report)


def test_a_page_loading_something_is_caught(browser, tmp_path):
    """The checks above would see a page that tries to load anything: the policy blocks
    it and the browser reports it."""
    _report, path = page_of(tmp_path, ledgers.held)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("<main>", '<main><img src="http://127.0.0.1:9/x.png">'))
    page = browser.open(path.as_uri())
    assert any("Content Security Policy" in problem for problem in page.problems())
    assert page.requests() == [path.as_uri(), "http://127.0.0.1:9/x.png"]
