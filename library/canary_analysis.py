#!/usr/bin/python
"""Ansible module canary_analysis: one measurement of a canary's checks in Prometheus."""

DOCUMENTATION = r"""
---
module: canary_analysis
short_description: Measure a canary once against Prometheus
description:
  - Runs every configured check once against the Prometheus HTTP API, at one instant,
    and judges each value against its bounds.
  - Fails closed. An empty result, C(NaN), an unreachable or unresponsive Prometheus
    and a bad query are never a pass; they are reported as C(no_data) or C(error).
  - The module only reads. It does not fail on a C(fail) verdict, the caller decides
    what a failed measurement costs. It fails for invalid arguments, naming the field.
options:
  prometheus:
    description: Where and how to reach Prometheus.
    type: dict
    required: true
    suboptions:
      url:
        description: Base URL of Prometheus (http or https), path prefix included.
        type: str
        required: true
      timeout:
        description:
          - Time allowed per query, in seconds or as a duration such as C(5s).
          - Prometheus is asked to stop evaluating after it, and the client stops waiting.
          - Once a query times out or Prometheus cannot be reached, the remaining checks
            are reported as C(error) without being queried.
        type: raw
        default: 5
      validate_certs:
        description: Verify the TLS certificate of an https URL.
        type: bool
        default: true
  window:
    description: PromQL range of the built-in checks, a Prometheus duration such as C(1m) or C(30s).
    type: str
    default: 1m
  selector:
    description:
      - Label matchers that select the canary's series, without braces,
        for example C(namespace="shop-canary",track="canary").
      - Used by the built-in check types; C(promql) checks carry their own matchers.
    type: str
    required: true
  metrics:
    description: Metric names used by the built-in check types.
    type: dict
    suboptions:
      requests:
        description: Request counter with a C(code) label (error_rate).
        type: str
        default: http_requests_total
      duration:
        description: Request duration histogram in seconds, without the C(_bucket) suffix (latency).
        type: str
        default: http_request_duration_seconds
      up:
        description: Scrape health gauge of the canary's targets (availability).
        type: str
        default: up
  checks:
    description:
      - The checks to run. Names must be unique; every check needs C(min), C(max) or both.
      - Bounds are inclusive.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the check, used in results and reasons.
        type: str
        required: true
      type:
        description:
          - C(error_rate), the share of responses with a 5xx code.
          - C(latency), a quantile of request duration in seconds.
          - C(availability), the share of the canary's scrape targets that were up.
          - C(promql), the value of O(checks[].query).
        type: str
        required: true
        choices: [availability, error_rate, latency, promql]
      quantile:
        description: Quantile strictly between 0 and 1. Required for, and only for, type C(latency).
        type: float
      query:
        description: PromQL returning one series or a scalar. Required for, and only for, type C(promql).
        type: str
      min:
        description: Lowest passing value.
        type: float
      max:
        description: Highest passing value.
        type: float
  time:
    description:
      - Unix time to evaluate the checks at, for deterministic replays.
      - Defaults to the current time of the host running the module.
    type: float
notes:
  - Supports check mode; the module only reads.
seealso:
  - name: Prometheus HTTP API
    description: Instant queries.
    link: https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries
author:
  - YYC3 platform team
"""

EXAMPLES = r"""
- name: Measure the canary once
  canary_analysis:
    prometheus:
      url: http://127.0.0.1:19090
    window: 1m
    selector: 'namespace="yyc3-short-drama-canary",track="canary"'
    checks:
      - {name: error_rate, type: error_rate, max: 0.01}
      - {name: latency_p99, type: latency, quantile: 0.99, max: 2.0}
      - {name: availability, type: availability, min: 0.99}
      - name: ai_generate_errors
        type: promql
        query: 'sum(rate(http_requests_total{track="canary",path="/api/ai/generate",code=~"5.."}[1m]))'
        max: 0.5
  register: measurement

- name: Stop when the canary is unhealthy
  ansible.builtin.assert:
    that: measurement.verdict == 'pass'
    fail_msg: "{{ measurement.checks | map(attribute='reason') | join('; ') }}"
"""

RETURN = r"""
verdict:
  description: C(pass) when every check passed, otherwise C(fail).
  returned: success
  type: str
  sample: fail
failed_check_names:
  description:
    - Names of the checks that did not pass (failed, no data or error).
    - Called C(failed) in the Python API; renamed because C(failed) is the task status,
      and not C(failed_checks), which is the release's count of failed measurements.
  returned: success
  type: list
  elements: str
  sample: [error_rate]
time:
  description: Unix time the checks were evaluated at.
  returned: success
  type: float
  sample: 1795685376.0
checks:
  description: One entry per check, in the order given.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Name of the check.
      type: str
      sample: error_rate
    type:
      description: Type of the check.
      type: str
      sample: error_rate
    query:
      description: The PromQL that was evaluated.
      type: str
      sample: (sum(rate(http_requests_total{track="canary",code=~"5.."}[1m])) or vector(0)) / sum(rate(http_requests_total{track="canary"}[1m]))
    value:
      description:
        - The measured value.
        - Null when there is no finite number (empty result, NaN, infinity, query error); the reason says which.
      type: float
      sample: 0.0312
    bound:
      description: The bounds the value was judged against; null where unset.
      type: dict
      sample: {min: null, max: 0.01}
    result:
      description: C(pass), C(fail), C(no_data) or C(error).
      type: str
      sample: fail
    reason:
      description: Why, in words.
      type: str
      sample: error_rate = 0.0312 > max 0.01
"""

from ansible.module_utils.analysis.measure import measure
from ansible.module_utils.analysis.spec import (
    ANALYSIS_ARGUMENT_SPEC,
    AnalysisSpecError,
    validate_analysis,
)
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec={**ANALYSIS_ARGUMENT_SPEC, "time": {"type": "float"}},
        supports_check_mode=True,
    )
    analysis = {key: module.params[key] for key in ANALYSIS_ARGUMENT_SPEC}
    try:
        analysis = validate_analysis(analysis, prefix="")
    except AnalysisSpecError as exc:
        module.fail_json(msg=f"invalid analysis: {exc}", errors=exc.errors)
    measurement = measure(analysis, at=module.params["time"])
    # ``failed`` is Ansible's task-failure flag: a non-empty list would fail the task.
    measurement["failed_check_names"] = measurement.pop("failed")
    module.exit_json(changed=False, **measurement)


if __name__ == "__main__":
    main()
