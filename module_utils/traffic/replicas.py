"""Traffic without a router: the canary's share is its share of the pods.

When one Service selects the pods of both tracks, kube-proxy spreads its connections
over the ready pods evenly, so the canary's share is about ``c / (c + s)`` for ``c``
canary and ``s`` stable replicas. The provider leaves stable as it is (it keeps
serving at full size, so a rollback, which scales the canary to 0, never waits for
stable pods to start) and scales the canary Deployment to the count whose share is
nearest the weight, up to ``max_replicas``. Shares are coarse (with 4 stable pods:
20%, 33%, 43%, 50%, ...) and 100% is out of reach while stable runs: the spec check
refuses every stage whose nearest share is more than ``tolerance`` points away, and
the module reports the share it achieved. The share counts connections, not users,
and follows the pods' readiness; it is computed from the Deployments' replicas.
"""

import math
from typing import ClassVar

from ansible.module_utils.traffic.base import (
    TrafficError,
    TrafficProvider,
    routing_problems,
    share,
    weight_problems,
)
from ansible.module_utils.workload import TRACK_LABEL


def canary_replicas(weight, stable, most):
    """The canary replicas (0..most) whose share beside ``stable`` pods is nearest ``weight``."""
    if weight == 0 or most < 1:
        return 0
    if stable == 0 or weight == 100:
        return 1 if stable == 0 else most
    ideal = weight * stable / (100 - weight)
    candidates = {min(most, max(1, bound)) for bound in (math.floor(ideal), math.ceil(ideal))}
    return min(candidates, key=lambda count: (abs(100 * count / (count + stable) - weight), count))


class ReplicasTraffic(TrafficProvider):
    name = "replicas"
    OPTIONS: ClassVar[dict] = {
        # The stable Deployment (in namespace); default: canary.workload.name.
        "deployment": {"type": "str"},
        "namespace": {"type": "str"},
        # The canary Deployment; default: the one prepare.yml creates.
        "canary_deployment": {"type": "str"},
        "canary_namespace": {"type": "str"},
        # The Service that must select both tracks; default: canary.workload.service.
        "service": {"type": "str"},
        # The most canary replicas; default: as many as stable runs (so 50% at most).
        "max_replicas": {"type": "int"},
        # How far (percentage points) the share may be from a stage's weight.
        "tolerance": {"type": "int", "default": 5},
    }
    NEEDS = ("deployment", "canary_deployment", "canary_namespace", "service")

    @classmethod
    def release_defaults(cls, release):
        workload = release["workload"]
        return {
            "deployment": workload["name"],
            "canary_deployment": workload["canary_name"],
            "canary_namespace": release["canary_namespace"],
            "service": workload["service"],
        }

    @classmethod
    def unsupported_kinds(cls, kinds):
        reason = (
            "without a router the Service picks a pod for each connection, so only the "
            "replica ratio splits traffic"
        )
        return {kind: reason for kind in kinds if kind != "hash"}

    def describe(self):
        return (
            f"replicas of Deployment {self.options['canary_namespace']}/"
            f"{self.options['canary_deployment']} beside {self.namespace}/"
            f"{self.options['deployment']}"
        )

    def missing(self):
        return f"Deployment {self.namespace}/{self.options['deployment']} does not exist"

    def _get(self, name, namespace):
        return self.cluster.get("apps/v1", "Deployment", name, namespace)

    def _stable(self):
        return self._get(self.options["deployment"], self.namespace)

    def _canary(self):
        return self._get(self.options["canary_deployment"], self.options["canary_namespace"])

    @staticmethod
    def _replicas(deployment):
        return (deployment.get("spec") or {}).get("replicas", 1)

    def _plan(self, weight, stable):
        """``(canary replicas, exact share)`` for ``weight`` beside ``stable`` pods."""
        most = self.options.get("max_replicas")
        count = canary_replicas(weight, stable, stable if most is None else most)
        return count, (100 * count / (count + stable) if count + stable else 0)

    def read_weight(self):
        stable = self._stable()
        if stable is None:
            return None
        canary = self._canary()
        return share(self._replicas(canary) if canary else 0, self._replicas(stable))

    def achieved_weight(self, weight):
        stable = self._stable()
        if stable is None:
            raise TrafficError(self.missing())
        return int(self._plan(weight, self._replicas(stable))[1] + 0.5)

    def apply_weight(self, previous, weight):
        return self.write_weight(weight)

    def write_weight(self, weight):
        """Scale the canary to the weight's replicas when it is not there; return whether it was."""
        stable = self._stable()
        if stable is None:
            raise TrafficError(self.missing())
        stable_replicas = self._replicas(stable)
        count, exact = self._plan(weight, stable_replicas)
        if abs(exact - weight) > self.options["tolerance"]:
            raise TrafficError(self._too_far(weight, count, exact, stable_replicas))
        canary = self._canary()
        if canary is None:
            if count == 0:
                return False
            raise TrafficError(
                f"Deployment {self.options['canary_namespace']}/"
                f"{self.options['canary_deployment']} does not exist (prepare.yml creates it)"
            )
        if self._replicas(canary) == count:
            return False
        self.cluster.merge_patch(
            "apps/v1",
            "Deployment",
            self.options["canary_deployment"],
            self.options["canary_namespace"],
            {"spec": {"replicas": count}},
        )
        return True

    def _too_far(self, weight, count, exact, stable_replicas):
        return (
            f"the replicas provider gets {exact:.1f}% at best for {weight}% (canary replicas "
            f"{count} beside stable's {stable_replicas}, max_replicas "
            f"{self.options.get('max_replicas') or stable_replicas}), more than the tolerance of "
            f"{self.options['tolerance']} points (canary.traffic.replicas.tolerance)"
        )

    # --- the spec check -------------------------------------------------------------------

    def problems(self, spec):
        field = f"canary.traffic.{self.name}"
        errors = [*routing_problems(spec, self.name), *weight_problems(spec, self.name)]
        if self.options["canary_namespace"] != self.namespace:
            errors.append(
                f"canary.canary_namespace: with the replicas provider one Service selects the "
                f"pods of both tracks, and a Service selects pods of its own namespace "
                f"({self.namespace}) only; release the canary into {self.namespace}"
            )
        most = self.options.get("max_replicas")
        if most is not None and most < 1:
            errors.append(f"{field}.max_replicas: must be at least 1, got {most}")
        if self.options["tolerance"] < 0:
            errors.append(f"{field}.tolerance: must be 0 or more, got {self.options['tolerance']}")
        stable = self._stable()
        if stable is None:
            return [*errors, f"{field}.deployment: {self.missing()}"]
        errors.extend(self._selector_problems(stable))
        if errors:
            return errors
        stable_replicas = self._replicas(stable)
        for index, stage in enumerate(spec.get("stages") or []):
            weight = stage["weight"]
            count, exact = self._plan(weight, stable_replicas)
            if abs(exact - weight) > self.options["tolerance"]:
                errors.append(
                    f"canary.stages[{index}].weight: "
                    f"{self._too_far(weight, count, exact, stable_replicas)}"
                )
            elif stage.get("replicas") != count:
                errors.append(
                    f"canary.stages[{index}].replicas: with the replicas provider the canary's "
                    f"replicas are its share: {weight}% needs {count} beside stable's "
                    f"{stable_replicas} ({exact:.1f}%), got {stage.get('replicas')}"
                )
        return errors

    def _selector_problems(self, stable):
        """The Service must select the canary's pods: stable's labels with track=canary."""
        name = self.options["service"]
        service = self.cluster.get("v1", "Service", name, self.namespace)
        if service is None:
            return [
                f"canary.traffic.{self.name}.service: Service {self.namespace}/{name} does not exist"
            ]
        labels = {
            **((stable["spec"].get("template") or {}).get("metadata") or {}).get("labels", {}),
            TRACK_LABEL: "canary",
        }
        selector = (service.get("spec") or {}).get("selector") or {}
        unmatched = {key: value for key, value in selector.items() if labels.get(key) != value}
        if not unmatched:
            return []
        return [
            f"canary.traffic.{self.name}.service: Service {self.namespace}/{name} selects "
            f"{', '.join(f'{k}={v}' for k, v in sorted(unmatched.items()))}, which the canary's "
            f"pods (stable's labels with {TRACK_LABEL}=canary) do not carry; with the replicas "
            "provider one Service selects the pods of both tracks"
        ]
