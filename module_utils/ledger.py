"""The release ledger: the state of one service's release, kept in the cluster.

A ConfigMap next to the stable workload holds the current stage, weight,
status and failed-check count, plus an append-only history (one JSON object
per line) of every action and measurement. Because the state lives in the
cluster and not in the runner, any playbook can be re-run after an
interruption, from any machine, and continue where the release stopped.
"""

import json
import time

from ansible.module_utils.cluster import Conflict

STATUSES = ("initialized", "progressing", "paused", "promoted", "rolled_back", "failed")
ACTIVE_STATUSES = ("initialized", "progressing", "paused")
INT_FIELDS = ("stage", "weight", "failed_checks", "stages")
TEXT_FIELDS = ("service", "status", "stage_status", "image", "stable_image", "holder", "reason")
SETTABLE_FIELDS = ("stage", "stage_status", "weight", "failed_checks", "reason")
# ConfigMaps hold at most 1 MiB; old measurements are summarised before that.
HISTORY_LIMIT_BYTES = 700_000
MANAGED_BY = {"app.kubernetes.io/managed-by": "canary-runbooks"}


class LedgerError(Exception):
    """The ledger forbids the requested step."""


def timestamp(now):
    """UTC with milliseconds: stage timings are read back from the history."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def empty_state(service):
    return {
        "service": service,
        "status": "",
        "stage": 0,
        "stages": 0,
        "stage_status": "pending",
        "weight": 0,
        "failed_checks": 0,
        "image": "",
        "stable_image": "",
        "holder": "",
        "reason": "",
        "updated_at": "",
        "history": [],
    }


def parse(config_map, service):
    """Turn the ConfigMap into the ledger state (a dict)."""
    state = empty_state(service)
    data = (config_map or {}).get("data") or {}
    for field in INT_FIELDS:
        if data.get(field, "") != "":
            state[field] = int(data[field])
    for field in (*TEXT_FIELDS, "updated_at"):
        if field in data:
            state[field] = data[field]
    state["history"] = [json.loads(line) for line in data.get("history", "").splitlines() if line]
    return state


def render(state):
    """Turn the ledger state into ConfigMap data (all strings)."""
    data = {field: str(state[field]) for field in (*INT_FIELDS, *TEXT_FIELDS, "updated_at")}
    data["history"] = "".join(
        json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"
        for entry in compact(state["history"])
    )
    return data


def _size(entries):
    return sum(
        len(json.dumps(entry, sort_keys=True, separators=(",", ":"))) + 1 for entry in entries
    )


def compact(history):
    """Keep the history under the ConfigMap limit, dropping what matters least first.

    Earlier releases' entries go first, then the current release's oldest
    measurements; the current release's actions are always kept. One marker at
    the top counts everything dropped so far.
    """
    if _size(history) <= HISTORY_LIMIT_BYTES:
        return history
    marker = {"event": "history_compacted", "dropped_entries": 0}
    entries = list(history)
    if entries and entries[0].get("event") == "history_compacted":
        marker["dropped_entries"] = entries.pop(0).get("dropped_entries", 0)
    starts = [i for i, entry in enumerate(entries) if entry.get("event") == "release_started"]
    current = starts[-1] if starts else 0
    size = _size(entries) + _size([marker]) + 16
    kept = []
    for index, entry in enumerate(entries):
        droppable = index < current or entry.get("event") == "measurement"
        if droppable and size > HISTORY_LIMIT_BYTES:
            size -= _size([entry])
            marker["dropped_entries"] += 1
        else:
            kept.append(entry)
    return [marker, *kept]


def next_stage(state):
    """The stage promote.yml runs next.

    The interrupted or failed one when it did not pass (a failed stage is run
    again, never skipped), else the one after the last stage that passed.
    """
    if state["stage"] and state["stage_status"] != "passed":
        return state["stage"]
    return state["stage"] + 1


def begin_stage(state, stage, weight, previous_weight):
    """Record that ``stage`` took its weight; return the history event.

    Taking the stage's weight is what starts a stage. A stage that was baking
    already (an interrupted run) is resumed and keeps its failed-check count.
    """
    resumed = state["stage"] == stage and state["stage_status"] == "baking"
    state.update(stage=stage, stage_status="baking", weight=weight)
    if not resumed:
        state["failed_checks"] = 0
    if state["status"] == "paused":
        # Run again after a failed or held bake: the pause and its reason are over.
        state["reason"] = ""
    if state["status"] in ("initialized", "paused"):
        state["status"] = "progressing"
    return {
        "event": "stage_resumed" if resumed else "stage_started",
        "stage": stage,
        "weight": weight,
        "previous_weight": previous_weight,
    }


STAGE_STATUSES = {"pass": "passed", "hold": "held"}


def stage_status(verdict):
    """The stage's status after a bake with ``verdict``: passed, held or failed."""
    return STAGE_STATUSES.get(verdict, "failed")


def conclude_stage(state, stage, weight, result):
    """Record the end of ``stage``'s bake (``result`` as ``bake.bake`` returns it).

    A stage that did not pass leaves the release paused, waiting for a decision: rolled
    back (by the caller after a failure), or the stage run again. Returns the event.
    """
    status = stage_status(result["verdict"])
    state["stage_status"] = status
    if status != "passed":
        state["status"] = "paused"
        state["reason"] = f"stage {stage} {status}: {result['reason']}"
    return {
        "event": f"stage_{status}",
        "stage": stage,
        "weight": weight,
        "failed_checks": result["failed_checks"],
        "reason": result["reason"],
    }


def needs_rollback(state):
    """Whether a rollback has anything to undo: a release in progress, or one that ended
    ``failed`` (stable not verified), which a rollback verifies again."""
    return state["status"] in ACTIVE_STATUSES or state["status"] == "failed"


def require_active(state):
    """Raise LedgerError unless a release is in progress."""
    if state["status"] not in ACTIVE_STATUSES:
        raise LedgerError(
            f"the release of {state['service']} is no longer in progress (status "
            f"{state['status'] or 'none'}: {state['reason'] or 'no reason given'})"
        )


def repeated_release(state, image, stable_image):
    """Why a release of ``image`` would only repeat a finished one (a sentence), or None.

    Stable runs it and the last release, of that very image, ended promoted: every stage
    would bake again (days, in production) and notify again, for nothing.
    """
    if not image or state["status"] != "promoted" or not state["image"] == image == stable_image:
        return None
    ended = next(
        (e.get("at") for e in reversed(state["history"]) if e.get("event") == "promoted"), None
    )
    when = f" at {ended}" if ended else ""
    return f"{image} is already released: stable runs it, and its release ended promoted{when}"


def start_release(state, image, stable_image, stages, holder, allow_new=True):
    """Begin a new release or resume the one in progress; return the history event.

    Raises LedgerError when another image's release is in progress, or when no
    release is in progress and either no image was given or ``allow_new`` is
    false (only prepare and release start releases).
    """
    in_progress = state["status"] in ACTIVE_STATUSES
    if in_progress and image and state["image"] and image != state["image"]:
        raise LedgerError(
            f"a release of {state['service']} to {state['image']} is in progress "
            f"(status {state['status']}, stage {state['stage']}); finish it with finalize.yml or "
            f"roll it back with rollback.yml before releasing {image}"
        )
    if in_progress:
        state["holder"] = holder
        return {"event": "resumed", "stage": state["stage"], "status": state["status"]}
    if not image or not allow_new:
        raise LedgerError(
            f"no release of {state['service']} is in progress (status "
            f"{state['status'] or 'none'}); start one with prepare.yml or release.yml "
            "and -e canary_image=<image>"
        )
    state.update(
        status="initialized",
        stage=0,
        stages=stages,
        stage_status="pending",
        weight=0,
        failed_checks=0,
        image=image,
        stable_image=stable_image or "",
        holder=holder,
        reason="",
    )
    return {"event": "release_started", "image": image, "stable_image": stable_image}


def for_release(cluster, release):
    """The ledger of a completed release spec."""
    return Ledger(
        cluster, release["ledger"]["namespace"], release["ledger"]["name"], release["service"]
    )


class Ledger:
    """Read and update the ledger ConfigMap with optimistic concurrency."""

    def __init__(self, cluster, namespace, name, service, clock=time.time):
        self.cluster = cluster
        self.namespace = namespace
        self.name = name
        self.service = service
        self.clock = clock

    def read(self):
        """Return the ledger state; an empty state when there is no ledger yet."""
        config_map = self.cluster.get("v1", "ConfigMap", self.name, self.namespace)
        return parse(config_map, self.service)

    def update(self, change, attempts=5):
        """Apply ``change(state) -> event`` and append the event to the history.

        ``change`` edits the state in place and returns a history event (a
        dict) or None. Another writer updating the ledger between our read and
        our write makes the write fail with Conflict; we then read again and
        re-apply. Returns ``(before, after)`` states.
        """
        for _ in range(attempts - 1):
            try:
                return self._update_once(change)
            except Conflict:
                continue
        return self._update_once(change)

    def _update_once(self, change):
        config_map = self.cluster.get("v1", "ConfigMap", self.name, self.namespace)
        before = parse(config_map, self.service)
        after = parse(config_map, self.service)
        event = change(after)
        now = self.clock()
        after["updated_at"] = timestamp(now)
        if event:
            after["history"].append({"at": timestamp(now), **event})
        definition = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {**MANAGED_BY, "canary.yyc3.io/service": self.service},
            },
            "data": render(after),
        }
        if config_map is None:
            self.cluster.create(definition)
        else:
            definition["metadata"]["resourceVersion"] = config_map["metadata"]["resourceVersion"]
            self.cluster.replace(definition)
        return before, after
