#!/usr/bin/python
"""Write the monitoring of a release: alert rules, Alertmanager routing, a Grafana dashboard."""

DOCUMENTATION = r"""
module: canary_monitoring
short_description: Write the alert rules, Alertmanager routing and Grafana dashboard of a release
description:
  - Renders, for one service, the plan's three alert tiers (critical, important, general) as a
    Prometheus rule file C(rules.yml) and the same groups as a prometheus-operator
    C(PrometheusRule) manifest C(prometheusrule.yml); an Alertmanager configuration
    C(alertmanager.yml) that routes each tier to its webhook receiver and lets a more urgent
    tier inhibit a less urgent one; and a Grafana dashboard C(dashboard.json) (request rate,
    error rate, latency quantiles and availability by track, the canary weight, and stage
    changes as annotations).
  - Every alert carries C(severity) (the tier), C(service), C(namespace), and the labels its
    expression returns - C(track) (C(stable) or C(canary)) for the service's own series.
  - Writes a file only when its content changes (atomically), and reports the change.
    Supports check mode (nothing is written) and diff mode (a diff per changed file).
  - The logic lives in C(module_utils/monitoring/), one file per output. It does not check
    the files with C(promtool) or C(amtool); the C(canary_monitoring) role does.
options:
  release:
    description: The completed release spec (the C(canary_release) fact set by M(canary_spec)).
    type: dict
    required: true
  dest:
    description: The directory to write into; created when missing.
    type: path
    required: true
  selector:
    description:
      - PromQL label matchers (without braces) of the service's series of both tracks, the
        value of the C($selector) variable.
      - Default C(namespace=~"<namespace>|<canary_namespace>",track=~"stable|canary").
    type: str
  window:
    description: The range of C(rate()) and C(avg_over_time()) in the rules (C($window)); default C(analysis.window).
    type: str
  queries:
    description:
      - PromQL of each signal, keyed by signal - C(error_rate), C(latency_p99), C(availability),
        C(db_connection_failures), C(cpu), C(memory), C(disk), C(cache_hit_rate). Ratios are
        0-1. A rule fires while the query's value is above its threshold (below, for
        C(availability) and C(cache_hit_rate)).
      - "Variables, filled per service: C($service), C($namespace), C($canary_namespace),
        C($namespaces) (both, as a regular expression), C($selector), C($window), C($requests),
        C($duration) (write C(${duration}_bucket)), C($up) (the metric names of
        C(analysis.metrics)) and C($pod_track) (kube-state-metrics' C(kube_pod_labels) with the
        pods' C(track) label as C(track), to join container metrics with). C($1) and C($$)
        pass through."
    type: dict
    required: true
  tiers:
    description: The alert tiers. Each has C(thresholds) (signal to number) and C(for) (how long
      a breach lasts before the alert fires, a Prometheus duration).
    type: dict
    required: true
    suboptions:
      critical:
        description: The paging tier.
        type: dict
        suboptions: &tier
          for:
            description: How long a breach lasts before the alert fires.
            type: str
          thresholds:
            description: Signal to threshold; ratios as 0-1, latency in seconds.
            type: dict
            default: {}
      important:
        description: The team tier.
        type: dict
        suboptions: *tier
      general:
        description: The low-noise tier.
        type: dict
        suboptions: *tier
  alert_labels:
    description: More labels for every alert (not C(severity), C(service), C(namespace)).
    type: dict
    default: {}
  receivers:
    description: The Alertmanager receiver of each tier, a webhook. Receiver names are prefixed
      with the service (C(frontend-pager)).
    type: dict
    required: true
    suboptions:
      critical:
        description: Where critical alerts go (a pager).
        type: dict
        required: true
        suboptions: &receiver
          name:
            description: The receiver's name, after the service's.
            type: str
            required: true
          url:
            description: The webhook URL. Kept out of the task's output.
            type: str
            required: true
          send_resolved:
            description: Also notify when the alert resolves.
            type: bool
            default: true
          group_wait:
            description: Wait before the first notification of a group.
            type: str
          group_interval:
            description: Wait before notifying about new alerts of a group.
            type: str
          repeat_interval:
            description: Wait before repeating a notification.
            type: str
      important:
        description: Where important alerts go (the team).
        type: dict
        required: true
        suboptions: *receiver
      general:
        description: Where general alerts go (low noise); also alerts with no known severity.
        type: dict
        required: true
        suboptions: *receiver
  group_by:
    description: Labels Alertmanager groups alerts by (one notification per group).
    type: list
    elements: str
    default: [alertname, namespace, service, track]
  weight_query:
    description: PromQL of the canary weight in force (0-100), for the dashboard's weight panel
      and its stage annotations. Variables as in O(queries).
    type: str
    required: true
  prometheus_rule:
    description: The PrometheusRule's C(name) (default C(<service>-canary-alerts)), C(namespace)
      (default the release's namespace) and C(labels) (those the operator's C(ruleSelector) needs).
    type: dict
    default: {}
  dashboard_title:
    description: The dashboard's title; default C(<service> canary release (<namespace>)).
    type: str
author:
  - Canary runbooks maintainers
"""

EXAMPLES = r"""
- name: Write the monitoring of the release
  canary_monitoring:
    release: "{{ canary_release }}"
    dest: /srv/monitoring/frontend
    queries:
      error_rate: >-
        sum by (track) (rate($requests{$selector,code=~"5.."}[$window]))
        / sum by (track) (rate($requests{$selector}[$window]))
      latency_p99: histogram_quantile(0.99, sum by (track, le) (rate(${duration}_bucket{$selector}[$window])))
    tiers:
      critical:
        for: 1m
        thresholds: {error_rate: 0.01, latency_p99: 2}
      important:
        for: 5m
        thresholds: {error_rate: 0.005, latency_p99: 1.5}
    receivers:
      critical: {name: pager, url: "https://pager.example.com/hook", repeat_interval: 30m}
      important: {name: team, url: "https://chat.example.com/hook"}
      general: {name: low-noise, url: "https://chat.example.com/low", send_resolved: false}
    weight_query: max(router_canary_weight)
  register: monitoring
"""

RETURN = r"""
dest:
  description: The directory written into.
  returned: always
  type: str
files:
  description: The path of each file, by kind.
  returned: always
  type: dict
  sample:
    rules: /srv/monitoring/frontend/rules.yml
    prometheus_rule: /srv/monitoring/frontend/prometheusrule.yml
    alertmanager: /srv/monitoring/frontend/alertmanager.yml
    dashboard: /srv/monitoring/frontend/dashboard.json
changed_files:
  description: The files whose content (or mode) changed, or would in check mode.
  returned: always
  type: list
  elements: str
  sample: [rules.yml]
alerts:
  description: The alert names of each tier.
  returned: always
  type: dict
  sample: {critical: [HighErrorRate, HighResponseTime], important: [HighErrorRate]}
prometheus_rule:
  description: The PrometheusRule manifest, to apply with kubernetes.core.k8s.
  returned: always
  type: dict
diff:
  description: One diff per changed file (diff mode).
  returned: changed
  type: list
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.monitoring import FILE_NAMES, file_mode, render
from ansible.module_utils.monitoring.files import sync
from ansible.module_utils.monitoring.promql import MonitoringError
from ansible.module_utils.monitoring.rules import TIERS

TIER_OPTIONS = {"for": {"type": "str"}, "thresholds": {"type": "dict", "default": {}}}
RECEIVER_OPTIONS = {
    "name": {"type": "str", "required": True},
    "url": {"type": "str", "required": True, "no_log": True},
    "send_resolved": {"type": "bool", "default": True},
    "group_wait": {"type": "str"},
    "group_interval": {"type": "str"},
    "repeat_interval": {"type": "str"},
}

ARGUMENT_SPEC = {
    "release": {"type": "dict", "required": True},
    "dest": {"type": "path", "required": True},
    "selector": {"type": "str"},
    "window": {"type": "str"},
    "queries": {"type": "dict", "required": True},
    "tiers": {
        "type": "dict",
        "required": True,
        "options": {tier: {"type": "dict", "options": TIER_OPTIONS} for tier in TIERS},
    },
    "alert_labels": {"type": "dict", "default": {}},
    "receivers": {
        "type": "dict",
        "required": True,
        "options": {
            tier: {"type": "dict", "required": True, "options": RECEIVER_OPTIONS} for tier in TIERS
        },
    },
    "group_by": {
        "type": "list",
        "elements": "str",
        "default": ["alertname", "namespace", "service", "track"],
    },
    "weight_query": {"type": "str", "required": True},
    "prometheus_rule": {"type": "dict", "default": {}},
    "dashboard_title": {"type": "str"},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    # Tiers left out are None in the validated parameters: they simply have no rules.
    settings = {**params, "tiers": {k: v for k, v in params["tiers"].items() if v}}
    try:
        texts, manifest = render(params["release"], settings)
    except MonitoringError as err:
        module.fail_json(msg=f"Cannot render the monitoring: {err}", errors=err.errors)
    dest = params["dest"]
    try:
        changed, diffs = sync(dest, texts, file_mode, module.check_mode)
    except OSError as err:
        module.fail_json(msg=f"Cannot write the monitoring files into {dest}: {err}")
    result = {
        "changed": bool(changed),
        "dest": dest,
        "files": {key: os.path.join(dest, name) for key, name in FILE_NAMES.items()},
        "changed_files": changed,
        "alerts": {
            group["name"].rsplit("-", 1)[-1]: [rule["alert"] for rule in group["rules"]]
            for group in manifest["spec"]["groups"]
        },
        "prometheus_rule": manifest,
    }
    if diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
