"""The Deployment status controller: what kube-controller-manager would report.

kubectl rollout status and kubernetes.core's ``wait`` only read a Deployment's status,
so the sandbox needs no ReplicaSets to make them behave: this controller recomputes the
status of every Deployment after each change of a Deployment or Pod, in one of two modes.

- Simulated pods (default): a new pod template's pods become ready ``rollout_delay``
  seconds after the controller first sees the template. The annotation
  ``sandbox.canary.io/hold-rollout: "true"`` holds a rollout like a new version whose
  pods never get ready: the old pods stay available and one surge pod of the new
  template stays unready, so waits time out. Removing the annotation lets it finish.
- Pods from the kubelet (``pods_from_kubelet``): counts come from Pod objects in the
  Deployment's namespace that match its selector and carry an ownerReference to it;
  a pod is updated when its ``pod-template-hash`` label is the template's hash and
  ready/available when its ``Ready`` condition is "True".
"""

import math
import threading
import time

from sandbox.apiserver.registry import timestamp
from sandbox.apiserver.resources import lookup
from sandbox.apiserver.selectors import match_selector
from sandbox.podtemplate import template_hash

HOLD_ANNOTATION = "sandbox.canary.io/hold-rollout"
DEPLOYMENTS = lookup("apps", "v1", "deployments")
PODS = lookup("", "v1", "pods")


class Counts:
    """Pod counts behind a Deployment status."""

    def __init__(self, replicas, updated, ready):
        self.replicas = replicas
        self.updated = updated
        self.ready = ready


def _max_unavailable(deployment, desired):
    """Resolve rollingUpdate.maxUnavailable (an int or a percentage, rounded down)."""
    strategy = deployment["spec"].get("strategy") or {}
    if strategy.get("type") != "RollingUpdate":
        return 0
    value = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return math.floor(desired * int(value[:-1]) / 100)
    return int(value)


def _condition(previous, kind, status, reason, message, now):
    """A condition that keeps its timestamps while nothing about it changes."""
    old = next((c for c in previous if c.get("type") == kind), {})
    unchanged = old.get("status") == status
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": old["lastUpdateTime"]
        if unchanged and old.get("reason") == reason
        else now,
        "lastTransitionTime": old["lastTransitionTime"] if unchanged else now,
        "reason": reason,
        "message": message,
    }


def deployment_status(deployment, counts):
    """Build .status from pod counts; zero counts are left out, as the real API does."""
    spec, metadata = deployment["spec"], deployment["metadata"]
    desired = spec.get("replicas", 1)
    unavailable = max(0, desired - counts.ready)
    complete = counts.updated == desired == counts.replicas == counts.ready
    rs_name = f"{metadata['name']}-{template_hash(spec.get('template'))}"
    previous = (deployment.get("status") or {}).get("conditions") or []
    now = timestamp()
    if counts.ready >= desired - _max_unavailable(deployment, desired):
        available = ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
    else:
        available = (
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    if complete:
        progressing = (
            "True",
            "NewReplicaSetAvailable",
            f'ReplicaSet "{rs_name}" has successfully progressed.',
        )
    else:
        progressing = ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
    status = {"observedGeneration": metadata.get("generation", 1)}
    for field, value in (
        ("replicas", counts.replicas),
        ("updatedReplicas", counts.updated),
        ("readyReplicas", counts.ready),
        ("availableReplicas", counts.ready),
        ("unavailableReplicas", unavailable),
    ):
        if value:
            status[field] = value
    status["conditions"] = [
        _condition(previous, "Available", *available, now),
        _condition(previous, "Progressing", *progressing, now),
    ]
    return status


def _is_ready(pod):
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


class DeploymentController:
    """Runs in a thread; woken by every Deployment or Pod change and by its own timers."""

    def __init__(self, registry, rollout_delay=0.5, pods_from_kubelet=False):
        self.registry = registry
        self.rollout_delay = rollout_delay
        self.pods_from_kubelet = pods_from_kubelet
        self._first_seen = {}  # (uid, template hash) -> monotonic time the template appeared
        self._completed = {}  # uid -> hash of the last template whose rollout finished
        self._wake = threading.Event()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="deployment-controller", daemon=True)
        registry.store.subscribe(self._on_event)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stopped = True
        self._wake.set()
        self._thread.join(timeout=5)

    def _on_event(self, event):
        if event.resource in (DEPLOYMENTS, PODS):
            self._wake.set()

    def _run(self):
        next_deadline = None
        while not self._stopped:
            timeout = None if next_deadline is None else max(0, next_deadline - time.monotonic())
            self._wake.wait(timeout)
            self._wake.clear()
            if not self._stopped:
                next_deadline = self.sync()

    def sync(self):
        """Recompute every Deployment's status; return when the next timer is due, if any."""
        deadlines = []
        with self.registry.store.lock:
            deployments, _ = self.registry.store.list(DEPLOYMENTS)
            for deployment in deployments:
                if self.pods_from_kubelet:
                    counts = self._kubelet_counts(deployment)
                else:
                    counts = self._simulated_counts(deployment, deadlines)
                metadata = deployment["metadata"]
                self.registry.set_status(
                    DEPLOYMENTS,
                    metadata["namespace"],
                    metadata["name"],
                    deployment_status(deployment, counts),
                )
            live = {d["metadata"]["uid"] for d in deployments}
            self._first_seen = {k: v for k, v in self._first_seen.items() if k[0] in live}
            self._completed = {k: v for k, v in self._completed.items() if k in live}
        return min(deadlines, default=None)

    def _simulated_counts(self, deployment, deadlines):
        uid, spec = deployment["metadata"]["uid"], deployment["spec"]
        desired = spec.get("replicas", 1)
        current = template_hash(spec.get("template"))
        if self._completed.get(uid) == current:
            return Counts(desired, desired, desired)
        old = desired if uid in self._completed else 0
        annotations = deployment["metadata"].get("annotations") or {}
        if annotations.get(HOLD_ANNOTATION) == "true":
            self._first_seen.pop((uid, current), None)
            surge = 1 if desired else 0
            return Counts(old + surge, surge, old)
        ready_at = self._first_seen.setdefault((uid, current), time.monotonic())
        ready_at += self.rollout_delay
        if time.monotonic() >= ready_at:
            self._completed[uid] = current
            return Counts(desired, desired, desired)
        deadlines.append(ready_at)
        return Counts(old + desired, desired, old)

    def _kubelet_counts(self, deployment):
        metadata, spec = deployment["metadata"], deployment["spec"]
        current = template_hash(spec.get("template"))
        pods, _ = self.registry.store.list(PODS, metadata["namespace"])
        owned = [
            pod
            for pod in pods
            if match_selector(spec.get("selector"), pod["metadata"].get("labels") or {})
            and any(
                ref.get("uid") == metadata["uid"]
                for ref in pod["metadata"].get("ownerReferences") or []
            )
            and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        ]
        updated = [p for p in owned if p["metadata"]["labels"].get("pod-template-hash") == current]
        return Counts(len(owned), len(updated), sum(1 for p in owned if _is_ready(p)))
