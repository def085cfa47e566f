"""A Deployment's rollout: the change that starts it, and when it is complete.

Complete means what ``kubectl rollout status`` means. kubernetes.core's ``wait`` counts
ready replicas only, so the old ReplicaSet's pods pass for a finished rollout, and a
status read before the controller saw the new spec passes too. Here a rollout is
complete when the controller has observed the latest spec (``observedGeneration >=
generation``), ``updatedReplicas``, ``replicas`` and ``availableReplicas`` all equal
``spec.replicas`` (default 1), no replica is still terminating (``terminatingReplicas``,
where the cluster reports it), and every pod the Deployment selects that is still
running runs the template's image. A ``Progressing`` condition with the reason
``ProgressDeadlineExceeded`` ends the wait at once: the controller has given up. A
``ReplicaFailure`` condition (the API server refused the ReplicaSet's pods: Pod Security,
a quota, a webhook) is shown with the API server's own words but does not end the wait,
as in kubectl: the controller keeps trying, and a cause that goes away lets it finish.

Pure functions on dicts, and a wait loop with its clock, sleep and read injected.
"""

import time

from ansible.module_utils.workload import target_container

DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"
# A pod that ended runs nothing; an evicted one stays behind as Failed.
_ENDED_PHASES = ("Succeeded", "Failed")
_SHOWN_PODS = 3


class RolloutFailed(Exception):
    """The rollout cannot finish: the message completes a sentence naming the Deployment."""


def _desired(spec):
    replicas = spec.get("replicas")
    return 1 if replicas is None else replicas


def describe(deployment):
    """The counts behind the verdict, e.g. '0 of 2 replicas updated, 2 available,
    observedGeneration 3 of 4'."""
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    updated = status.get("updatedReplicas", 0)
    parts = [
        f"{updated} of {_desired(spec)} replicas updated",
        f"{status.get('availableReplicas', 0)} available",
    ]
    old = status.get("replicas", 0) - updated
    if old > 0:
        parts.append(f"{old} old still running")
    if status.get("terminatingReplicas"):
        parts.append(f"{status['terminatingReplicas']} terminating")
    parts.append(
        f"observedGeneration {status.get('observedGeneration', 0)} of "
        f"{(deployment.get('metadata') or {}).get('generation', 0)}"
    )
    if spec.get("paused"):
        parts.append("rollout paused")
    for condition in status.get("conditions") or []:
        if condition.get("type") == "ReplicaFailure" and condition.get("status") == "True":
            parts.append(f"pods not created: {condition.get('message') or condition.get('reason')}")
    return ", ".join(parts)


def status(deployment):
    """``(done, message)``: whether the Deployment's rollout is complete, and its counts.

    Raises RolloutFailed when the progress deadline was exceeded for the spec the
    controller has observed (a condition of an older generation says nothing of this one).
    """
    spec = deployment.get("spec") or {}
    current = deployment.get("status") or {}
    message = describe(deployment)
    generation = (deployment.get("metadata") or {}).get("generation", 0)
    if current.get("observedGeneration", 0) < generation:
        return False, message
    for condition in current.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == DEADLINE_EXCEEDED:
            raise RolloutFailed(
                f"exceeded its progress deadline: {condition.get('message') or DEADLINE_EXCEEDED} "
                f"({message})"
            )
    desired = _desired(spec)
    counts = (
        current.get("updatedReplicas", 0),
        current.get("replicas", 0),
        current.get("availableReplicas", 0),
    )
    done = counts == (desired, desired, desired) and not current.get("terminatingReplicas")
    return done, message


def stray_pods(pods, container, image):
    """The running pods whose ``container`` runs another image: ``['name (image)']``."""
    strays = []
    for pod in pods:
        metadata = pod.get("metadata") or {}
        ended = (pod.get("status") or {}).get("phase") in _ENDED_PHASES
        if metadata.get("deletionTimestamp") or ended:
            continue
        running = next(
            (
                candidate.get("image")
                for candidate in (pod.get("spec") or {}).get("containers") or []
                if candidate.get("name") == container
            ),
            None,
        )
        if running != image:
            strays.append(f"{metadata.get('name')} ({running or f'no container {container}'})")
    return sorted(strays)


def progress(deployment, pods, container=None):
    """``(done, message)`` of the rollout and of the pods the Deployment selects.

    ``container`` is the release's container (None: the first); RolloutFailed as ``status``.
    """
    done, message = status(deployment)
    target = target_container(deployment["spec"]["template"]["spec"], container)
    strays = stray_pods(pods, target["name"], target["image"])
    if not strays:
        return done, message
    shown = ", ".join(strays[:_SHOWN_PODS])
    if len(strays) > _SHOWN_PODS:
        shown += f" and {len(strays) - _SHOWN_PODS} more"
    return False, f"{message}; {len(strays)} pod(s) not on {target['image']}: {shown}"


def label_selector(selector):
    """A Deployment's ``spec.selector`` as a ``labelSelector`` query."""
    terms = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = ",".join(expression.get("values") or [])
        terms.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": key,
                "DoesNotExist": f"!{key}",
            }[operator]
        )
    return ",".join(terms)


def change(deployment, container=None, image=None, replicas=None):
    """The strategic merge patch that gives the Deployment ``image`` and ``replicas``.

    Returns ``(patch, before, after)``, ``before`` and ``after`` being the container's image
    and the replica count; ``patch`` is None when the Deployment has both already. None
    for ``image`` or ``replicas`` keeps the Deployment's.
    """
    spec = deployment["spec"]
    target = target_container(spec["template"]["spec"], container)
    before = {"image": target["image"], "replicas": _desired(spec)}
    after = {
        "image": image or before["image"],
        "replicas": before["replicas"] if replicas is None else replicas,
    }
    patch = {"spec": {}}
    if after["replicas"] != before["replicas"]:
        patch["spec"]["replicas"] = after["replicas"]
    if after["image"] != before["image"]:
        # Strategic: containers merge by name, so the other containers stay as they are.
        containers = [{"name": target["name"], "image": after["image"]}]
        patch["spec"]["template"] = {"spec": {"containers": containers}}
    return (patch if patch["spec"] else None), before, after


def wait(read, timeout, interval=1.0, clock=time.monotonic, sleep=time.sleep):
    """Call ``read() -> (done, message)`` until done or ``timeout`` seconds have passed.

    Returns ``(done, message, waited)`` of the last read. RolloutFailed from ``read``
    ends the wait at once.
    """
    start = clock()
    while True:
        done, message = read()
        waited = clock() - start
        if done or waited >= timeout:
            return done, message, waited
        sleep(min(interval, timeout - waited))
