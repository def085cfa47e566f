#!/usr/bin/python
"""Run a release's validation suite against its canary: health, journeys, load, security."""

DOCUMENTATION = r"""
module: canary_validation
short_description: Run the release's validation suite against the canary
description:
  - Runs what the release spec's C(validation) section asks for, aimed at the canary
    through the router's forcing header (C(validation.canary_header) C(always))
    and, for comparison, at stable (C(never)); C(validation.route.canary) and
    C(validation.route.stable) replace that with a cookie or another URL (the canary
    Service's own) per track.
  - Always first the canary's health, a GET of C(validation.health_path) that must
    answer 200.
  - C(validation.journeys), multi-step HTTP journeys (see M(canary_probe)), on the canary
    and, unless C(validation.compare_stable=false), on stable. Only the canary's failures
    fail the suite.
  - C(validation.load), a load test (see M(canary_load)) of C(validation.url) plus
    C(load.path) with C(load.thresholds); C(load.compare_stable) runs the same load on
    stable and reports the latency ratios.
  - C(validation.security), the sections of M(canary_security); the C(headers) check
    defaults to the canary's health path.
  - C(validation.resources), the canary pods' C(cpu) and C(memory) use as a share of their
    limits, from the analysis' Prometheus (cAdvisor and kube-state-metrics), each with a
    C(max) (defaults 0.8 and 0.85, the plan's) and an optional C(query) (a Jinja template
    like the analysis' free queries). Where the metrics are missing the check is skipped
    with a message; a query error fails it.
  - Fails naming every check that failed. Check mode runs the read-only parts
    (GET-only journeys, security checks) and sends no load.
  - Logic in C(module_utils/validation/suite.py).
options:
  release:
    description: The completed release spec (the C(canary_release) fact).
    type: dict
    required: true
  secrets:
    description:
      - The spec's secret fields (the C(canary_secrets) filter); the journeys travel
        here, as their bodies and headers hold credentials.
    type: dict
    default: {}
author:
  - Canary runbooks maintainers
"""

EXAMPLES = r"""
- name: Run the validation suite against the canary
  canary_validation:
    release: "{{ canary_release }}"
    secrets: "{{ canary | canary_secrets }}"
  register: suite
"""

RETURN = r"""
passed:
  description: Whether every canary check passed.
  returned: always
  type: bool
failures:
  description: One reason per failed check, naming the part, the check and what differed.
  returned: always
  type: list
  elements: str
  sample: ["journey 'yyc3': step 3 'content' (GET /api/content/list): status 500, expected 200"]
health:
  description: The health check's result, shaped like a journey's (see M(canary_probe)).
  returned: always
  type: dict
journeys:
  description: One result per journey and target (see M(canary_probe)); no secret values.
  returned: always
  type: list
  elements: dict
load:
  description: The load test report (see M(canary_load)); null when not configured or in check mode.
  returned: always
  type: dict
security:
  description: The security sections' results (see M(canary_security)); null when not configured.
  returned: always
  type: dict
resources:
  description: Per resource, the query, value, max and result (pass, fail or skipped).
  returned: always
  type: dict
summary:
  description: The short form recorded in the ledger with the stage's start.
  returned: always
  type: dict
"""

from ansible.module_utils import secrets
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.validation import suite


def main():
    module = AnsibleModule(
        argument_spec={
            "release": {"type": "dict", "required": True},
            "secrets": secrets.SECRETS_ARGUMENT,
        },
        supports_check_mode=True,
    )
    try:
        release = secrets.merge(module.params["release"], module.params["secrets"])
    except ValueError as err:
        module.fail_json(msg=str(err))
    validation, analysis = release["validation"], release["analysis"]
    errors = suite.problems(validation, analysis)
    if errors:
        module.fail_json(msg="Invalid validation suite: " + "; ".join(errors), errors=errors)
    outcome = suite.run(validation, analysis, check_mode=module.check_mode)
    outcome["summary"] = suite.summary(outcome)
    if not outcome["passed"]:
        module.fail_json(
            msg="The canary failed its validation: " + "; ".join(outcome["failures"]), **outcome
        )
    module.exit_json(changed=False, **outcome)


if __name__ == "__main__":
    main()
