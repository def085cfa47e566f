#!/usr/bin/python
"""The release ledger and lock: read, start, record, set status, release."""

DOCUMENTATION = r"""
module: canary_state
short_description: Read and update a canary release's ledger and lock
description:
  - The ledger is a ConfigMap next to the stable workload with the release's status, stage,
    weight, failed-check count and an append-only history of every action and measurement.
  - The lock is a coordination.k8s.io/v1 Lease - one release of a service at a time.
  - C(read) returns the ledger. C(start) takes the lock (refusing, with the holder's name, when
    another live run holds it) and begins a release or resumes the one in progress.
    C(record) appends an event and updates fields. C(status) sets the release status.
    C(release) frees the lock.
  - Supports check mode (server-side dry run) and diff mode.
options:
  release:
    description: The completed release spec (the C(canary_release) fact set by M(canary_spec)).
    type: dict
    required: true
  action:
    description: What to do.
    type: str
    required: true
    choices: [read, start, record, status, release]
  image:
    description:
      - For O(action=start), the canary image of a new release.
      - For O(action=read), the image about to be released; RV(already_released) says whether
        that would only repeat a finished release.
    type: str
  event:
    description: For O(action=record) and O(action=status), the history entry; needs an C(event) key.
    type: dict
  fields:
    description:
      - For O(action=record) and O(action=status), ledger fields to set - C(stage),
        C(stage_status), C(weight), C(failed_checks), C(reason).
    type: dict
    default: {}
  status:
    description: For O(action=status), the new release status.
    type: str
    choices: [initialized, progressing, paused, promoted, rolled_back, failed]
  reason:
    description: For O(action=status), why.
    type: str
    default: ""
  require_active:
    description:
      - For O(action=record), fail when the release is no longer in progress (for example
        rolled back by another operator meanwhile).
      - A record also renews the lock when this run holds it, and fails with C(lock_lost) when
        another run took it.
    type: bool
    default: true
  takeover:
    description: For O(action=start), take the lock even from a live holder. Recorded in the ledger.
    type: bool
    default: false
  allow_new_release:
    description:
      - For O(action=start), whether a new release may begin when none is in progress.
        Only prepare and release start releases; the other playbooks resume one.
    type: bool
    default: false
  holder:
    description: Name this run in the lock and the ledger. Default - C(user@host:pid), or the AWX job.
    type: str
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
author:
  - Canary runbooks maintainers
"""

EXAMPLES = r"""
- name: Take the lock and start or resume the release
  canary_state:
    release: "{{ canary_release }}"
    action: start
    image: "{{ canary_release.image }}"
  register: canary_ledger

- name: Record that stage 2 started
  canary_state:
    release: "{{ canary_release }}"
    action: record
    event: {event: stage_started, stage: 2, weight: 20}
    fields: {stage: 2, stage_status: baking, weight: 20, failed_checks: 0}

- name: Mark the release rolled back and free the lock
  canary_state:
    release: "{{ canary_release }}"
    action: status
    status: rolled_back
    reason: error_rate = 0.031 > max 0.01
"""

RETURN = r"""
ledger:
  description: The ledger after the action.
  returned: success
  type: dict
  contains:
    status: {description: Release status, empty when there never was a release., type: str}
    stage: {description: The stage whose weight is applied (0 before the first)., type: int}
    stage_status: {description: pending, baking, passed or failed., type: str}
    weight: {description: The weight the ledger last recorded., type: int}
    failed_checks: {description: Failed measurements in the current stage., type: int}
    image: {description: The canary image., type: str}
    stable_image: {description: The image stable ran when the release started., type: str}
    history: {description: Every action and measurement, oldest first., type: list}
already_released:
  description:
    - For O(action=read) with O(image), why releasing that image would only repeat a finished
      release (stable runs it and its release ended promoted); empty otherwise.
  returned: success
  type: str
in_progress:
  description: Whether a release is in progress (initialized, progressing or paused).
  returned: success
  type: bool
needs_rollback:
  description: Whether a rollback has anything to undo (a release in progress, or one that ended failed).
  returned: success
  type: bool
next_stage:
  description: The stage promote.yml runs next (1-based); greater than the number of stages when all passed.
  returned: success
  type: int
lock_holder:
  description: Who holds the lock now, if anyone.
  returned: success
  type: str
took_over_from:
  description: For O(action=start), the previous holder whose lock was taken over.
  returned: when a lock was taken over
  type: str
lock_lost:
  description: True when the action failed because another run holds the lock now.
  returned: failure
  type: bool
"""

from ansible.module_utils import ledger as ledgers
from ansible.module_utils import lock as locks
from ansible.module_utils.cluster import Cluster, Refused, with_auth_options
from ansible.module_utils.ledger import (
    ACTIVE_STATUSES,
    SETTABLE_FIELDS,
    STATUSES,
    LedgerError,
    needs_rollback,
    next_stage,
    repeated_release,
    require_active,
    start_release,
)
from ansible.module_utils.lock import LockHeld
from ansible.module_utils.workload import container_image
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule

_SUMMARY_FIELDS = ("status", "stage", "stage_status", "weight", "failed_checks", "image", "reason")


def _summary(state):
    return {field: state[field] for field in _SUMMARY_FIELDS}


def _stable_image(cluster, release):
    workload = release["workload"]
    deployment = cluster.get("apps/v1", "Deployment", workload["name"], release["namespace"])
    return container_image(deployment, workload.get("container")) if deployment else ""


def _start(params, cluster, ledger, lock, release):
    image = params["image"] or release.get("image")
    stable_image = _stable_image(cluster, release)
    stages = len(release["stages"])
    allow_new = params["allow_new_release"]
    # Refuse what the lock or the ledger forbids before the lock is touched.
    lock.check_available(takeover=params["takeover"])
    start_release(ledger.read(), image, stable_image, stages, "", allow_new)
    took_over = lock.acquire(takeover=params["takeover"])

    def start(state):
        event = start_release(
            state, image, stable_image, stages, lock.identity["holder"], allow_new
        )
        event["by"] = lock.identity["holder"]
        if took_over:
            event["took_over_lock_from"] = took_over
        return event

    return start, took_over


def _record(params, check_mode, lock):
    lock.renew_if_held()

    def record(state):
        # In check mode the start before this record was only a dry run.
        if params["require_active"] and not check_mode:
            require_active(state)
        state.update(params["fields"])
        if state["status"] == "initialized" and params["fields"].get("stage"):
            state["status"] = "progressing"
        return params["event"]

    return record


def _set_status(params):
    def set_status(state):
        state.update(params["fields"])
        state["status"] = params["status"]
        state["reason"] = params["reason"]
        return {
            **(params["event"] or {"event": f"status_{params['status']}"}),
            "status": params["status"],
            "reason": params["reason"],
        }

    return set_status


def main():
    module = AnsibleK8SModule(
        argument_spec=with_auth_options(
            release={"type": "dict", "required": True},
            action={
                "type": "str",
                "required": True,
                "choices": ["read", "start", "record", "status", "release"],
            },
            image={"type": "str"},
            event={"type": "dict"},
            fields={"type": "dict", "default": {}},
            status={"type": "str", "choices": list(STATUSES)},
            reason={"type": "str", "default": ""},
            require_active={"type": "bool", "default": True},
            takeover={"type": "bool", "default": False},
            allow_new_release={"type": "bool", "default": False},
            holder={"type": "str"},
        ),
        required_if=[("action", "record", ("event",)), ("action", "status", ("status",))],
        supports_check_mode=True,
    )
    params = module.params
    action = params["action"]
    unknown = sorted(set(params["fields"]) - set(SETTABLE_FIELDS))
    if unknown:
        module.fail_json(
            msg=f"fields: cannot set {', '.join(unknown)}; settable: {', '.join(SETTABLE_FIELDS)}"
        )
    release = params["release"]
    cluster = Cluster.from_module(module)
    ledger = ledgers.for_release(cluster, release)
    lock = locks.for_release(cluster, release, params["holder"])
    result = {"changed": False}
    try:
        took_over = None
        if action == "start":
            change, took_over = _start(params, cluster, ledger, lock, release)
        elif action == "record":
            change = _record(params, module.check_mode, lock)
        elif action == "status":
            change = _set_status(params)
        else:
            change = None
        if change is None:
            after = ledger.read()
            if action == "release":
                result["changed"] = lock.release()
            if action == "read" and params["image"]:
                stable_image = _stable_image(cluster, release)
                result["already_released"] = (
                    repeated_release(after, params["image"], stable_image) or ""
                )
        else:
            before, after = ledger.update(change)
            result["changed"] = True
            result["diff"] = {"before": _summary(before), "after": _summary(after)}
            if took_over:
                result["took_over_from"] = took_over
    except LockHeld as err:
        module.fail_json(msg=str(err), lock_lost=action != "start")
    except LedgerError as err:
        if action == "start":
            lock.release()
        module.fail_json(msg=str(err))
    except Refused as err:
        module.fail_json(msg=f"the ledger or the lock was not written: {err}")
    lease = lock.read()
    result["lock_holder"] = ((lease or {}).get("spec") or {}).get("holderIdentity") or ""
    module.exit_json(
        ledger=after,
        in_progress=after["status"] in ACTIVE_STATUSES,
        needs_rollback=needs_rollback(after),
        next_stage=next_stage(after),
        **result,
    )


if __name__ == "__main__":
    main()
