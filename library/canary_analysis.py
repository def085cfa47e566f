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
  - Each check's result has an C(effect) under its C(severity) and the O(no_data) policy;
    the verdict is the worst effect. Every check's C(reason) says both.
  - With O(baseline), also compares the canary with the stable track over
    O(baseline_range) before O(time) (Mann-Whitney U per metric, Kayenta's scoring).
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
      ca_path:
        description: PEM file of the CA certificates that signed Prometheus' certificate.
        type: path
      client_cert:
        description: PEM client certificate for mutual TLS (may hold the key too).
        type: path
      client_key:
        description: PEM private key of O(prometheus.client_cert).
        type: path
      bearer_token:
        description:
          - "Sent as C(Authorization: Bearer <token>). Not logged."
          - Exclusive with O(prometheus.username) and O(prometheus.password).
        type: str
      username:
        description: Basic auth user; requires O(prometheus.password).
        type: str
      password:
        description: Basic auth password. Not logged.
        type: str
  window:
    description: PromQL range of the built-in checks, a Prometheus duration such as C(1m) or C(30s).
    type: str
    default: 1m
  selector:
    description:
      - Label matchers that select the canary's series, without braces,
        for example C(namespace="shop-canary",track="canary").
      - Used by the built-in check types, and given to C(promql) queries as C(selector).
    type: str
    required: true
  variables:
    description:
      - Extra variables for C(promql) queries, which are Jinja templates.
      - C(track), C(selector) and C(window) are always set and cannot be given here.
        The release spec adds C(service), C(namespace) and C(canary_namespace).
      - Keep the braces away from Ansible's own templating with C(!unsafe) in the inventory.
    type: dict
    default: {}
  no_data:
    description:
      - What a check without data (empty result, C(NaN), or fewer than O(min_requests)
        requests in the window) costs.
      - C(fail), the check failed with its severity; C(hold), promotion is held;
        C(ignore), nothing (recorded only).
    type: str
    default: fail
    choices: [fail, hold, ignore]
  min_requests:
    description:
      - Requests the canary must have served in the window for traffic-based checks
        (C(error_rate), C(latency), C(promql)) to count; below it they have no data.
      - C(0) turns the request count off.
    type: int
    default: 0
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
      severity:
        description:
          - C(critical), a failure counts toward the release's C(failure_limit) (rollback);
            C(important), a failure holds promotion; C(general), recorded only.
        type: str
        default: critical
        choices: [critical, important, general]
  baseline:
    description:
      - Compare canary and stable over a range (Kayenta's judge) instead of, or as well as,
        the absolute bounds of O(checks).
    type: dict
    suboptions:
      selector:
        description: Label matchers of the stable track, without braces.
        type: str
      confidence:
        description: Confidence level of the Mann-Whitney U test.
        type: float
        default: 0.98
      tolerance:
        description: Allowed relative shift before a difference counts (Kayenta's tolerance).
        type: float
        default: 0.25
      min_samples:
        description: Fewest samples per track for a metric to be judged; fewer is no data.
        type: int
        default: 50
      step:
        description: Seconds (or a duration) between samples of the range queries.
        type: raw
      pass_score:
        description: Lowest score (0-100) that passes.
        type: float
        default: 95
      marginal_score:
        description: Lowest score that holds instead of failing.
        type: float
        default: 75
      metrics:
        description: The metrics to compare; each is a check without bounds.
        type: list
        elements: dict
        required: true
        suboptions:
          name:
            description: Name of the metric.
            type: str
            required: true
          type:
            description: As O(checks[].type).
            type: str
            required: true
            choices: [availability, error_rate, latency, promql]
          quantile:
            description: For type C(latency).
            type: float
          query:
            description: For type C(promql); a Jinja template rendered per track.
            type: str
          direction:
            description: Which change is bad; a change the other way passes.
            type: str
            default: increase
            choices: [increase, decrease, either]
          effect_size:
            description: Smallest ratio of means that counts as a change (Kayenta's effect size).
            type: float
          critical:
            description: A failure of this metric sets the score to 0.
            type: bool
            default: false
  baseline_range:
    description: How far back from O(time) the baseline comparison looks.
    type: raw
    default: 1h
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
  description:
    - The worst effect of any check, C(fail), C(error), C(hold), else C(pass).
  returned: success
  type: str
  sample: fail
reason:
  description: Why the verdict, from the reasons of the checks that set it.
  returned: success
  type: str
  sample: "error_rate = 0.0312 > max 0.01 (critical: counts toward failure_limit)"
requests:
  description: Requests the canary served in the window, when O(min_requests) is set.
  returned: success
  type: float
baseline:
  description: The baseline comparison (verdict, score, reason, metrics) when O(baseline) is set.
  returned: when baseline is set
  type: dict
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
    severity:
      description: The check's severity.
      type: str
      sample: critical
    effect:
      description: What the result costs, C(pass), C(fail), C(hold), C(error), C(recorded) or C(ignored).
      type: str
      sample: fail
    reason:
      description: Why, in words.
      type: str
      sample: error_rate = 0.0312 > max 0.01
"""

import time

from ansible.module_utils.analysis.compare import compare
from ansible.module_utils.analysis.measure import measure
from ansible.module_utils.analysis.spec import (
    ANALYSIS_ARGUMENT_SPEC,
    AnalysisSpecError,
    validate_analysis,
)
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.durations import DurationError, parse_duration


def main():
    module = AnsibleModule(
        argument_spec={
            **ANALYSIS_ARGUMENT_SPEC,
            "baseline_range": {"type": "raw", "default": "1h"},
            "time": {"type": "float"},
        },
        supports_check_mode=True,
    )
    analysis = {key: module.params[key] for key in ANALYSIS_ARGUMENT_SPEC}
    try:
        analysis = validate_analysis(analysis, prefix="")
        seconds = parse_duration(module.params["baseline_range"])
    except AnalysisSpecError as exc:
        module.fail_json(msg=f"invalid analysis: {exc}", errors=exc.errors)
    except DurationError as exc:
        module.fail_json(msg=f"baseline_range: {exc}")
    at = time.time() if module.params["time"] is None else module.params["time"]
    measurement = measure(analysis, at=at)
    if analysis["baseline"]:
        measurement["baseline"] = compare(analysis, at - seconds, at)
    # ``failed`` is Ansible's task-failure flag: a non-empty list would fail the task.
    measurement["failed_check_names"] = measurement.pop("failed")
    module.exit_json(changed=False, **measurement)


if __name__ == "__main__":
    main()
