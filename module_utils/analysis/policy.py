"""What a check's result costs the release: severities and the no-data policy.

A check's result (pass, fail, no_data, error) says what was measured; its *effect* says
what that does to the stage, and every effect carries the reason in words:

- ``fail``: counts toward ``failure_limit`` (a critical check failed); rollback at the limit.
- ``hold``: promotion waits (an important check failed, or no data under ``no_data: hold``).
- ``error``: the measurement could not be taken; ``error_limit`` in a row fail the stage.
- ``recorded``: a general check; kept in the ledger, changes nothing.
- ``ignored``: no data under ``no_data: ignore``; kept in the ledger, changes nothing.
- ``pass``.

The measurement's verdict is its worst effect, in the order fail, error, hold, pass.
"""

PASS = "pass"
FAIL = "fail"
HOLD = "hold"
ERROR = "error"
RECORDED = "recorded"
IGNORED = "ignored"

# Worst first: the verdict of a measurement is the first of these any check has.
VERDICT_ORDER = (FAIL, ERROR, HOLD)

_BY_SEVERITY = {"critical": FAIL, "important": HOLD, "general": RECORDED}
_NOTES = {
    FAIL: "critical: counts toward failure_limit",
    HOLD: "important: holds promotion",
    RECORDED: "general: recorded only",
}


def effect(result, severity, no_data_policy):
    """Return ``(effect, note)`` for a check's ``result`` under its severity and the policy."""
    if result == PASS:
        return PASS, ""
    if result == "no_data":
        if no_data_policy == "ignore":
            return IGNORED, "no_data: ignore"
        if no_data_policy == "hold" and severity != "general":
            return HOLD, "no_data: hold"
        outcome = _BY_SEVERITY[severity]
        return outcome, f"no_data: fail, {_NOTES[outcome]}"
    if result == ERROR:
        if severity == "general":
            return RECORDED, _NOTES[RECORDED]
        return ERROR, "counts toward error_limit"
    outcome = _BY_SEVERITY[severity]
    return outcome, _NOTES[outcome]


def verdict(effects):
    """The measurement's verdict: its worst effect, ``pass`` when nothing worse."""
    for outcome in VERDICT_ORDER:
        if outcome in effects:
            return outcome
    return PASS
