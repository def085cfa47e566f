"""Views of the ledger: what status.yml and the demo print, and the playbooks' artifact.

Pure functions on the ledger state (as returned by canary_state), loaded by
the filter plugin.
"""

STAGE_OUTCOMES = {"stage_passed": "pass", "stage_failed": "fail", "stage_held": "hold"}


def _worse(current, candidate):
    """The worse of two recorded values ``[value, result, side]``: a non-pass beats a pass,
    then the value further on the bad side (above a max, below a min)."""
    value, result = candidate[0], candidate[1]
    side = candidate[2] if len(candidate) > 2 else "max"
    if current is None or (current[1] == "pass" and result != "pass"):
        return (value, result)
    if (current[1] != "pass") != (result != "pass") or value is None or current[0] is None:
        return current
    further = value < current[0] if side == "min" else value > current[0]
    return (value, result) if further else current


def _value(value):
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def history_lines(ledger, last=None):
    """One line per history entry, oldest first; only the ``last`` ones when given."""
    entries = ledger.get("history", [])
    lines = []
    for entry in entries[-last:] if last else entries:
        details = {k: v for k, v in entry.items() if k not in ("at", "event", "values")}
        text = f"{entry.get('at', '')}  {entry.get('event', '?')}"
        if "values" in entry:
            text += "  " + "  ".join(
                f"{name}={_value(recorded[0])} {recorded[1]}"
                for name, recorded in sorted(entry["values"].items())
            )
        if details:
            text += "  " + " ".join(f"{k}={_value(v)}" for k, v in sorted(details.items()))
        lines.append(text)
    return lines


def current_release(history):
    """The history entries of the latest release (the ledger keeps every release's)."""
    starts = [i for i, entry in enumerate(history) if entry.get("event") == "release_started"]
    return history[starts[-1] :] if starts else history


def stage_summary(ledger):
    """Per stage of the latest release: weight, measurements, worst value of each check, outcome."""
    stages = {}
    for entry in current_release(ledger.get("history", [])):
        number = entry.get("stage")
        if not number:
            continue
        stage = stages.setdefault(number, {"stage": number, "measurements": 0, "worst": {}})
        event = entry.get("event")
        if event in ("stage_started", "stage_resumed"):
            stage["weight"] = entry.get("weight")
        elif event == "measurement":
            stage["measurements"] += 1
            for name, recorded in entry.get("values", {}).items():
                stage["worst"][name] = _worse(stage["worst"].get(name), recorded)
        elif event in ("stage_passed", "stage_failed", "stage_held"):
            stage["outcome"] = event.split("_", 1)[1]
            stage["reason"] = entry.get("reason", "")
    lines = []
    for number in sorted(stages):
        stage = stages[number]
        values = "  ".join(
            f"{name}={_value(value)} ({result})"
            for name, (value, result) in sorted(stage["worst"].items())
        )
        line = (
            f"stage {number} ({stage.get('weight', '?')}%): {stage.get('outcome', 'in progress')}, "
            f"{stage['measurements']} measurements; worst: {values or 'none'}"
        )
        if stage.get("outcome") in ("failed", "held") and stage.get("reason"):
            line += f"; {stage['outcome']} on: {stage['reason']}"
        lines.append(line)
    return lines


def _measurement(entry):
    recorded = entry.get("values") or {}
    return {
        "at": entry.get("at"),
        "verdict": entry.get("verdict"),
        "values": {name: values[0] for name, values in recorded.items()},
        "results": {name: values[1] for name, values in recorded.items()},
    }


def release_stats(ledger, report=None):
    """The artifact every playbook publishes with ``set_stats`` for one service.

    AWX passes a job's artifacts to the workflow nodes after it, and CI jobs read them
    from the stats, so either can branch on where the release stands without reading
    the ledger. ``verdict`` is the outcome of the latest stage that ended (``pass``,
    ``fail`` or ``hold``), else the verdict of the latest measurement of the stage still
    baking, else None. ``measurements`` are the current stage's, oldest first.
    """
    history = current_release(ledger.get("history") or [])
    stage = ledger.get("stage") or 0
    measurements = [
        _measurement(entry)
        for entry in history
        if entry.get("event") == "measurement" and entry.get("stage") == stage
    ]
    verdict = None
    for entry in history:
        if entry.get("event") in STAGE_OUTCOMES:
            verdict = STAGE_OUTCOMES[entry["event"]]
        elif entry.get("event") in ("stage_started", "stage_resumed"):
            verdict = None
    if verdict is None and measurements:
        verdict = measurements[-1]["verdict"]
    return {
        "status": ledger.get("status") or "none",
        "stage": stage,
        "stages": ledger.get("stages") or 0,
        "weight": ledger.get("weight") or 0,
        "verdict": verdict,
        "image": ledger.get("image") or "",
        "stable_image": ledger.get("stable_image") or "",
        "reason": ledger.get("reason") or "",
        "measurements": measurements,
        "report": report,
    }
