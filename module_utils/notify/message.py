"""What a notification says: an event, its context, and the text a template makes of them.

The context is a flat dict of the placeholders a template may use. Values that do not
apply to an event (no stage, no reason) are None in the context and render as nothing,
whatever their format spec, so one template serves every event.
"""

import datetime
import string

EVENTS = (
    "stage_started",
    "stage_passed",
    "held",
    "rolled_back",
    "promoted",
    "not_ready",
    "failed",
)
PLACEHOLDERS = (
    "service",
    "namespace",
    "event",
    "stage",
    "stages",
    "weight",
    "image",
    "reason",
    "summary",
    "time",
)
DEFAULT_TEMPLATE = "[{service}] {event}: {summary}"
# What an event asks of a person: critical - the release stopped on its own; warning - a
# stage waits for a decision; info - progress.
SEVERITIES = {
    "rolled_back": "critical",
    "failed": "critical",
    "not_ready": "critical",
    "held": "warning",
}


def severity(event):
    return SEVERITIES.get(event, "info")


def _timestamp(now):
    if now is None:
        now = datetime.datetime.now(datetime.UTC)
    elif isinstance(now, (int, float)):
        now = datetime.datetime.fromtimestamp(now, datetime.UTC)
    return now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stage_weight(stages, stage):
    if stage is None:
        return None
    if stage == 0:
        return 0
    return stages[stage - 1].get("weight") if 1 <= stage <= len(stages) else None


def summary(values):
    """The default one-line text of an event, from its context."""
    image = values["image"] or "the canary"
    where = ""
    if values["stage"] == 0:
        where = " before the first stage"
    elif values["stage"] is not None:
        where = f" at stage {values['stage']}/{values['stages']}"
        if values["weight"] is not None:
            where += f" ({values['weight']}%)"
    because = f": {values['reason']}" if values["reason"] else ""
    return {
        "stage_started": f"{image} started{where}",
        "stage_passed": f"{image} passed{where}",
        "held": f"{image} held{where}{because}",
        "rolled_back": f"{image} rolled back{where}{because}",
        "promoted": f"{image} promoted to stable{because}",
        "not_ready": f"{image} did not become ready{where}{because}",
        "failed": f"{image} failed{where}{because}",
    }[values["event"]]


def context(release, event, stage=None, reason=None, image=None, now=None):
    """Every placeholder's value for ``event`` of ``release`` (the completed spec).

    ``stage`` is 1-based (0: before the first stage); ``image`` defaults to the spec's;
    ``reason`` is put on one line; ``now`` (a datetime or unix time) defaults to now.
    """
    stages = release.get("stages") or []
    values = {
        "service": release.get("service") or "",
        "namespace": release.get("namespace") or "",
        "event": event,
        "stage": stage,
        "stages": len(stages),
        "weight": _stage_weight(stages, stage),
        "image": image or release.get("image") or None,
        "reason": " ".join(str(reason).split()) if reason else None,
        "time": _timestamp(now),
    }
    values["summary"] = summary(values)
    return values


class _Blank(str):
    """A value that does not apply: renders as nothing, whatever its format spec."""

    def __format__(self, format_spec):
        return ""


class _Formatter(string.Formatter):
    def convert_field(self, value, conversion):
        # {reason!r} of a value that does not apply is still nothing, not "''".
        return value if isinstance(value, _Blank) else super().convert_field(value, conversion)


def render(template, values):
    """``template`` (str.format syntax) filled from the context ``values``."""
    filled = {key: _Blank() if value is None else value for key, value in values.items()}
    return _Formatter().vformat(template, (), filled)


def sample_context():
    """A context with a value of every placeholder's type, to check a template with."""
    release = {"service": "frontend", "namespace": "web", "stages": [{"weight": 5}]}
    return context(release, "held", 1, "a reason", "registry/app:1.0", now=0)
