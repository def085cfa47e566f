#!/usr/bin/python
"""Ansible module canary_load: a bounded HTTP load test of the canary, judged by thresholds."""

DOCUMENTATION = r"""
---
module: canary_load
short_description: Load-test a URL with a bounded number of requests and judge the result
description:
  - Sends O(requests) requests, or requests for O(duration) (whichever ends first when
    both are set), from O(concurrency) workers, optionally paced to O(rate) requests per
    second, and reports errors, throughput and exact latency percentiles.
  - The built-in generator needs no external binary. Each worker keeps one keep-alive
    connection and reopens it after an error. Failed requests are not retried.
  - An error is an answer outside 2xx and 3xx, or a request that got no answer
    (refused, reset, timed out, TLS failure); the report counts them by status or kind.
  - Fails the task when a threshold is crossed, naming the metric, its value and the bound.
  - With O(compare), the same load is sent to a second URL (usually stable) afterwards,
    and the canary/stable ratios of p95 and p99 are returned.
options:
  url:
    description: The URL to load (http or https).
    type: str
    required: true
  method:
    description: HTTP method.
    type: str
    default: GET
  headers:
    description: Request headers, for example C(X-Canary) set to C(always) to force the canary.
    type: dict
    default: {}
  body:
    description: Request body, sent as given (set C(Content-Type) in O(headers)).
    type: str
  requests:
    description: Total requests to send. At least one of O(requests) and O(duration) is required.
    type: int
  duration:
    description: How long to send, in seconds or as a duration such as C(30s).
    type: raw
  concurrency:
    description: Workers sending at once, each with its own connection.
    type: int
    default: 10
  rate:
    description:
      - Requests per second across all workers, evenly paced. Unset means as fast as
        the workers go.
      - Not supported with O(tool=ab) or O(tool=wrk); with O(tool=hey) each worker
        gets an equal share.
    type: float
  timeout:
    description: Time allowed per request, in seconds or as a duration.
    type: raw
    default: 10
  validate_certs:
    description:
      - Verify the TLS certificate of an https URL.
      - C(ab), C(hey) and C(wrk) never verify, so with them an https URL needs this set
        to false.
    type: bool
    default: true
  ca_path:
    description: PEM file of the CA certificates that signed the server's certificate.
    type: path
  tool:
    description:
      - C(builtin), the module's own generator.
      - C(ab), ApacheBench, when installed; it opens a connection per request, its
        latencies have whole-millisecond resolution and it counts 3xx answers as errors.
      - C(hey), when installed; keep-alive workers, every answered request's time. It
        needs O(requests), a multiple of O(concurrency), and no O(duration), because its
        per-request output leaves out the requests that got no answer, which are counted
        as the difference.
      - C(wrk), when installed; keep-alive connections for O(duration) (no O(requests),
        no O(rate)), latencies at microsecond resolution, answers of 400 and above
        counted together as C(status_400_or_more).
      - Options a tool cannot honour are refused before anything is sent.
    type: str
    default: builtin
    choices: [builtin, ab, wrk, hey]
  thresholds:
    description: Bounds on the report of O(url); each one crossed is a failure. Bounds are inclusive.
    type: dict
    default: {}
    suboptions:
      max_error_ratio:
        description: Highest passing share of errors among requests sent (0 to 1).
        type: float
      max_p95:
        description: Highest passing 95th percentile latency, in seconds.
        type: float
      max_p99:
        description: Highest passing 99th percentile latency, in seconds.
        type: float
      min_requests_per_second:
        description: Lowest passing throughput (answered requests per second).
        type: float
  compare:
    description: A second target put under the same load after O(url), usually the stable track.
    type: dict
    suboptions:
      url:
        description: Its URL.
        type: str
        required: true
      headers:
        description: Its headers, for example C(X-Canary) set to C(never). Defaults to O(headers).
        type: dict
notes:
  - Supports check mode; in check mode no request is sent and the result says C(skipped).
  - Keep the load bounded, a load test on production traffic is felt by users.
author:
  - YYC3 platform team
"""

EXAMPLES = r"""
- name: Load the canary, forced through the router, and compare with stable
  canary_load:
    url: http://127.0.0.1:18080/api/health
    headers:
      X-Canary: always
    requests: 2000
    concurrency: 20
    thresholds:
      max_error_ratio: 0.01
      max_p99: 2.0
    compare:
      url: http://127.0.0.1:18080/api/health
      headers:
        X-Canary: never
  register: load

- name: Thirty seconds at a steady 50 requests per second
  canary_load:
    url: https://shop.example.com/api/health
    duration: 30s
    rate: 50
    concurrency: 10
    ca_path: /etc/ssl/certs/internal-ca.pem
    thresholds:
      min_requests_per_second: 45
"""

RETURN = r"""
report:
  description: The load test of O(url).
  returned: success, unless in check mode
  type: dict
  contains:
    tool:
      description: The generator that ran.
      type: str
      sample: builtin
    sent:
      description: Requests sent.
      type: int
      sample: 2000
    completed:
      description: Requests answered, whatever the status.
      type: int
      sample: 1998
    errors:
      description: Answers outside 2xx/3xx plus requests without an answer.
      type: int
      sample: 3
    error_breakdown:
      description: Errors by status code or by kind (connection_refused, connection_reset, timeout, tls_error, connection_error).
      type: dict
      sample: {"500": 1, "timeout": 2}
    error_ratio:
      description: errors / sent.
      type: float
      sample: 0.0015
    requests_per_second:
      description: completed / duration.
      type: float
      sample: 850.2
    latency_p50:
      description: Median latency of the answered requests, in seconds (exact, nearest rank).
      type: float
      sample: 0.011
    latency_p95:
      description: 95th percentile latency in seconds.
      type: float
      sample: 0.034
    latency_p99:
      description: 99th percentile latency in seconds.
      type: float
      sample: 0.081
    latency_max:
      description: Slowest answered request in seconds.
      type: float
      sample: 0.2
    duration:
      description: Wall time of the test in seconds.
      type: float
      sample: 2.35
stable_report:
  description: The same report for O(compare.url).
  returned: when compare is set, unless in check mode
  type: dict
ratio:
  description: canary / stable of C(p95) and C(p99); null where stable's value is 0 or missing.
  returned: when compare is set, unless in check mode
  type: dict
  sample: {p95: 1.8, p99: 2.4}
failures:
  description: One entry per threshold crossed, with C(metric), C(value), C(bound) and C(reason).
  returned: success or threshold failure, unless in check mode
  type: list
  elements: dict
  sample: [{metric: error_ratio, value: 0.05, bound: 0.01, reason: "error_ratio = 0.05 > max 0.01"}]
skipped:
  description: True in check mode, where no load is sent.
  returned: check mode
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.durations import DurationError, parse_duration
from ansible.module_utils.validation.loadreport import LoadTestError, check_thresholds
from ansible.module_utils.validation.loadtest import TOOLS, compare, normalize, run

THRESHOLD_OPTIONS = {
    "max_error_ratio": {"type": "float"},
    "max_p95": {"type": "float"},
    "max_p99": {"type": "float"},
    "min_requests_per_second": {"type": "float"},
}
ARGUMENT_SPEC = {
    "url": {"type": "str", "required": True},
    "method": {"type": "str", "default": "GET"},
    "headers": {"type": "dict", "default": {}},
    "body": {"type": "str"},
    "requests": {"type": "int"},
    "duration": {"type": "raw"},
    "concurrency": {"type": "int", "default": 10},
    "rate": {"type": "float"},
    "timeout": {"type": "raw", "default": 10},
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path"},
    "tool": {"type": "str", "default": "builtin", "choices": list(TOOLS)},
    "thresholds": {"type": "dict", "default": {}, "options": THRESHOLD_OPTIONS},
    "compare": {
        "type": "dict",
        "options": {"url": {"type": "str", "required": True}, "headers": {"type": "dict"}},
    },
}


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_one_of=[("requests", "duration")],
        supports_check_mode=True,
    )
    params = module.params
    options = {key: params[key] for key in ARGUMENT_SPEC if key not in ("thresholds", "compare")}
    for name in ("duration", "timeout"):
        if options[name] is not None:
            try:
                options[name] = parse_duration(options[name])
            except DurationError as exc:
                module.fail_json(msg=f"{name}: {exc}")
    try:
        normalize(options)
        if params["compare"]:
            normalize({**options, "url": params["compare"]["url"]})
    except LoadTestError as exc:
        module.fail_json(msg=str(exc))
    if module.check_mode:
        module.exit_json(changed=False, skipped=True, msg="check mode: no load sent")
    try:
        if params["compare"]:
            both = compare(options, params["compare"])
            result = {"report": both["canary"], "stable_report": both["stable"]}
            result["ratio"] = both["ratio"]
        else:
            result = {"report": run(options)}
    except LoadTestError as exc:
        module.fail_json(msg=str(exc))
    failures = check_thresholds(result["report"], params["thresholds"])
    if failures:
        reasons = "; ".join(failure["reason"] for failure in failures)
        module.fail_json(
            msg=f"load test thresholds crossed: {reasons}", failures=failures, **result
        )
    module.exit_json(changed=False, failures=[], **result)


if __name__ == "__main__":
    main()
