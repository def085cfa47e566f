#!/usr/bin/python
"""Validate a release spec and return it completed with its defaults."""

DOCUMENTATION = r"""
module: canary_spec
short_description: Validate a canary release spec before anything changes
description:
  - Checks the release spec of one service (the C(canary) variable tree in C(group_vars)) and
    returns it completed with its defaults as the fact C(canary_release).
  - Types, choices, required fields and unknown keys are checked with Ansible's argument spec
    validator against C(RELEASE_SPEC) in C(module_utils/spec.py); ranges and relations (weights between 0 and 100 and strictly increasing, non-negative
    durations, well-formed URLs, C(failure_limit) of at least 1) by the module.
  - Unless O(check_cluster=false), also checks that the namespace, the stable Deployment and
    Service and the traffic object exist. It only reads the cluster.
  - Every error names its field, for example C(canary.stages[2].weight).
options:
  spec:
    description:
      - The release spec. Its fields are documented in the README, section "The release spec".
      - Pass it through the C(canary_public_spec) filter, which leaves out the secret fields
        (test credentials, monitoring credentials, notification URLs), so that no secret
        reaches a module's arguments, the C(canary_release) fact or the ledger.
    type: dict
    required: true
  secrets:
    description:
      - The secret fields by dotted path (the C(canary_secrets) filter), validated with the
        spec and left out of the C(canary_release) fact.
    type: dict
    default: {}
  image:
    description: The canary image; overrides O(spec.image) when set (C(-e canary_image=...)).
    type: str
  check_cluster:
    description: Also check that the objects the spec names exist in the cluster.
    type: bool
    default: true
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
author:
  - Canary runbooks maintainers
"""

EXAMPLES = r"""
- name: Validate the release spec
  canary_spec:
    spec: "{{ canary | canary_public_spec }}"
    secrets: "{{ canary | canary_secrets }}"
    image: "{{ canary_image | default(omit) }}"
"""

RETURN = r"""
ansible_facts:
  description: The completed spec as C(canary_release).
  returned: success
  type: dict
  contains:
    canary_release:
      description: The spec with every default filled in and durations in seconds.
      type: dict
errors:
  description: Every problem found, each naming its field.
  returned: failure
  type: list
  elements: str
  sample: ["canary.stages[1].weight must be between 0 and 100, got 120"]
"""

from ansible.module_utils import secrets
from ansible.module_utils.cluster import Cluster, with_auth_options
from ansible.module_utils.spec import cluster_problems, validate_release
from ansible.module_utils.traffic import TrafficError, make_provider
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule


def main():
    module = AnsibleK8SModule(
        argument_spec=with_auth_options(
            spec={"type": "dict", "required": True},
            secrets=secrets.SECRETS_ARGUMENT,
            image={"type": "str"},
            check_cluster={"type": "bool", "default": True},
        ),
        supports_check_mode=True,
    )
    try:
        raw = secrets.merge(module.params["spec"], module.params["secrets"])
    except ValueError as err:
        module.fail_json(msg=str(err))
    spec, errors = validate_release(raw, module.params["image"])
    if not errors and module.params["check_cluster"]:
        cluster = Cluster.from_module(module)
        try:
            provider = make_provider(
                cluster, spec["traffic"]["provider"], spec["traffic"]["options"], spec["namespace"]
            )
        except TrafficError as err:
            module.fail_json(msg=f"Invalid release spec: canary.traffic: {err}")
        errors = cluster_problems(cluster, spec, provider)
    if errors:
        module.fail_json(msg="Invalid release spec: " + "; ".join(errors), errors=errors)
    module.exit_json(changed=False, ansible_facts={"canary_release": secrets.split(spec)[0]})


if __name__ == "__main__":
    main()
