"""Charts of the release report, drawn here as inline SVG: no script, no external file.

Drawn on the server, a chart shows wherever the page is opened: in a browser with
scripts off, in a mail client, from an archived artifact. Every text that came from the
ledger is escaped. Each chart carries its title and a text description for screen
readers, and each point its own tooltip; the page adds a table of the same numbers.

Two kinds: ``series_chart`` (a check's value over a stage, its bounds as dashed lines,
the failing side shaded, points that did not pass in red, values the measurement could
not take as crosses on the bottom edge) and ``step_chart`` (the canary's weight).
"""

import math
import time
from html import escape

WIDTH, HEIGHT = 480, 200
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 14, 30
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

COLORS = {
    "value": "#0969da",
    "bound": "#9a6700",
    "fail": "#cf222e",
    "zone": "#ffebe9",
    "grid": "#d0d7de",
    "text": "#57606a",
    "run": "#6e7781",
    "weight": "#8250df",
}


def number(value):
    """A value as the report prints it: four significant digits."""
    return f"{value:.4g}"


def clock(seconds):
    """UTC time of day, the time axis' labels."""
    return time.strftime("%H:%M:%S", time.gmtime(seconds))


def nice_ticks(low, high, count=4):
    """Round tick values covering ``[low, high]`` in about ``count`` steps of 1, 2, 2.5 or 5."""
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    return [first + index * step for index in range(round((last - first) / step) + 1)]


def value_domain(values):
    """Ticks for the y axis: every value and bound inside, a margin, never below 0 needlessly."""
    low, high = min(values), max(values)
    if high == low:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    else:
        pad = (high - low) * 0.05
        low, high = low - pad, high + pad
    if min(values) >= 0 > low:
        low = 0.0
    return nice_ticks(low, high)


class Frame:
    """Maps times and values to the plot area of a chart."""

    def __init__(self, start, end, ticks):
        self.start = start
        self.end = end if end > start else start + 1
        self.ticks = ticks
        self.low, self.high = ticks[0], ticks[-1]

    def x(self, moment):
        return round(LEFT + (moment - self.start) / (self.end - self.start) * PLOT_WIDTH, 2)

    def y(self, value):
        share = (value - self.low) / (self.high - self.low)
        return round(TOP + (1 - share) * PLOT_HEIGHT, 2)


def _text(x, y, content, anchor="end", css="tick", color=None):
    return (
        f'<text class="{css}" x="{x}" y="{y}" text-anchor="{anchor}" font-size="11" '
        f'fill="{color or COLORS["text"]}">{escape(content)}</text>'
    )


def _axes(frame, times):
    """The plot's frame, the value grid with its labels, and the time labels."""
    parts = [
        f'<rect class="plot" x="{LEFT}" y="{TOP}" width="{PLOT_WIDTH}" height="{PLOT_HEIGHT}" '
        f'fill="#ffffff" stroke="{COLORS["grid"]}"/>'
    ]
    for tick in frame.ticks:
        y = frame.y(tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y}" x2="{LEFT + PLOT_WIDTH}" y2="{y}" '
            f'stroke="{COLORS["grid"]}" stroke-width="0.5"/>'
        )
        parts.append(_text(LEFT - 6, y + 4, number(tick)))
    bottom = TOP + PLOT_HEIGHT + 16
    parts.append(_text(LEFT, bottom, clock(times[0]), anchor="start"))
    if times[-1] > times[0]:
        parts.append(_text(LEFT + PLOT_WIDTH, bottom, clock(times[-1])))
    return parts


def _open(chart_id, title, description, attributes):
    data = "".join(f' data-{key}="{escape(str(value))}"' for key, value in attributes.items())
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc"{data}>'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
    )


def _zones(frame, bound):
    """The failing side of each bound, shaded."""
    parts = []
    maximum, minimum = bound.get("max"), bound.get("min")
    if maximum is not None and maximum < frame.high:
        top, edge = TOP, frame.y(max(maximum, frame.low))
        parts.append((top, edge - top))
    if minimum is not None and minimum > frame.low:
        edge = frame.y(min(minimum, frame.high))
        parts.append((edge, TOP + PLOT_HEIGHT - edge))
    return [
        f'<rect class="zone" x="{LEFT}" y="{y}" width="{PLOT_WIDTH}" height="{round(h, 2)}" '
        f'fill="{COLORS["zone"]}"/>'
        for y, h in parts
        if h > 0
    ]


def _bounds(frame, bound):
    parts = []
    for side in ("max", "min"):
        limit = bound.get(side)
        if limit is None:
            continue
        # On a whole pixel, two wide: crisp, in its own colour, not blended into two rows.
        y = round(frame.y(limit))
        parts.append(
            f'<line class="bound" data-side="{side}" x1="{LEFT}" y1="{y}" x2="{LEFT + PLOT_WIDTH}" '
            f'y2="{y}" stroke="{COLORS["bound"]}" stroke-width="2" stroke-dasharray="6 4"/>'
        )
        label_y = y - 4 if side == "max" else y + 12
        parts.append(
            _text(
                LEFT + PLOT_WIDTH - 4,
                label_y,
                f"{side} {number(limit)}",
                "end",
                "bound-label",
                COLORS["bound"],
            )
        )
    return parts


def _runs(frame, runs):
    """A dotted line where each later run of the stage began."""
    parts = []
    for moment, label in runs:
        x = frame.x(moment)
        parts.append(
            f'<line class="run" x1="{x}" y1="{TOP}" x2="{x}" y2="{TOP + PLOT_HEIGHT}" '
            f'stroke="{COLORS["run"]}" stroke-dasharray="2 3"/>'
        )
        parts.append(_text(x + 3, TOP + 11, label, "start", "run-label", COLORS["run"]))
    return parts


def _line(frame, points):
    """The value line, broken where a measurement has no value and where a run begins."""
    commands, pen_down = [], False
    for point in points:
        if point["value"] is None:
            pen_down = False
            continue
        if point.get("run_begins"):
            pen_down = False
        commands.append(
            f"{'L' if pen_down else 'M'}{frame.x(point['at'])},{frame.y(point['value'])}"
        )
        pen_down = True
    if not commands:
        return []
    return [
        f'<path class="value-line" d="{" ".join(commands)}" fill="none" '
        f'stroke="{COLORS["value"]}" stroke-width="2" stroke-linejoin="round"/>'
    ]


def _points(frame, points):
    parts = []
    for point in points:
        x = frame.x(point["at"])
        tip = f"<title>{escape(point['label'])}</title>"
        if point["value"] is None:
            y = TOP + PLOT_HEIGHT - 7
            parts.append(
                f'<path class="point missing" d="M{x - 4},{y - 4}L{x + 4},{y + 4}M{x + 4},{y - 4}'
                f'L{x - 4},{y + 4}" stroke="{COLORS["fail"]}" stroke-width="2.5">{tip}</path>'
            )
        elif point["passed"]:
            parts.append(
                f'<circle class="point pass" cx="{x}" cy="{frame.y(point["value"])}" r="3" '
                f'fill="{COLORS["value"]}">{tip}</circle>'
            )
        else:
            parts.append(
                f'<circle class="point fail" cx="{x}" cy="{frame.y(point["value"])}" r="5" '
                f'fill="{COLORS["fail"]}" stroke="#ffffff" stroke-width="1">{tip}</circle>'
            )
    return parts


def series_chart(chart_id, title, description, points, bound, span, runs=()):
    """One check over one stage.

    ``points``: ``{at (epoch seconds), value (number or None), passed, label, run_begins}``,
    oldest first (the line is not drawn into a point whose run begins with it); ``bound``: ``{min, max}`` (either may be None); ``span``: ``(start, end)`` of
    the time axis, shared by the stage's charts; ``runs``: ``(epoch, label)`` of each
    later run of the stage.
    """
    measured = [point["value"] for point in points if point["value"] is not None]
    limits = [bound[side] for side in ("min", "max") if bound.get(side) is not None]
    frame = Frame(span[0], span[1], value_domain(measured + limits or [0.0, 1.0]))
    failing = sum(1 for point in points if not point["passed"])
    attributes = {
        "kind": "series",
        "points": len(points),
        "values": len(measured),
        "failing": failing,
        "bounds": len(limits),
    }
    parts = [
        _open(chart_id, title, description, attributes),
        *_axes(frame, (frame.start, frame.end)),
        *_zones(frame, bound),
        *_runs(frame, runs),
        *_bounds(frame, bound),
        *_line(frame, points),
        *_points(frame, points),
        "</svg>",
    ]
    return "".join(parts)


def step_chart(chart_id, title, description, points, end):
    """The weight over time: ``points`` are ``{at, weight, label}``, held until ``end``."""
    frame = Frame(points[0]["at"], max(end, points[-1]["at"]), [0, 25, 50, 75, 100])
    commands = [f"M{frame.x(points[0]['at'])},{frame.y(points[0]['weight'])}"]
    for point in points[1:]:
        commands.append(f"H{frame.x(point['at'])}V{frame.y(point['weight'])}")
    commands.append(f"H{frame.x(frame.end)}")
    marks = [
        f'<circle class="point step" cx="{frame.x(point["at"])}" cy="{frame.y(point["weight"])}" '
        f'r="3" fill="{COLORS["weight"]}"><title>{escape(point["label"])}</title></circle>'
        for point in points
    ]
    return "".join(
        [
            _open(chart_id, title, description, {"kind": "step", "points": len(points)}),
            *_axes(frame, (frame.start, frame.end)),
            f'<path class="weight-line" d="{" ".join(commands)}" fill="none" '
            f'stroke="{COLORS["weight"]}" stroke-width="2"/>',
            *marks,
            "</svg>",
        ]
    )
