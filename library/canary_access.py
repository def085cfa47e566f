#!/usr/bin/python
"""Check, before anything changes, that this run may do all that its playbook does."""

DOCUMENTATION = r"""
module: canary_access
short_description: Check the permissions a canary playbook needs before it changes anything
description:
  - Asks the API server, with one C(authorization.k8s.io/v1) SelfSubjectAccessReview per
    verb, resource and namespace, whether the identity this run uses may do everything
    the playbook O(phase) does for the release - the ledger and the lock, the canary's
    namespace, Deployment and Service, the stable Deployment, the traffic provider's
    objects, and the PrometheusRule with O(prometheus_rule_namespace).
  - Fails with one message naming every refused permission and the file of C(rbac/) that
    grants it, so that a playbook stops before it takes the lock instead of with a 403
    halfway through. What each playbook needs is the table in C(module_utils/access.py),
    which the unit tests hold C(rbac/*.yaml) to.
  - Reads the canary namespace, as prepare creates it only where it is missing and
    finalize deletes it only when prepare created it. The reads of the spec check
    (M(canary_spec)), which runs first, are not asked again.
  - Changes nothing, so it runs in check mode too. Every authenticated identity may
    create SelfSubjectAccessReviews (the C(system:basic-user) ClusterRole), so it needs
    no permission of its own.
options:
  release:
    description: The completed release spec (the C(canary_release) fact set by M(canary_spec)).
    type: dict
    required: true
  phase:
    description:
      - The playbook about to run. C(promote) includes the rollback of a failed stage,
        C(release) every phase.
    type: str
    required: true
    choices: [finalize, prepare, promote, release, rollback, status, validate]
  prometheus_rule_namespace:
    description:
      - The namespace of the PrometheusRule the run applies (the canary_monitoring role's
        C(canary_monitoring_apply_prometheus_rule)); omit when it applies none.
    type: str
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
author:
  - Canary runbooks maintainers
"""

EXAMPLES = r"""
- name: Check that this run may prepare the release, its PrometheusRule included
  canary_access:
    release: "{{ canary_release }}"
    phase: prepare
    prometheus_rule_namespace: yyc3-short-drama
"""

RETURN = r"""
checked:
  description: The resourceAttributes asked about, one SelfSubjectAccessReview each.
  returned: always
  type: list
  elements: dict
  sample: [{verb: create, group: apps, resource: deployments, namespace: yyc3-short-drama-canary}]
missing:
  description: The refused ones, which the failure message names.
  returned: failure
  type: list
  elements: dict
  sample: [{verb: patch, group: "", resource: configmaps, namespace: yyc3-short-drama}]
"""

from ansible.module_utils.access import (
    PLAYBOOKS,
    AccessError,
    Options,
    attributes,
    field,
    namespace_owner,
    refusal,
)
from ansible.module_utils.cluster import Cluster, with_auth_options
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule


def main():
    module = AnsibleK8SModule(
        argument_spec=with_auth_options(
            release={"type": "dict", "required": True},
            phase={"type": "str", "required": True, "choices": sorted(PLAYBOOKS)},
            prometheus_rule_namespace={"type": "str"},
        ),
        supports_check_mode=True,
    )
    release = module.params["release"]
    cluster = Cluster.from_module(module)
    try:
        canary_namespace = cluster.get("v1", "Namespace", field(release, "canary_namespace"))
        options = Options(
            canary_namespace=namespace_owner(canary_namespace),
            prometheus_rule_namespace=module.params["prometheus_rule_namespace"] or None,
        )
        checked = attributes(module.params["phase"], release, options)
    except AccessError as err:
        module.fail_json(msg=str(err), checked=[])
    missing = [asked for asked in checked if not cluster.allowed(asked)]
    if missing:
        module.fail_json(msg=refusal(missing), checked=checked, missing=missing)
    module.exit_json(changed=False, checked=checked)


if __name__ == "__main__":
    main()
