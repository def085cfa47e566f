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
    C(traffic-config) / C(canary_percentage)).
options:
  provider:
    description: The traffic provider.
    type: str
    required: true
    choices: [configmap]
  options:
    description:
      - The provider's settings. For C(configmap) - C(name) (default C(traffic-config)),
        C(namespace) (default O(namespace)) and C(key) (default C(canary_percentage)).
    type: dict
    default: {}
  namespace:
    description: The namespace of the traffic object when O(options) does not name one.
    type: str
    required: true
  weight:
    description: The canary weight to set, 0-100. Omit to only read it.
    type: int
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
author:
  - Canary runbooks maintainers
"""

EXAMPLES = r"""
- name: Send 20% of users to the canary
  canary_traffic:
    provider: configmap
    options:
      name: traffic-config
      key: canary_percentage
    namespace: yyc3-short-drama
    weight: 20

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
target:
  description: The object that carries the weight.
  returned: success
  type: str
  sample: ConfigMap yyc3-short-drama/traffic-config key canary_percentage
diff:
  description: Weight before and after, when it changed.
  returned: changed
  type: dict
"""

from ansible.module_utils.cluster import Cluster, with_auth_options
from ansible.module_utils.traffic import PROVIDERS, TrafficError, make_provider
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule


def main():
    module = AnsibleK8SModule(
        argument_spec=with_auth_options(
            provider={"type": "str", "required": True, "choices": sorted(PROVIDERS)},
            options={"type": "dict", "default": {}},
            namespace={"type": "str", "required": True},
            weight={"type": "int"},
        ),
        supports_check_mode=True,
    )
    params = module.params
    provider = make_provider(
        Cluster.from_module(module), params["provider"], params["options"], params["namespace"]
    )
    try:
        if params["weight"] is None:
            current = provider.read_weight()
            if current is None:
                raise TrafficError(f"{provider.describe()} does not exist")
            module.exit_json(
                changed=False, previous_weight=current, weight=current, target=provider.describe()
            )
        previous, weight, changed = provider.set_weight(params["weight"])
    except TrafficError as err:
        module.fail_json(msg=str(err))
    result = {"changed": changed, "previous_weight": previous, "weight": weight}
    if changed:
        result["diff"] = {
            "before": {"weight": previous},
            "after": {"weight": weight},
            "before_header": provider.describe(),
            "after_header": provider.describe(),
        }
    module.exit_json(target=provider.describe(), **result)


if __name__ == "__main__":
    main()
