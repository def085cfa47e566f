#!/usr/bin/python
"""Set the image or replicas of a release's Deployment and wait until its rollout is complete."""

DOCUMENTATION = r"""
module: canary_rollout
short_description: Roll out a release's Deployment and wait until every replica runs it
description:
  - Acts on the release's stable Deployment (C(workload.name) in C(namespace)) or on its
    canary (C(workload.canary_name) in C(canary_namespace)). Sets the image of the release's
    container (C(workload.container), else the first) and the replica count when they are
    given, in one strategic merge patch, then waits until the rollout is complete, for at
    most the release's C(rollout_timeout).
  - Complete means what C(kubectl rollout status) means, not kubernetes.core's readiness -
    the controller has observed the latest spec (C(observedGeneration) >= C(generation)),
    C(updatedReplicas), C(replicas) and C(availableReplicas) all equal C(spec.replicas), no
    replica is terminating (where the cluster reports C(terminatingReplicas)), and every pod
    the Deployment selects that is still running runs the container's image.
  - Fails at once, with the Deployment's own condition message, when its C(Progressing)
    condition says C(ProgressDeadlineExceeded); fails after C(rollout_timeout) naming the
    Deployment and its counts. Both set C(not_ready).
  - Supports check mode and diff mode. In check mode a change is a server-side dry run
    (C(dryRun=All)), so the API server's validation and admission answer, and it is not
    waited for; with nothing to change the rollout in force is checked as in a real run.
options:
  release:
    description: The completed release spec (the C(canary_release) fact set by M(canary_spec)).
    type: dict
    required: true
  track:
    description: The Deployment to roll out - the release's C(stable) one or its C(canary).
    type: str
    required: true
    choices: [stable, canary]
  image:
    description: The image to give the release's container. Omitted - the one it has.
    type: str
  replicas:
    description: The replica count to set, 0 or more. Omitted - the one it has.
    type: int
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
author:
  - Canary runbooks maintainers
"""

EXAMPLES = r"""
- name: Move stable to the canary's image and wait until every replica runs it
  canary_rollout:
    release: "{{ canary_release }}"
    track: stable
    image: yyc3/short-drama-frontend:1.1.0

- name: Scale the canary for stage 3 and wait until it is ready
  canary_rollout:
    release: "{{ canary_release }}"
    track: canary
    replicas: 2
"""

RETURN = r"""
deployment:
  description: The Deployment, as namespace/name.
  returned: always
  type: str
  sample: yyc3-short-drama/frontend-deployment
image:
  description: The image of the release's container after this task.
  returned: when the Deployment exists
  type: str
replicas:
  description: The Deployment's C(spec.replicas) after this task.
  returned: when the Deployment exists
  type: int
state:
  description: The counts the verdict rests on (the last ones read when the wait ended).
  returned: success, and when C(rollout_timeout) ran out
  type: str
  sample: 2 of 2 replicas updated, 2 available, observedGeneration 4 of 4
waited:
  description: Seconds spent waiting for the rollout.
  returned: when the module waited
  type: float
diff:
  description: The container's image and the replica count, before and after.
  returned: changed
  type: dict
not_ready:
  description:
    - True when the module failed because the rollout did not complete (its progress
      deadline was exceeded, or C(rollout_timeout) ran out), not because of bad input or
      a refused write.
  returned: failure
  type: bool
"""

from ansible.module_utils import rollout
from ansible.module_utils.cluster import Cluster, Refused, with_auth_options
from ansible.module_utils.rollout import RolloutFailed
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule


def _target(release, track):
    """``(namespace, name)`` of the track's Deployment."""
    if track == "stable":
        return release["namespace"], release["workload"]["name"]
    return release["canary_namespace"], release["workload"]["canary_name"]


def main():
    module = AnsibleK8SModule(
        argument_spec=with_auth_options(
            release={"type": "dict", "required": True},
            track={"type": "str", "required": True, "choices": ["stable", "canary"]},
            image={"type": "str"},
            replicas={"type": "int"},
        ),
        supports_check_mode=True,
    )
    params = module.params
    release = params["release"]
    if params["image"] == "":
        module.fail_json(msg="image: must not be empty; omit it to keep the Deployment's image")
    if params["replicas"] is not None and params["replicas"] < 0:
        module.fail_json(msg=f"replicas: must be 0 or more, got {params['replicas']}")
    namespace, name = _target(release, params["track"])
    result = {"changed": False, "deployment": f"{namespace}/{name}"}
    title = f"deployment {result['deployment']}"
    container = release["workload"].get("container")
    cluster = Cluster.from_module(module)
    deployment = cluster.get("apps/v1", "Deployment", name, namespace)
    if deployment is None:
        module.fail_json(msg=f"{title} does not exist", **result)
    try:
        patch, before, after = rollout.change(
            deployment, container, params["image"], params["replicas"]
        )
    except KeyError as err:
        module.fail_json(msg=f"canary.workload.container: {title} has {err.args[0]}", **result)
    result.update(after)
    if patch is not None:
        header = f"Deployment {result['deployment']}"
        result["changed"] = True
        result["diff"] = {
            "before": before,
            "after": after,
            "before_header": header,
            "after_header": header,
        }
        try:
            deployment = cluster.strategic_merge_patch(
                "apps/v1", "Deployment", name, namespace, patch
            )
        except Refused as err:
            module.fail_json(msg=f"{title} was not changed: {err}", **result)
    if module.check_mode and patch is not None:
        # The change was a dry run: no rollout started, none to wait for.
        module.exit_json(state=rollout.describe(deployment), **result)

    selector = rollout.label_selector(deployment["spec"]["selector"])

    def read():
        current = cluster.get("apps/v1", "Deployment", name, namespace)
        if current is None:
            raise RolloutFailed("was deleted during its rollout")
        pods = cluster.list("v1", "Pod", namespace, label_selector=selector)
        return rollout.progress(current, pods, container)

    try:
        done, state, waited = rollout.wait(read, release["rollout_timeout_seconds"])
    except RolloutFailed as err:
        module.fail_json(msg=f"{title} {err}", not_ready=True, **result)
    result.update(state=state, waited=round(waited, 1))
    if not done:
        module.fail_json(
            msg=(
                f"{title} did not finish its rollout within {release['rollout_timeout']} "
                f"(rollout_timeout): {state}"
            ),
            not_ready=True,
            **result,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
