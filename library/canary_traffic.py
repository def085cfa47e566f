#!/usr/bin/python
"""Read or set the share of traffic that goes to the canary."""

DOCUMENTATION = r"""
module: canary_traffic
short_description: Read or set the canary traffic weight
description:
  - Reads the share of requests (0-100) the router sends to the canary, and sets it when
    O(weight) is given.
  - Idempotent. Supports check mode (server-side dry run) and diff mode.
  - Providers live in C(module_utils/traffic/), one file each. C(configmap) writes the weight
    into a ConfigMap key that the application's router reads (the original plan's
    C(traffic-config) / C(canary_percentage)). C(gateway_api) sets an HTTPRoute's backendRefs
    weights, C(ingress_nginx) a canary Ingress's annotations, C(istio) a VirtualService's
    route weights, C(openshift_route) a Route's alternateBackends weights; they also keep the
    forcing header's routes in place. C(replicas) scales the canary Deployment so that its
    share of the pods behind one Service approximates the weight.
options:
  provider:
    description: The traffic provider.
    type: str
    required: true
    choices: [configmap, gateway_api, ingress_nginx, istio, openshift_route, replicas]
  options:
    description:
      - The provider's settings, as the release spec's C(canary.traffic.<provider>) completed
        by M(canary_spec) (the C(canary_release.traffic.options) fact), which fills the stable
        and canary Services from the release. For C(configmap) - C(name) (default
        C(traffic-config)), C(namespace) (default O(namespace)), C(key) (default
        C(canary_percentage)), C(targeting_key) (default C(targeting)) and C(targeting), the
        spec published there as JSON for the application (removed without it), filled from
        C(canary.traffic.targeting). The README lists every provider's options.
    type: dict
    default: {}
  namespace:
    description: The namespace of the traffic object when O(options) does not name one.
    type: str
    required: true
  weight:
    description: The canary weight to set, 0-100. Omit to only read it.
    type: int
  release:
    description:
      - The completed release spec (the C(canary_release) fact set by M(canary_spec)). When
        given, a weight above 0 is only set while the release is in progress and this run
        holds its lock (so a rollback by another operator cannot be undone), and the new
        weight is recorded in the ledger.
    type: dict
  event:
    description: With O(release), more details for the ledger's history entry.
    type: dict
    default: {}
  stage:
    description:
      - With O(release), the stage (1-based) whose weight this is. The ledger then records the
        start of that stage (or its resumption, when it was already baking), even when the
        weight was in force already.
    type: int
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
author:
  - Canary runbooks maintainers
"""

EXAMPLES = r"""
- name: Send 20% of users to the canary as stage 2 of the release
  canary_traffic:
    provider: configmap
    options:
      name: traffic-config
      key: canary_percentage
    namespace: yyc3-short-drama
    weight: 20
    release: "{{ canary_release }}"
    stage: 2

- name: Read the weight in force
  canary_traffic:
    provider: configmap
    namespace: yyc3-short-drama
  register: traffic
"""

RETURN = r"""
previous_weight:
  description: The weight before this task (the current one when only reading).
  returned: success
  type: int
  sample: 5
weight:
  description: The weight after this task.
  returned: success
  type: int
  sample: 20
achieved_weight:
  description:
    - The share the canary gets once the weight is set; the weight itself, except with the
      C(replicas) provider, whose shares are those of whole pods.
  returned: success
  type: int
  sample: 20
target:
  description: The object that carries the weight.
  returned: success
  type: str
  sample: ConfigMap yyc3-short-drama/traffic-config key canary_percentage
diff:
  description: Weight before and after, when it changed.
  returned: changed
  type: dict
lock_lost:
  description: True when the weight was not set because another run holds the release lock.
  returned: failure
  type: bool
"""

from ansible.module_utils import ledger as ledgers
from ansible.module_utils import lock as locks
from ansible.module_utils.cluster import Cluster, Refused, with_auth_options
from ansible.module_utils.ledger import LedgerError, begin_stage, require_active
from ansible.module_utils.lock import LockHeld
from ansible.module_utils.traffic import PROVIDERS, TrafficError, make_provider
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule


def _guard(cluster, release, weight, check_mode):
    """Refuse traffic to a canary whose release ended; renew this run's lock."""
    ledger = ledgers.for_release(cluster, release)
    if weight > 0:
        locks.for_release(cluster, release).renew_if_held()
        if not check_mode:
            require_active(ledger.read())
    return ledger


def _record(ledger, stage, previous, weight, details):
    def record(state):
        if stage:
            event = begin_stage(state, stage, weight, previous)
        else:
            state["weight"] = weight
            event = {"event": "weight_set", "weight": weight, "previous_weight": previous}
        return {**details, **event}

    ledger.update(record)


def main():
    module = AnsibleK8SModule(
        argument_spec=with_auth_options(
            provider={"type": "str", "required": True, "choices": sorted(PROVIDERS)},
            options={"type": "dict", "default": {}},
            namespace={"type": "str", "required": True},
            weight={"type": "int"},
            release={"type": "dict"},
            stage={"type": "int"},
            event={"type": "dict", "default": {}},
        ),
        required_by={"stage": "release"},
        supports_check_mode=True,
    )
    params = module.params
    cluster = Cluster.from_module(module)
    try:
        provider = make_provider(
            cluster, params["provider"], params["options"], params["namespace"]
        )
        if params["weight"] is None:
            current = provider.read_weight()
            if current is None:
                raise TrafficError(f"{provider.describe()} does not exist")
            module.exit_json(
                changed=False,
                previous_weight=current,
                weight=current,
                achieved_weight=current,
                target=provider.describe(),
            )
        ledger = None
        if params["release"]:
            ledger = _guard(cluster, params["release"], params["weight"], module.check_mode)
        # Read before the change: check mode shows the same diff as a real run.
        before, after = provider.preview(params["weight"])
        previous, weight, changed = provider.set_weight(params["weight"])
        achieved = provider.achieved_weight(weight)
        if ledger is not None and (changed or params["stage"]):
            # A coarse router's share is recorded beside the stage's weight.
            details = (
                params["event"]
                if achieved == weight
                else {**params["event"], "achieved_weight": achieved}
            )
            _record(ledger, params["stage"], previous, weight, details)
    except LockHeld as err:
        module.fail_json(msg=str(err), lock_lost=True)
    except (TrafficError, LedgerError, Refused) as err:
        module.fail_json(msg=str(err))
    for warning in provider.warnings:
        module.warn(warning)
    result = {
        "changed": changed,
        "previous_weight": previous,
        "weight": weight,
        "achieved_weight": achieved,
    }
    if changed:
        result["diff"] = {
            "before": before,
            "after": after,
            "before_header": provider.describe(),
            "after_header": provider.describe(),
        }
    module.exit_json(target=provider.describe(), **result)


if __name__ == "__main__":
    main()
