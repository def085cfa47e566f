#!/usr/bin/python
"""Ansible module canary_probe: functional journeys sent to the canary and to stable."""

DOCUMENTATION = r"""
---
module: canary_probe
short_description: Run functional journeys against the canary and stable
description:
  - Runs each journey, an ordered list of HTTP steps, against each target in O(targets).
    A step can capture values from a JSON answer (a login token) that later steps use as
    C({name}) placeholders in their path, header values and the string leaves of their body.
  - Fails the task when a journey fails on the C(canary); the message names the journey,
    the target, the step and what differed (status, failed assertion and its value, no answer).
  - A journey that fails on C(stable) only warns and is reported in RV(results). Stable is
    not what is being released; its run is the comparison that tells a broken canary
    from a broken dependency or a broken journey.
  - Header values, bodies and captured values are secrets. Results name a step by its
    path template, never the rendered path, and reasons mask every such value.
  - Because O(journeys[].steps[].headers) and O(journeys[].steps[].body) are C(no_log),
    Ansible masks each of their values wherever it appears in the task output. Keep
    them distinctive (a short value such as C(1) would be masked everywhere).
  - A step is retried (O(journeys[].steps[].retries)) only when there was no answer or
    a 5xx answer that its O(journeys[].steps[].status) does not accept.
options:
  url:
    description:
      - Base URL of the service (the ingress or the router); each step's path is appended.
      - A route with its own C(url) replaces it for that target.
    type: str
    required: true
  journeys:
    description: The journeys; names must be unique.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the journey, used in results and messages.
        type: str
        required: true
      steps:
        description: The steps, run in order; a journey stops at its first failing step.
        type: list
        elements: dict
        required: true
        suboptions:
          name:
            description: Name of the step. Defaults to its method and path.
            type: str
          method:
            description: HTTP method, one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS.
            type: str
            default: GET
          path:
            description:
              - Path (and query) appended to the target's URL; starts with C(/).
              - May hold C({name}) placeholders of values captured by earlier steps,
                inserted as they are. Write a literal brace as C({{) or C(}}).
            type: str
            required: true
          headers:
            description: Request headers. Values may hold placeholders. Not logged.
            type: dict
            default: {}
          body:
            description:
              - Request body. A mapping or list is sent as JSON (with
                C(Content-Type application/json) unless a header sets it), a string as is.
              - Placeholders are filled in string leaves. A leaf that is exactly one
                placeholder takes the captured value with its JSON type. Not logged.
            type: raw
          status:
            description: Expected HTTP status, or a list of accepted statuses.
            type: raw
            default: 200
          assert:
            description:
              - JMESPath expressions evaluated on the JSON answer; each must be true by
                JMESPath rules (null, false, empty strings, lists and objects are false, 0 is true).
              - A failure reports the expression and what it evaluated to, with secrets masked.
            type: list
            elements: str
            default: []
          capture:
            description:
              - Values to capture from the JSON answer, as a mapping of a name to a JMESPath
                expression. A capture that finds nothing fails the step.
              - Captured values are secrets and live for one journey on one target.
            type: dict
            default: {}
          timeout:
            description: Seconds to wait for this step's answer. Defaults to O(timeout).
            type: float
          retries:
            description: Extra attempts after no answer or an unexpected 5xx answer.
            type: int
            default: 0
          retry_delay:
            description: Seconds between attempts.
            type: float
            default: 1.0
  targets:
    description: The tracks to run every journey against, in this order.
    type: list
    elements: str
    default: [canary, stable]
    choices: [canary, stable]
  canary_header:
    description:
      - Header that forces the router's choice, sent as C(always) to the canary and
        C(never) to stable, for a target without a O(route).
    type: str
    default: X-Canary
  route:
    description:
      - How to reach each target, instead of the O(canary_header) default. A target's
        route replaces that default entirely.
    type: dict
    suboptions:
      canary:
        description: Route to the canary.
        type: dict
        suboptions:
          header:
            description: Headers added to every request; they win over a step's own.
            type: dict
            default: {}
          cookie:
            description: Cookies (name to value) added to every request's C(Cookie) header.
            type: dict
            default: {}
          url:
            description: Base URL of this target, such as the canary Service's own address.
            type: str
      stable:
        description: Route to stable, with the same fields as O(route.canary).
        type: dict
        suboptions:
          header:
            description: Headers added to every request; they win over a step's own.
            type: dict
            default: {}
          cookie:
            description: Cookies (name to value) added to every request's C(Cookie) header.
            type: dict
            default: {}
          url:
            description: Base URL of this target.
            type: str
  validate_certs:
    description: Verify the TLS certificate of https URLs.
    type: bool
    default: true
  ca_path:
    description: PEM file of the CA certificates that signed the service's certificate.
    type: path
  timeout:
    description: Seconds to wait for each answer, for steps without their own timeout.
    type: float
    default: 10.0
notes:
  - Supports check mode. A journey whose steps are all GET or HEAD runs, since it only
    reads; any other journey is not sent and is reported as C(skipped) with the method,
    path and URL of each step it would send.
requirements:
  - jmespath
author:
  - YYC3 platform team
"""

EXAMPLES = r"""
- name: Walk the short-drama journey on the canary and on stable
  canary_probe:
    url: https://drama.example.com
    ca_path: /etc/ssl/yyc3-ca.pem
    journeys:
      - name: write_a_script
        steps:
          - name: login
            method: POST
            path: /api/auth/login
            body:
              username: canary-tester
              password: "{{ vault_canary_test_password }}"
            capture:
              token: token
          - name: generate
            method: POST
            path: /api/ai/generate
            headers:
              Authorization: "Bearer {token}"
            body:
              prompt: A short drama about Heluo culture
            assert:
              - length(script) > `0`
            retries: 2
          - name: list
            path: /api/content/list
            headers:
              Authorization: "Bearer {token}"
            assert:
              - items
  register: probe

- name: Reach the canary through its own Service and stable through a cookie
  canary_probe:
    url: https://drama.example.com
    targets: [canary, stable]
    route:
      canary:
        url: http://frontend-canary.yyc3-short-drama-canary.svc:8080
      stable:
        cookie:
          canary: never
    journeys:
      - name: health
        steps:
          - path: /api/health
            assert:
              - status == 'ok'
"""

RETURN = r"""
passed:
  description: True when no journey failed on the canary (stable failures only warn).
  returned: always
  type: bool
  sample: true
failed_journeys:
  description: The journeys that failed, on either target.
  returned: always
  type: list
  elements: dict
  sample: [{name: write_a_script, target: stable}]
results:
  description: One entry per journey and target, journeys first, then targets in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the journey.
      type: str
      sample: write_a_script
    target:
      description: C(canary) or C(stable).
      type: str
      sample: canary
    url:
      description: The target's base URL, without user information.
      type: str
      sample: https://drama.example.com
    result:
      description: C(pass), C(fail), or C(skipped) (check mode).
      type: str
      sample: fail
    reason:
      description: Why, naming the failing step.
      type: str
      sample: "step 2 'generate' (POST /api/ai/generate): status 503, expected 200 (after 3 attempts)"
    duration:
      description: Seconds the journey took.
      type: float
      sample: 0.412
    steps:
      description: One entry per step, with no header, body or captured value.
      type: list
      elements: dict
      contains:
        name:
          description: Name of the step.
          type: str
        method:
          description: HTTP method.
          type: str
        path:
          description: The path template, placeholders not filled.
          type: str
          sample: /api/content/{content_id}
        status:
          description: Status of the last answer, null without one.
          type: int
        attempts:
          description: Requests sent for the step.
          type: int
        duration:
          description: Seconds the step took, retries included.
          type: float
        result:
          description: C(pass), C(fail) or C(skipped).
          type: str
        reason:
          description: Why.
          type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.validation import journey


def main():
    module = AnsibleModule(argument_spec=journey.ARGUMENT_SPEC, supports_check_mode=True)
    if journey.jmespath is None:
        module.fail_json(msg=missing_required_lib("jmespath"))
    params = module.params
    try:
        journeys = journey.validate_journeys(params["journeys"])
    except journey.JourneySpecError as exc:
        module.fail_json(msg=f"invalid journeys: {exc}", errors=exc.errors)
    routes = journey.build_routes(params["url"], params["route"], params["canary_header"])
    results = []
    for item in journeys:
        for target in dict.fromkeys(params["targets"]):
            if module.check_mode and not journey.read_only(item):
                reason = "check mode: not sent, the journey has steps other than GET and HEAD"
                results.append(journey.skip_journey(item, target, routes[target], reason))
                continue
            results.append(
                journey.run_journey(
                    item,
                    target,
                    routes[target],
                    timeout=params["timeout"],
                    validate_certs=params["validate_certs"],
                    ca_path=params["ca_path"],
                )
            )
    failed = [r for r in results if r["result"] == "fail"]
    for result in failed:
        if result["target"] == "stable":
            module.warn(
                f"journey {result['name']!r} failed on stable (not what is released, "
                f"compare with the canary): {result['reason']}"
            )
    outcome = {
        "changed": False,
        "results": results,
        "failed_journeys": [{"name": r["name"], "target": r["target"]} for r in failed],
        "passed": not any(r["target"] == "canary" for r in failed),
    }
    if not outcome["passed"]:
        reasons = [
            f"journey {r['name']!r} failed on canary: {r['reason']}"
            for r in failed
            if r["target"] == "canary"
        ]
        module.fail_json(msg="; ".join(reasons), **outcome)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
