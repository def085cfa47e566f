#!/usr/bin/python
"""Write the report of a release: JSON and a self-contained HTML page with charts."""

DOCUMENTATION = r"""
module: canary_report
short_description: Write the report of a canary release as JSON and a self-contained HTML page
description:
  - Reports on the latest release in a service's ledger - service, namespaces, the canary
    and the previous stable image, status, outcome (C(promoted), C(rolled_back), C(failed),
    C(held), C(paused) or C(in_progress)) and its reason, start, end and duration; per
    stage its weight, replicas, bake time, runs, validation summary, every measurement
    with each check's value, result and effect, the decision and its reason, and the
    baseline judgements; the weight over time and every action.
  - "Writes four files into O(dest): C(<service>-<release>.json) and C(.html), named by
    the start of the release (C(frontend-20250101T120000Z.json)), and the same content
    as C(<service>-latest.json) and C(.html)."
  - The JSON follows C(roles/canary_report/files/report.schema.json). The HTML page needs
    nothing else - inline styles, one SVG chart per check and stage (value over time, the
    bound dashed, points that did not pass in red) and of the weight, a table of the
    numbers under each stage's charts - and its Content-Security-Policy forbids loading
    anything. Every text from the ledger is escaped.
  - Reads nothing from the cluster - pass the ledger that M(canary_state) read
    (O(action=read)); the bounds, stage names, replicas and namespaces come from
    O(release).
  - Writes a file only when its content changes. Supports check mode (nothing is
    written) and diff mode (a diff per file that would change).
options:
  release:
    description: The completed release spec (the C(canary_release) fact set by M(canary_spec)).
    type: dict
    required: true
  ledger:
    description:
      - The service's ledger, as M(canary_state) returns it (its C(ledger) result) - status,
        stage, images, reason, C(updated_at) and the history.
      - Its latest release is reported; a ledger without any release is an error.
    type: dict
    required: true
  dest:
    description: The directory to write into; created when missing.
    type: path
    required: true
author:
  - Canary runbooks maintainers
"""

EXAMPLES = r"""
- name: Read the ledger
  canary_state:
    release: "{{ canary_release }}"
    action: read
  register: ledger

- name: Write the release report
  canary_report:
    release: "{{ canary_release }}"
    ledger: "{{ ledger.ledger }}"
    dest: "{{ playbook_dir }}/../.canary/reports"
  register: report

- name: Publish it as an artifact
  ansible.builtin.set_stats:
    data:
      canary_report: "{{ {canary_release.service: report.report} }}"
"""

RETURN = r"""
report:
  description: The report, the content of the JSON file.
  returned: success
  type: dict
  contains:
    schema_version: {description: Version of the report's schema., type: int}
    release_id: {description: The start of the release, as in the file names., type: str, sample: 20250101T120000Z}
    service: {description: The service., type: str}
    outcome:
      description: C(promoted), C(rolled_back), C(failed), C(held), C(paused) or C(in_progress).
      type: str
    reason: {description: Why the release is where it is (the ledger's reason)., type: str}
    images: {description: C(canary) and C(stable) (stable's image before the release)., type: dict}
    started_at: {description: When the release started (UTC, ISO 8601)., type: str}
    ended_at: {description: When it was promoted or rolled back; null while not over., type: str}
    duration_seconds: {description: From the start to the end, or to the ledger's last update., type: float}
    checks: {description: Each check with its type, severity and bounds (C(min), C(max))., type: list}
    stages:
      description:
        - Each stage with its C(weight), C(replicas), C(bake_seconds), C(outcome), C(reason),
          C(runs), C(validation) and C(measurements) (each with C(at), C(verdict),
          C(decision), C(reason) and per check C(value), C(result), C(effect), C(side)).
      type: list
    weights: {description: The canary's weight over time., type: list}
    actions: {description: Every action of the release in the ledger's history., type: list}
files:
  description: The path of each file, by kind.
  returned: success
  type: dict
  sample:
    json: /srv/reports/frontend-20250101T120000Z.json
    html: /srv/reports/frontend-20250101T120000Z.html
    latest_json: /srv/reports/frontend-latest.json
    latest_html: /srv/reports/frontend-latest.html
changed_files:
  description: The files whose content changed, or would in check mode.
  returned: success
  type: list
  elements: str
diff:
  description: One diff per changed file (diff mode).
  returned: changed
  type: list
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.monitoring.files import sync
from ansible.module_utils.report import FILE_MODE, file_names, render
from ansible.module_utils.report.build import ReportError


def main():
    module = AnsibleModule(
        argument_spec={
            "release": {"type": "dict", "required": True},
            "ledger": {"type": "dict", "required": True},
            "dest": {"type": "path", "required": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        report, texts = render(params["release"], params["ledger"])
    except ReportError as err:
        module.fail_json(msg=f"Cannot report on the release: {err}")
    dest = params["dest"]
    try:
        changed, diffs = sync(dest, texts, lambda name: FILE_MODE, module.check_mode)
    except OSError as err:
        module.fail_json(msg=f"Cannot write the release report into {dest}: {err}")
    result = {
        "changed": bool(changed),
        "report": report,
        "files": {key: os.path.join(dest, name) for key, name in file_names(report).items()},
        "changed_files": changed,
    }
    if diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
