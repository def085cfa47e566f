"""The release report as one self-contained HTML page, rendered from the report dict.

No script, no stylesheet or font from elsewhere: styles are inline, charts are inline SVG
(``charts``), and a Content-Security-Policy forbids loading anything at all, so the page
reads the same offline, archived or mailed. Everything that came from the ledger (reasons
are written by checks and operators) is HTML-escaped. Every chart has a title, a text
description and, below the stage's charts, a table with the same numbers.
"""

import time
from html import escape

from ansible.module_utils.report.build import epoch
from ansible.module_utils.report.charts import COLORS, number, series_chart, step_chart

OUTCOME_TEXT = {
    "promoted": "Promoted",
    "rolled_back": "Rolled back",
    "failed": "Failed: rolled back, stable not verified",
    "held": "Held: waiting for a person",
    "paused": "Paused: a stage failed, waiting for a person",
    "in_progress": "In progress",
}
OUTCOME_CLASS = {
    "promoted": "good",
    "rolled_back": "bad",
    "failed": "bad",
    "held": "wait",
    "paused": "wait",
    "in_progress": "info",
}
STAGE_CLASS = {
    "passed": "good",
    "failed": "bad",
    "stopped": "bad",
    "held": "wait",
    "baking": "info",
    "interrupted": "wait",
}
CSP = "default-src 'none'; style-src 'unsafe-inline'"

STYLE = f"""
body {{ font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
  margin: 0 auto; max-width: 1100px; padding: 16px 24px 48px; }}
h1 {{ font-size: 24px; margin: 8px 0; }}
h2 {{ font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid {COLORS["grid"]}; }}
h3 {{ font-size: 16px; margin: 24px 0 8px; }}
.outcome {{ display: inline-block; padding: 4px 12px; border-radius: 6px; font-weight: 600;
  font-size: 16px; }}
.good {{ background: #dafbe1; color: #116329; }}
.bad {{ background: #ffebe9; color: #a40e26; }}
.wait {{ background: #fff8c5; color: #7d4e00; }}
.info {{ background: #ddf4ff; color: #0550ae; }}
.none {{ background: #f6f8fa; color: #57606a; }}
.badge {{ padding: 1px 6px; border-radius: 4px; font-size: 12px; font-weight: 600; }}
dl.facts {{ display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; }}
dl.facts dt {{ color: #57606a; }}
dl.facts dd {{ margin: 0; }}
code {{ font: 12px ui-monospace, monospace; background: #f6f8fa; padding: 1px 4px; }}
.table {{ overflow-x: auto; }}
table {{ border-collapse: collapse; margin: 8px 0; font-size: 13px; }}
th, td {{ border: 1px solid {COLORS["grid"]}; padding: 3px 8px; text-align: left;
  vertical-align: top; }}
th {{ background: #f6f8fa; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.fail {{ color: {COLORS["fail"]}; font-weight: 600; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 12px; }}
figure {{ margin: 0; border: 1px solid {COLORS["grid"]}; border-radius: 6px; padding: 8px; }}
figcaption {{ font-size: 13px; margin-bottom: 4px; }}
#weights figure {{ display: inline-block; }}
.legend span {{ margin-right: 12px; font-size: 12px; color: #57606a; }}
.reason {{ white-space: pre-wrap; }}
"""


def _e(value):
    return escape("" if value is None else str(value))


def when(text):
    """A ledger timestamp for people: ``2025-01-01 12:00:04 UTC``."""
    if not text:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch(text, "at")))


def duration(seconds):
    """``45s``, ``12m 5s``, ``2h 3m 4s``."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s".replace(".0s", "s")
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return " ".join(
        f"{amount}{unit}" for amount, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if amount
    )


def _percent(weight):
    return "-" if weight is None else f"{weight}%"


def _decision(outcome, reason):
    """A passed stage's reason is the last problem its bake waited out, not why it passed."""
    if outcome == "passed" and reason:
        return f"passed; earlier in the bake: {reason}"
    return reason or outcome


def _badge(text, css):
    return f'<span class="badge {css}">{_e(text)}</span>'


def _facts(rows):
    items = "".join(f"<dt>{_e(label)}</dt><dd>{value}</dd>" for label, value in rows)
    return f'<dl class="facts">{items}</dl>'


def _table(caption, head, rows):
    header = "".join(f'<th scope="col">{_e(cell)}</th>' for cell in head)
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
    return (
        f'<div class="table"><table><caption>{_e(caption)}</caption>'
        f"<thead><tr>{header}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _cell(value, css=""):
    attribute = f' class="{css}"' if css else ""
    return f"<td{attribute}>{value}</td>"


def _bound_text(check):
    parts = [f"{side} {number(check[side])}" for side in ("min", "max") if check[side] is not None]
    return ", ".join(parts) or "no bound in the spec"


def _validation(summary):
    """The validation summary recorded with the stage's start, as nested lists."""
    if summary is None:
        return "<p>No validation was recorded for this stage.</p>"

    def item(value):
        if isinstance(value, dict):
            entries = "".join(
                f"<li><code>{_e(key)}</code>: {item(inner)}</li>" for key, inner in value.items()
            )
            return f"<ul>{entries}</ul>"
        text = _e(value)
        return _badge(value, "bad") if str(value) == "fail" else text

    return item(summary)


def _header(report):
    outcome = report["outcome"]
    reason = report["reason"]
    facts = [
        ("Namespace", f"<code>{_e(report['namespace'])}</code>"),
        ("Canary namespace", f"<code>{_e(report['canary_namespace'])}</code>"),
        ("Canary image", f"<code>{_e(report['images']['canary'])}</code>"),
        ("Stable image before", f"<code>{_e(report['images']['stable'])}</code>"),
        ("Status in the ledger", _e(report["status"])),
        ("Started", _e(when(report["started_at"]))),
        ("Ended", _e(when(report["ended_at"]) if report["ended_at"] else "not ended")),
        ("Duration", _e(duration(report["duration_seconds"]))),
        ("Stage", _e(f"{report['stage']} of {len(report['stages'])} ({report['stage_status']})")),
        ("Weight now", _e(f"{report['weight']}%")),
    ]
    return (
        f"<header><h1>Canary release of {_e(report['service'])}</h1>"
        f'<p><span class="outcome {OUTCOME_CLASS[outcome]}" id="outcome" '
        f'data-outcome="{_e(outcome)}">{_e(OUTCOME_TEXT[outcome])}</span></p>'
        + (f'<p class="reason" id="reason">{_e(reason)}</p>' if reason else "")
        + _facts(facts)
        + "</header>"
    )


def _weights(report):
    weights = report["weights"]
    end = epoch(report["ended_at"] or report["ledger"]["updated_at"], "updated_at")
    points = [
        {
            "at": epoch(point["at"], "at"),
            "weight": point["weight"],
            "label": f"{when(point['at'])}: {point['weight']}% ({point['event']})",
        }
        for point in weights
    ]
    chart = step_chart(
        "chart-weight",
        f"Share of users on the canary of {report['service']} over time",
        "Weight in percent, "
        + ", then ".join(f"{p['weight']}% at {when(p['at'])}" for p in weights),
        points,
        end,
    )
    rows = [
        [_cell(_e(when(p["at"]))), _cell(_e(p["weight"]), "num"), _cell(_e(p["event"]))]
        for p in weights
    ]
    return (
        '<section id="weights"><h2>Traffic to the canary</h2>'
        f"<figure><figcaption>Weight (%) over time</figcaption>{chart}</figure>"
        + _table("Weight changes", ["Time", "Weight (%)", "Event"], rows)
        + "</section>"
    )


def _overview(report):
    rows = []
    for stage in report["stages"]:
        failing = sum(1 for m in stage["measurements"] if m["verdict"] != "pass")
        rows.append(
            [
                _cell(f'<a href="#stage-{stage["number"]}">{stage["number"]}</a>'),
                _cell(_e(stage["name"])),
                _cell(_e(stage["weight"]), "num"),
                _cell(_e(stage["replicas"] if stage["replicas"] is not None else "-"), "num"),
                _cell(_e(duration(stage["bake_seconds"]))),
                _cell(_badge(stage["outcome"], STAGE_CLASS.get(stage["outcome"], "none"))),
                _cell(_e(len(stage["measurements"])), "num"),
                _cell(_e(failing), "num fail" if failing else "num"),
                _cell(_e(when(stage["started_at"]))),
                _cell(_e(duration(stage["duration_seconds"]))),
            ]
        )
    head = [
        "Stage",
        "Name",
        "Weight (%)",
        "Replicas",
        "Bake",
        "Outcome",
        "Measurements",
        "Not passing",
        "Started",
        "Duration",
    ]
    return '<section id="stages"><h2>Stages</h2>' + _table("Every stage", head, rows) + "</section>"


def _stage_span(stage):
    moments = [epoch(m["at"], "at") for m in stage["measurements"]]
    for run in stage["runs"]:
        moments.append(epoch(run["started_at"], "started_at"))
        if run["ended_at"]:
            moments.append(epoch(run["ended_at"], "ended_at"))
    return min(moments), max(moments)


def _stage_charts(report, stage):
    """One chart per check measured in the stage, in the spec's order."""
    measured = {name for m in stage["measurements"] for name in m["checks"]}
    span = _stage_span(stage)
    runs = [
        (epoch(run["started_at"], "started_at"), f"run {index}{' (resumed)' * run['resumed']}")
        for index, run in enumerate(stage["runs"][1:], start=2)
    ]
    figures = []
    for index, check in enumerate(c for c in report["checks"] if c["name"] in measured):
        name = check["name"]
        points, run = [], None
        for measurement in stage["measurements"]:
            recorded = measurement["checks"].get(name)
            if recorded is None:
                continue
            run_begins, run = run is not None and measurement["run"] != run, measurement["run"]
            shown = "no value" if recorded["value"] is None else number(recorded["value"])
            effect = f", {recorded['effect']}" if recorded["effect"] else ""
            points.append(
                {
                    "at": epoch(measurement["at"], "at"),
                    "value": recorded["value"],
                    "passed": recorded["result"] == "pass",
                    "run_begins": run_begins,
                    "label": f"{when(measurement['at'])}: {name} = {shown} "
                    f"({recorded['result']}{effect})",
                }
            )
        failing = sum(1 for point in points if not point["passed"])
        title = f"{name} in stage {stage['number']} ({stage['name']})"
        description = (
            f"{len(points)} measurement(s) of {name} from {when(stage['started_at'])}, "
            f"bound {_bound_text(check)}; "
            + (f"{failing} did not pass." if failing else "every one passed.")
        )
        chart = series_chart(
            f"chart-{stage['number']}-{index}",
            title,
            description,
            points,
            {"min": check["min"], "max": check["max"]},
            span,
            runs,
        )
        severity = f", {check['severity']}" if check["severity"] else ""
        figures.append(
            f'<figure data-check="{_e(name)}"><figcaption><strong>{_e(name)}</strong> '
            f"({_e(_bound_text(check))}{_e(severity)}) "
            + (_badge(f"{failing} not passing", "bad") if failing else _badge("passed", "good"))
            + f"</figcaption>{chart}</figure>"
        )
    legend = (
        '<p class="legend"><span>solid line: measured value</span>'
        "<span>dashed line: bound</span><span>shaded: failing side</span>"
        "<span>red: did not pass (a cross: no value)</span></p>"
    )
    return legend + f'<div class="charts">{"".join(figures)}</div>'


def _measurements_table(report, stage):
    names = [c["name"] for c in report["checks"]]
    measured = [n for n in names if any(n in m["checks"] for m in stage["measurements"])]
    bounds = {c["name"]: _bound_text(c) for c in report["checks"]}
    rows = []
    for measurement in stage["measurements"]:
        row = [
            _cell(_e(when(measurement["at"]))),
            _cell(_e(measurement["verdict"]), "" if measurement["verdict"] == "pass" else "fail"),
        ]
        for name in measured:
            recorded = measurement["checks"].get(name)
            if recorded is None:
                row.append(_cell("-"))
                continue
            shown = "no value" if recorded["value"] is None else number(recorded["value"])
            passed = recorded["result"] == "pass"
            text = shown if passed else f"{shown} ({recorded['result']})"
            row.append(_cell(_e(text), "num" if passed else "num fail"))
        row.append(_cell(_e(f"{measurement['decision']}: {measurement['reason']}"), "reason"))
        rows.append(row)
    head = ["Time", "Verdict", *(f"{n} ({bounds[n]})" for n in measured), "Decision"]
    return (
        f'<div id="stage-{stage["number"]}-values">'
        + _table(f"Measurements of stage {stage['number']}", head, rows)
        + "</div>"
    )


def _runs_table(stage):
    rows = [
        [
            _cell(_e(index), "num"),
            _cell(_e(when(run["started_at"]))),
            _cell("resumed" if run["resumed"] else "started"),
            _cell(_e(run["weight"]), "num"),
            _cell(_e(when(run["ended_at"]) if run["ended_at"] else "-")),
            _cell(_badge(run["outcome"], STAGE_CLASS.get(run["outcome"], "none"))),
            _cell(_e(run["failed_checks"]), "num"),
            _cell(_e(_decision(run["outcome"], run["reason"])), "reason"),
        ]
        for index, run in enumerate(stage["runs"], start=1)
    ]
    head = ["Run", "Began", "How", "Weight (%)", "Ended", "Outcome", "Failed checks", "Reason"]
    return _table(f"Runs of stage {stage['number']}", head, rows)


def _baseline_table(stage):
    rows = [
        [
            _cell(_e(when(judged["at"]))),
            _cell(_e(judged["verdict"])),
            _cell(_e("-" if judged["score"] is None else number(judged["score"])), "num"),
            _cell(_e(", ".join(f"{k}: {v}" for k, v in judged["metrics"].items()))),
            _cell(_e(judged["reason"]), "reason"),
        ]
        for judged in stage["baseline"]
    ]
    head = ["Time", "Verdict", "Score", "Metrics", "Reason"]
    return _table(f"Baseline judgements of stage {stage['number']}", head, rows)


def _stage(report, stage):
    number_ = stage["number"]
    outcome = stage["outcome"]
    heading = (
        f'<h3 id="stage-{number_}">Stage {number_}: {_e(stage["name"])} '
        f"{_badge(outcome, STAGE_CLASS.get(outcome, 'none'))}</h3>"
    )
    facts = _facts(
        [
            ("Weight", _e(_percent(stage["weight"]))),
            ("Replicas", _e(stage["replicas"] if stage["replicas"] is not None else "-")),
            ("Bake", _e(duration(stage["bake_seconds"]))),
            ("Started", _e(when(stage["started_at"]))),
            ("Ended", _e(when(stage["ended_at"]))),
            ("Duration", _e(duration(stage["duration_seconds"]))),
            ("Failed checks", _e(stage["failed_checks"])),
            ("Decision", f'<span class="reason">{_e(_decision(outcome, stage["reason"]))}</span>'),
        ]
    )
    if not stage["runs"] and not stage["measurements"]:
        return f'<section class="stage">{heading}<p>Not started.</p></section>'
    parts = [
        f'<section class="stage" data-stage="{number_}">',
        heading,
        facts,
        "<h4>Validation</h4>",
        _validation(stage["validation"]),
        "<h4>Runs</h4>",
        _runs_table(stage),
    ]
    if stage["measurements"]:
        parts += [
            "<h4>Measurements</h4>",
            _stage_charts(report, stage),
            _measurements_table(report, stage),
        ]
    else:
        parts.append("<p>No measurement was recorded.</p>")
    if stage["baseline"]:
        parts += ["<h4>Baseline judge</h4>", _baseline_table(stage)]
    parts.append("</section>")
    return "".join(parts)


def _actions(report):
    rows = [
        [
            _cell(_e(when(action["at"]))),
            _cell(f"<code>{_e(action['event'])}</code>"),
            _cell(
                _e("; ".join(f"{key}={value}" for key, value in action["details"].items())),
                "reason",
            ),
        ]
        for action in report["actions"]
    ]
    return (
        '<section id="history"><h2>History</h2>'
        + _table("Every action of the release", ["Time", "Event", "Details"], rows)
        + "</section>"
    )


def _footer(report):
    ledger = report["ledger"]
    dropped = (
        f" {ledger['dropped_entries']} earlier entries were dropped from the ledger to keep it "
        "under the ConfigMap size limit."
        if ledger["dropped_entries"]
        else ""
    )
    return (
        f"<footer><p>From the ledger <code>{_e(ledger['namespace'])}/{_e(ledger['name'])}</code>,"
        f" last updated {_e(when(ledger['updated_at']))}.{_e(dropped)}</p></footer>"
    )


def render_page(report):
    """The whole page, as text."""
    title = f"{report['service']}: {OUTCOME_TEXT[report['outcome']]} - canary release report"
    body = "".join(
        [
            _header(report),
            "<main>",
            _weights(report),
            _overview(report),
            *(_stage(report, stage) for stage in report["stages"]),
            _actions(report),
            "</main>",
            _footer(report),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )
