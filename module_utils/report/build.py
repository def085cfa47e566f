"""The release report as data: the latest release of one service, read from its ledger.

``build`` turns the ledger state (as ``canary_state`` returns it) and the completed
release spec into one dict, the report's JSON (its schema is
``roles/canary_report/files/report.schema.json``). The ledger says what happened; the
spec adds what the ledger does not record: the namespaces, each stage's name, replicas
and bake time, and each check's bounds. Bounds come from the spec the report is built
with, so a check renamed or removed since the release has no bound in its report.

A stage is run once or more (a failed or held stage is run again; an interrupted one is
resumed), so each stage lists its runs, and its measurements across them.
"""

import math
from datetime import UTC, datetime

SCHEMA_VERSION = 1
FINAL_STATUSES = ("promoted", "rolled_back", "failed")
RUN_ENDS = {"stage_passed": "passed", "stage_failed": "failed", "stage_held": "held"}
RUN_STARTS = ("stage_started", "stage_resumed")


class ReportError(ValueError):
    """The ledger or the spec cannot be reported on; the message names the field."""


def epoch(text, field):
    """Seconds since the epoch of a ledger timestamp (``2025-01-01T12:00:00.000Z``)."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        raise ReportError(f"{field}: not a timestamp: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def release_id(started_at):
    """The release's name in file names: its start, ``20250101T120000Z``."""
    moment = datetime.fromtimestamp(epoch(started_at, "started_at"), UTC)
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _number(value):
    """A finite number, else None: JSON has no NaN, and the ledger may hold anything."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def _seconds_between(start, end, field):
    if not start or not end:
        return None
    return round(epoch(end, field) - epoch(start, field), 3)


def _current_release(history):
    """``(index of its release_started, entries)`` of the latest release in the history."""
    starts = [i for i, entry in enumerate(history) if entry.get("event") == "release_started"]
    if not starts:
        return None, []
    return starts[-1], history[starts[-1] :]


def _checks(release):
    """The spec's checks by name: type, severity, bounds, and the side a failure is on."""
    checks = {}
    for check in (release.get("analysis") or {}).get("checks") or []:
        minimum, maximum = _number(check.get("min")), _number(check.get("max"))
        checks[check["name"]] = {
            "name": check["name"],
            "type": check.get("type"),
            "severity": check.get("severity") or "critical",
            "min": minimum,
            "max": maximum,
            "side": "min" if maximum is None and minimum is not None else "max",
        }
    return checks


def _recorded(values, field, checks):
    """A measurement's ``values`` (``{name: [value, result, side, effect]}``) per check.

    Ledgers written by earlier versions recorded ``[value, result]`` or ``[value,
    result, side]``; the missing parts are taken from the spec or left out.
    """
    if not isinstance(values, dict):
        raise ReportError(f"{field}: must be a mapping of check name to recorded values")
    measured = {}
    for name, recorded in values.items():
        if not isinstance(recorded, list) or len(recorded) < 2:
            raise ReportError(f"{field}.{name}: must be [value, result, side, effect]")
        value, result, *rest = recorded
        spec = checks.get(name) or {}
        measured[name] = {
            "value": _number(value),
            "result": str(result),
            "effect": str(rest[1]) if len(rest) > 1 else None,
            "side": str(rest[0]) if rest else spec.get("side", "max"),
        }
    return measured


def _new_stage(number, spec):
    spec = spec or {}
    return {
        "number": number,
        "name": spec.get("name") or (f"{spec['weight']}%" if "weight" in spec else f"#{number}"),
        "weight": spec.get("weight"),
        "replicas": spec.get("replicas"),
        "bake_seconds": _number(spec.get("bake_seconds")),
        "outcome": "not_started",
        "reason": "",
        "failed_checks": 0,
        "started_at": None,
        "ended_at": None,
        "duration_seconds": None,
        "validation": None,
        "runs": [],
        "measurements": [],
        "baseline": [],
    }


def _stage_of(stages, entry, field, release_stages):
    number = entry.get("stage")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise ReportError(f"{field}.stage: must be a stage number (1 or more), got {number!r}")
    if number not in stages:
        spec = release_stages[number - 1] if number <= len(release_stages) else None
        stages[number] = _new_stage(number, spec)
    return stages[number]


def _start_run(stage, entry):
    runs = stage["runs"]
    if runs and runs[-1]["outcome"] == "baking":
        runs[-1]["outcome"] = "interrupted"
    runs.append(
        {
            "started_at": entry["at"],
            "resumed": entry["event"] == "stage_resumed",
            "weight": entry.get("weight"),
            "validation": entry.get("validation"),
            "ended_at": None,
            "outcome": "baking",
            "reason": "",
            "failed_checks": 0,
        }
    )
    if entry.get("weight") is not None:
        stage["weight"] = entry["weight"]


def _end_run(stage, entry):
    if not stage["runs"] or stage["runs"][-1]["outcome"] != "baking":
        # No start recorded for it (a ledger edited by hand): a run of its own.
        _start_run(stage, {"at": entry["at"], "event": "stage_started"})
    run = stage["runs"][-1]
    run.update(
        ended_at=entry["at"],
        outcome=RUN_ENDS[entry["event"]],
        reason=str(entry.get("reason") or ""),
        failed_checks=entry.get("failed_checks") or 0,
    )


def _finish_stage(stage, release_over):
    runs = stage["runs"]
    if not runs:
        return
    last = runs[-1]
    if last["outcome"] == "baking" and release_over:
        # Rolled back (or promoted early) while it baked.
        last["outcome"] = "stopped"
    validated = [run["validation"] for run in runs if run["validation"] is not None]
    stage.update(
        outcome=last["outcome"],
        reason=last["reason"],
        failed_checks=last["failed_checks"],
        started_at=runs[0]["started_at"],
        ended_at=last["ended_at"],
        duration_seconds=_seconds_between(runs[0]["started_at"], last["ended_at"], "ended_at"),
        validation=validated[-1] if validated else None,
    )
    if last["outcome"] == "baking" and stage["measurements"]:
        stage["failed_checks"] = stage["measurements"][-1]["failed_checks"]


def _outcome(ledger):
    status = ledger.get("status")
    if status in FINAL_STATUSES:
        return status
    if status == "paused":
        return "held" if ledger.get("stage_status") == "held" else "paused"
    return "in_progress"


def _ended_at(entries, status):
    """When the release reached its final status: the entry that recorded it."""
    if status not in FINAL_STATUSES:
        return None
    ends = [entry["at"] for entry in entries if entry.get("status") == status]
    return ends[-1] if ends else None


def _action(entry):
    details = {
        key: value
        for key, value in entry.items()
        if key not in ("at", "event", "validation") and not isinstance(value, (dict, list))
    }
    return {"at": entry["at"], "event": str(entry.get("event")), "details": details}


def _weights(entries):
    """The canary's weight over time: none at the start, then every recorded change."""
    points = [{"at": entries[0]["at"], "weight": 0, "event": entries[0]["event"]}]
    for entry in entries[1:]:
        event = entry.get("event")
        if event in (*RUN_STARTS, "weight_set") and _number(entry.get("weight")) is not None:
            points.append({"at": entry["at"], "weight": entry["weight"], "event": event})
        elif event == "rolled_back" and points[-1]["weight"] != 0:
            points.append({"at": entry["at"], "weight": 0, "event": event})
    return points


def _validate_inputs(release, ledger):
    for field in ("service", "namespace"):
        if not isinstance(release.get(field), str) or not release[field]:
            raise ReportError(f"release.{field}: required, the completed release spec's")
    if not isinstance(release.get("stages"), list):
        raise ReportError("release.stages: required, a list (the completed release spec's)")
    if not isinstance(ledger.get("history"), list):
        raise ReportError("ledger.history: required, a list (canary_state's ledger result)")
    service = ledger.get("service")
    if service and service != release["service"]:
        raise ReportError(
            f"ledger.service: {service!r} is not the release's service {release['service']!r}"
        )
    for index, entry in enumerate(ledger["history"]):
        if not isinstance(entry, dict) or not entry.get("event"):
            raise ReportError(f"ledger.history[{index}]: must be a mapping with an event")
        if entry["event"] != "history_compacted":
            epoch(entry.get("at"), f"ledger.history[{index}].at")


def build(release, ledger):
    """The report of the latest release in ``ledger`` (a dict; see the module docstring).

    Raises ``ReportError`` naming the field when the inputs are not a completed spec and
    a ledger, or when the ledger records no release.
    """
    _validate_inputs(release, ledger)
    history = ledger["history"]
    first, entries = _current_release(history)
    if first is None:
        raise ReportError(
            f"ledger: no release of {release['service']} is recorded "
            f"(status {ledger.get('status') or 'none'})"
        )
    checks = _checks(release)
    stages = {
        number: _new_stage(number, spec) for number, spec in enumerate(release["stages"], start=1)
    }
    actions = []
    for offset, entry in enumerate(entries):
        field = f"ledger.history[{first + offset}]"
        event = entry["event"]
        if event == "measurement":
            stage = _stage_of(stages, entry, field, release["stages"])
            stage["measurements"].append(
                {
                    "at": entry["at"],
                    "run": len(stage["runs"]),
                    "verdict": str(entry.get("verdict")),
                    # Earlier versions recorded the verdict only.
                    "decision": str(entry.get("decision") or entry.get("verdict")),
                    "reason": str(entry.get("reason") or ""),
                    "failed_checks": entry.get("failed_checks") or 0,
                    "checks": _recorded(entry.get("values") or {}, f"{field}.values", checks),
                }
            )
            continue
        if event == "baseline":
            stage = _stage_of(stages, entry, field, release["stages"])
            stage["baseline"].append(
                {
                    "at": entry["at"],
                    "verdict": str(entry.get("verdict")),
                    "score": _number(entry.get("score")),
                    "reason": str(entry.get("reason") or ""),
                    "metrics": {str(k): str(v) for k, v in (entry.get("metrics") or {}).items()},
                }
            )
            continue
        if event in RUN_STARTS:
            _start_run(_stage_of(stages, entry, field, release["stages"]), entry)
        elif event in RUN_ENDS:
            _end_run(_stage_of(stages, entry, field, release["stages"]), entry)
        actions.append(_action(entry))

    status = ledger.get("status") or ""
    release_over = status in FINAL_STATUSES
    for stage in stages.values():
        _finish_stage(stage, release_over)
    measured = {
        name for stage in stages.values() for m in stage["measurements"] for name in m["checks"]
    }
    for name in sorted(measured - set(checks)):
        # Measured under a spec that had this check, gone from the spec now: no bound.
        checks[name] = {
            "name": name,
            "type": None,
            "severity": None,
            "min": None,
            "max": None,
            "side": "max",
        }

    weights = _weights(entries)
    started_at = entries[0]["at"]
    ended_at = _ended_at(entries, status)
    until = ended_at or ledger.get("updated_at") or entries[-1]["at"]
    compacted = [entry for entry in history if entry.get("event") == "history_compacted"]
    ledger_spec = release.get("ledger") or {}
    return {
        "schema_version": SCHEMA_VERSION,
        "release_id": release_id(started_at),
        "service": release["service"],
        "namespace": release["namespace"],
        "canary_namespace": release.get("canary_namespace") or "",
        "ledger": {
            "namespace": ledger_spec.get("namespace") or release["namespace"],
            "name": ledger_spec.get("name") or f"{release['service']}-canary-ledger",
            "updated_at": ledger.get("updated_at") or entries[-1]["at"],
            "dropped_entries": compacted[0].get("dropped_entries", 0) if compacted else 0,
        },
        "images": {
            "canary": ledger.get("image") or entries[0].get("image") or "",
            "stable": ledger.get("stable_image") or entries[0].get("stable_image") or "",
        },
        "status": status,
        "outcome": _outcome(ledger),
        "reason": ledger.get("reason") or "",
        "stage": ledger.get("stage") or 0,
        "stage_status": ledger.get("stage_status") or "",
        # From the history: ledgers written before rollbacks recorded their weight keep
        # the last stage's in the field.
        "weight": weights[-1]["weight"],
        "started_at": started_at,
        "ended_at": ended_at,
        "duration_seconds": _seconds_between(started_at, until, "ended_at"),
        "checks": list(checks.values()),
        "stages": [stages[number] for number in sorted(stages)],
        "weights": weights,
        "actions": actions,
    }
