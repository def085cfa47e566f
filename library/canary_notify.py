#!/usr/bin/python
"""Notify a release event to Slack, a JSON webhook and Alertmanager."""

DOCUMENTATION = r"""
module: canary_notify
short_description: Notify a canary release event to chat, webhooks and Alertmanager
description:
  - Sends one event of a release (a stage started or passed, a stage held, the release
    rolled back, promoted or failed, the canary never ready) to every channel of the spec's
    C(notifications) section whose events include it - a Slack-compatible incoming webhook,
    a generic JSON webhook, and Alertmanager's API v2.
  - The text comes from C(notifications.template) (Python C(str.format) placeholders, see
    the README, section "Notifications"). Logic in C(module_utils/notify/).
  - A receiver that is down, slow or refusing never fails the task - each channel's result
    says what happened and a warning names the channel (never its URL, which is a secret).
    The task fails only on bad arguments.
  - In check mode nothing is sent; the results show what would be sent.
options:
  release:
    description:
      - The completed release spec (the C(canary_release) fact set by M(canary_spec)), without
        its secrets.
    type: dict
    required: true
  secrets:
    description:
      - The spec's secret fields by dotted path (the C(canary_secrets) filter on the C(canary)
        variable) - the Slack and webhook URLs and the webhook headers. Never shown.
    type: dict
    default: {}
  event:
    description: What happened.
    type: str
    required: true
    choices: [stage_started, stage_passed, held, rolled_back, promoted, not_ready, failed]
  stage:
    description: The stage the event is about (1-based; 0 before the first stage).
    type: int
  reason:
    description: Why, for the placeholder C({reason}) and the default summary.
    type: str
  image:
    description: The canary image; defaults to the spec's C(image).
    type: str
author:
  - Canary runbooks maintainers
"""

EXAMPLES = r"""
- name: Notify the rollback
  canary_notify:
    release: "{{ canary_release }}"
    secrets: "{{ canary | canary_secrets }}"
    event: rolled_back
    stage: 2
    reason: "error_rate = 0.031 > max 0.01"
    image: yyc3/short-drama-frontend:1.2.0
"""

RETURN = r"""
text:
  description: The rendered message.
  returned: always
  type: str
  sample: "[frontend] rolled_back: yyc3/short-drama-frontend:1.2.0 rolled back at stage 2/4 (20%): error_rate = 0.031 > max 0.01"
results:
  description: One entry per channel the event was for; empty when none is configured for it.
  returned: always
  type: list
  elements: dict
  contains:
    channel:
      description: C(slack), C(webhook) or C(alertmanager).
      type: str
    sent:
      description: Whether the receiver took it (a 2xx answer). Always false in check mode.
      type: bool
    status:
      description: The receiver's HTTP status, or null when there was no answer (or in check mode).
      type: int
    error:
      description: What went wrong, or null. Secrets are masked.
      type: str
    payload:
      description: The JSON body sent (or that would be sent in check mode).
      type: raw
"""

from ansible.module_utils import secrets
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.notify.dispatch import notify
from ansible.module_utils.notify.message import EVENTS


def main():
    module = AnsibleModule(
        argument_spec={
            "release": {"type": "dict", "required": True},
            "secrets": secrets.SECRETS_ARGUMENT,
            "event": {"type": "str", "required": True, "choices": list(EVENTS)},
            "stage": {"type": "int"},
            "reason": {"type": "str"},
            "image": {"type": "str"},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        release = secrets.merge(params["release"], params["secrets"])
    except ValueError as err:
        module.fail_json(msg=str(err))
    except (TypeError, AttributeError):
        module.fail_json(
            msg="secrets: a secret's section is missing from release; pass the canary_release "
            "fact and the secrets of the same spec"
        )
    try:
        text, results = notify(
            release.get("notifications") or {},
            release,
            params["event"],
            check_mode=module.check_mode,
            stage=params["stage"],
            reason=params["reason"],
            image=params["image"],
        )
    except (KeyError, IndexError, ValueError, TypeError) as err:
        module.fail_json(msg=f"release.notifications: cannot render the notification: {err}")
    for result in results:
        if result["error"]:
            module.warn(
                f"The {result['channel']} notification of {params['event']} was not delivered: "
                f"{result['error']}"
            )
    changed = any(result["sent"] for result in results) or (module.check_mode and bool(results))
    module.exit_json(changed=changed, text=text, results=results)


if __name__ == "__main__":
    main()
