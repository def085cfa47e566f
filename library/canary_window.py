#!/usr/bin/python
"""Check that a release may start now: the spec's release windows and holidays."""

DOCUMENTATION = r"""
module: canary_window
short_description: Check a canary release against its release windows and holidays
description:
  - Decides whether a release (or its next stage) may start at a moment, by the C(windows)
    section of the release spec - in its time zone, a holiday blocks its whole day, then a
    C(deny) rule blocks, then, when C(allow) lists rules, the moment must be inside one.
    The README, section "Release windows", gives the exact rules; logic in
    C(module_utils/windows.py).
  - Returns the verdict, the rule that decided, when the release would next be allowed and
    until when. Fails when the moment is blocked, unless O(override) gives a reason; the
    caller records a used override in the ledger (role canary_window, entry point C(record)).
  - Only reads (the holidays file); the same in check mode.
options:
  windows:
    description:
      - The C(windows) section of the completed release spec (C(canary_release.windows)) -
        C(timezone), C(allow), C(deny), C(holidays), C(workdays), C(holidays_file).
    type: dict
    required: true
  now:
    description:
      - The moment to check, ISO 8601 with a UTC offset (C(2026-03-10T10:30:00+08:00)), for dry
        runs and tests. Default - the real clock.
    type: str
  holidays_file:
    description:
      - The holidays file to read; default C(windows.holidays_file), where a relative path is
        taken from the working directory (the role resolves it against the project instead).
      - A YAML mapping with C(holidays) and optionally C(workdays) (make-up working days), each a
        list of entries - a date C(2026-10-01), C({date, name}) or C({from, to, name}), both
        days included. Every error names the file and the line.
    type: path
  override:
    description:
      - Why the release may go ahead although the moment is blocked. Empty or blank - no
        override. Ignored (with a warning) when the moment is allowed anyway.
    type: str
    default: ""
  user:
    description: Who gave the override, for the report and the ledger. Default - the controller's user.
    type: str
author:
  - Canary runbooks maintainers
"""

EXAMPLES = r"""
- name: Check the release windows
  canary_window:
    windows: "{{ canary_release.windows }}"
    holidays_file: "{{ playbook_dir | dirname }}/calendars/cn-2026.yml"
    override: "{{ canary_window_override | default('') }}"
    user: "{{ awx_user_name | default(lookup('ansible.builtin.env', 'USER')) }}"
  register: canary_window_result

- name: Check a fixed moment (a dry run of next Tuesday morning)
  canary_window:
    windows: "{{ canary_release.windows }}"
    now: "2026-03-10T10:30:00+08:00"
"""

RETURN = r"""
allowed:
  description: Whether the windows allow the moment (false also when an override let the run go on).
  returned: always
  type: bool
reason:
  description: The verdict in words, naming the moment and the rule; with the override when one was used.
  returned: always
  type: str
  sample: "Tuesday 2026-03-10 10:30 Asia/Shanghai is inside the blocked window peak hours (weekdays 09:00-18:00)"
rule:
  description: The rule that decided; null when none applied (no allow list, no deny rule, no holiday).
  returned: when the section is valid
  type: dict
  contains:
    type:
      description: C(deny), C(allow), C(holiday), or C(outside) (inside no allowed window).
      type: str
    label:
      description: The rule in words.
      type: str
      sample: peak hours (weekdays 09:00-18:00)
    field:
      description: Where the rule is written - C(windows.deny[0]), or the holidays file and line.
      type: str
      sample: /srv/canary-runbooks/calendars/cn-2026.yml:31
now:
  description: The moment checked, in the windows' time zone (ISO 8601).
  returned: when the section is valid
  type: str
  sample: "2026-03-10T10:30:00+08:00"
next_allowed:
  description: When the release would be allowed next (the moment itself when allowed); null when not within a year.
  returned: when the section is valid
  type: str
  sample: "2026-03-10T22:00:00+08:00"
allowed_until:
  description: When that allowed time ends; null when not within a year after it.
  returned: when the section is valid
  type: str
  sample: "2026-03-11T06:00:00+08:00"
override_used:
  description: True when the moment was blocked and O(override) let the run go on.
  returned: always
  type: bool
override_reason:
  description: The override's reason when it was used, else empty.
  returned: always
  type: str
user:
  description: Who runs the check (O(user), else the controller's user).
  returned: always
  type: str
errors:
  description: Every problem of the section or of the holidays file, each naming its field or file and line.
  returned: failure
  type: list
  elements: str
  sample: ["/srv/canary-runbooks/calendars/cn-2026.yml:12: holidays: to (2026-02-13) is before from (2026-02-15)"]
"""

import datetime as dt
import getpass

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.windows import (
    HolidaysFileError,
    WindowError,
    Windows,
    parse_moment,
    validate_section,
)


def main():
    module = AnsibleModule(
        argument_spec={
            "windows": {"type": "dict", "required": True},
            "now": {"type": "str"},
            "holidays_file": {"type": "path"},
            "override": {"type": "str", "default": ""},
            "user": {"type": "str"},
        },
        supports_check_mode=True,
    )
    params = module.params
    override = (params["override"] or "").strip()
    user = params["user"] or getpass.getuser()
    report = {"allowed": False, "override_used": False, "override_reason": "", "user": user}
    section, errors = validate_section(params["windows"], "windows")
    if errors:
        module.fail_json(
            msg="Invalid release windows: " + "; ".join(errors), errors=errors, **report
        )
    try:
        moment = parse_moment(params["now"]) if params["now"] else dt.datetime.now(dt.UTC)
    except WindowError as err:
        module.fail_json(msg=f"now: {err}", **report)
    holidays_file = params["holidays_file"] or section["holidays_file"]
    try:
        windows = Windows.from_section(section, holidays_file)
    except HolidaysFileError as err:
        module.fail_json(
            msg="Invalid holidays file: " + "; ".join(err.errors), errors=err.errors, **report
        )
    result = {**report, **windows.decide(moment)}
    year = windows.local(moment).year
    if windows.calendar.holidays and not windows.calendar.lists_year(year):
        module.warn(
            f"The holidays ({holidays_file or 'windows.holidays'}) list none in {year}: "
            "add that year's, or every day of it counts as a working day"
        )
    if result["allowed"]:
        if override:
            module.warn(f"The override was not used: {result['reason']}")
        module.exit_json(changed=False, **result)
    if not override:
        opens = (
            f"next allowed {result['next_allowed']} until {result['allowed_until'] or 'later'}"
            if result["next_allowed"]
            else "no allowed time within a year"
        )
        module.fail_json(
            msg=f"Outside the release windows: {result['reason']}; {opens}. To release anyway, "
            "give a reason: -e canary_window_override='...' (recorded in the ledger)",
            **result,
        )
    result.update(
        override_used=True,
        override_reason=override,
        reason=f"{result['reason']}; overridden by {user}: {override}",
    )
    module.warn(f"Outside the release windows, going ahead: {result['reason']}")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
