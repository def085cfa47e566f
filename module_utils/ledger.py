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
STAGE_STATUSES = ("pending", "baking", "passed", "failed")
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


def compact(history):
    """Keep every action; drop the oldest measurements once the history grows too big."""
    size = sum(len(json.dumps(entry)) + 1 for entry in history)
    if size <= HISTORY_LIMIT_BYTES:
        return history
    kept = list(history)
    dropped = 0
    for entry in history:
        if size <= HISTORY_LIMIT_BYTES:
            break
        if entry.get("event") == "measurement":
            kept.remove(entry)
            size -= len(json.dumps(entry)) + 1
            dropped += 1
    if dropped:
        kept.insert(0, {"event": "history_compacted", "dropped_measurements": dropped})
    return kept


def next_stage(state):
    """The stage promote.yml runs next: the interrupted one, or the one after the last passed."""
    if state["stage"] and state["stage_status"] in ("baking", "pending"):
        return state["stage"]
    return state["stage"] + 1


def start_release(state, image, stable_image, stages, holder, now):
    """Begin a new release or resume the one in progress; return the history event.

    Raises LedgerError when another image's release is in progress, or when no
    release is in progress and no image was given.
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
    if not image:
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

    def exists(self):
        return self.cluster.get("v1", "ConfigMap", self.name, self.namespace) is not None

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
