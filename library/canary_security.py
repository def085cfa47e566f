#!/usr/bin/python
"""Ansible module canary_security: security checks of a canary endpoint from the outside."""

DOCUMENTATION = r"""
---
module: canary_security
short_description: Check a canary endpoint's TLS, security headers, open ports and ZAP findings
description:
  - Runs each configured check once against a running canary and reports what it found,
    with one reason per failure naming the check, the value and the bound.
  - Every section (O(tls), O(headers), O(ports), O(zap)) is optional; only the sections
    given run. At least one is required.
  - Fails the task when any check fails; the message lists every failure, each starting
    with its check's name, such as C(tls.min_days) or C(ports.allow).
  - All arguments are validated before anything is contacted; an error names the field.
  - Every check only reads (a TLS handshake, one GET, a TCP connect scan of one host, a
    passive ZAP baseline scan), so check mode runs them all.
  - Logic in C(module_utils/validation/) (C(tls.py), C(headers.py), C(ports.py), C(zap.py)).
options:
  tls:
    description: The TLS endpoint and the bounds it must meet.
    type: dict
    suboptions:
      host:
        description: Host name or address to connect to.
        type: str
        required: true
      port:
        description: TCP port.
        type: int
        default: 443
      server_name:
        description:
          - Name sent as SNI and matched against the certificate's subject alternative
            names (no fallback to the common name). Defaults to O(tls.host).
        type: str
      ca_path:
        description: PEM bundle of the CAs the chain must verify against, instead of the system store.
        type: path
      min_version:
        description:
          - Lowest acceptable protocol version. The negotiated version must reach it, and
            with O(tls.probe) every lower version must be refused by the server.
        type: str
        default: TLSv1.2
        choices: [TLSv1, TLSv1.1, TLSv1.2, TLSv1.3]
      min_days:
        description: Fewest days the certificate must still be valid for.
        type: int
        default: 14
      verify:
        description: Fail when the chain does not verify against O(tls.ca_path) or the system store.
        type: bool
        default: true
      check_hostname:
        description: Fail when O(tls.server_name) is not among the certificate's names.
        type: bool
        default: true
      probe:
        description:
          - Try a handshake limited to each version below O(tls.min_version), so a server
            that still accepts them fails even though it prefers a newer one.
          - The probes lower OpenSSL's security level, since Debian's OpenSSL 3 does not
            offer TLS 1.0 or 1.1 otherwise. A version this OpenSSL cannot offer at all is
            reported as C(unavailable) with the reason, and is not a failure.
        type: bool
        default: true
      timeout:
        description: Seconds allowed per connection.
        type: float
        default: 5
  headers:
    description: A URL whose response headers must meet expectations.
    type: dict
    suboptions:
      url:
        description: The URL fetched with GET (redirects followed); any HTTP status is judged.
        type: str
        required: true
      expect:
        description:
          - Header name to expectation, each a dict of C(present) (bool, default true;
            false means the header must be absent), C(equals) (string, ignoring case),
            C(matches) (regular expression searched, ignoring case) and C(min_max_age)
            (seconds, the least C(max-age) directive).
          - Replaces the defaults when given. Defaults are C(Strict-Transport-Security)
            with C(min_max_age) 15768000 (six months, as Mozilla's HTTP Observatory asks),
            C(X-Content-Type-Options) equal to C(nosniff), C(X-Frame-Options) matching
            C(^(DENY|SAMEORIGIN)$) and C(Content-Security-Policy) present.
        type: dict
      request_headers:
        description:
          - Headers sent with the request, for example the forced-routing header that
            makes a router answer from the canary (C(X-Canary) C(always)).
        type: dict
        default: {}
      timeout:
        description: Seconds allowed for the request.
        type: float
        default: 10
      validate_certs:
        description: Verify the TLS certificate of an https URL.
        type: bool
        default: true
      ca_path:
        description: PEM bundle of the CAs that signed the server's certificate.
        type: path
  ports:
    description:
      - The TCP ports one host may expose. Scanned with nmap's connect scan (C(-sT -Pn))
        when nmap is installed, else with a connect scan in Python (at most 4096 ports,
        64 at a time).
      - Only the one host named is scanned, and only the ports given.
    type: dict
    suboptions:
      host:
        description:
          - One IP address or one DNS name. Networks, ranges, wildcards and lists are refused.
        type: str
        required: true
      ports:
        description: The ports to scan, as a list of numbers and ranges or a string such as C(22,80,8000-8100).
        type: raw
        required: true
      allow:
        description: Ports that may be open (numbers and ranges, as O(ports.ports)); any other open port fails.
        type: raw
        default: []
      require_allowed:
        description: Also fail when an allowed port is closed (the allowed ports are then scanned too).
        type: bool
        default: false
      scanner:
        description: C(auto) uses nmap when installed, else C(connect).
        type: str
        default: auto
        choices: [auto, nmap, connect]
      timeout:
        description: Seconds the connect scan waits for each port.
        type: float
        default: 1
  zap:
    description:
      - An OWASP ZAP baseline scan (passive, C(zap-baseline.py -t URL -J report)).
      - When no C(zap-baseline.py) or C(zap-baseline) is on PATH, or O(zap.enabled) is
        false, the scan is skipped with a message and nothing fails.
    type: dict
    suboptions:
      url:
        description: The site to scan.
        type: str
        required: true
      enabled:
        description: Run the scan when ZAP is installed.
        type: bool
        default: true
      min_risk:
        description: Alerts of this risk or higher fail.
        type: str
        default: medium
        choices: [informational, low, medium, high]
      spider_minutes:
        description: Minutes ZAP's spider may run (its C(-m)).
        type: int
        default: 1
      timeout:
        description: Seconds the whole scan may take.
        type: float
        default: 600
notes:
  - Supports check mode; every check only reads, so they all run.
  - The checks contact the targets from the host running the module.
seealso:
  - name: OWASP ZAP baseline scan
    description: The passive scan used by O(zap).
    link: https://www.zaproxy.org/docs/docker/baseline-scan/
author:
  - YYC3 platform team
"""

EXAMPLES = r"""
- name: Check the canary's security before users reach it
  canary_security:
    tls:
      host: canary.yyc3.example.com
      min_version: TLSv1.2
      min_days: 14
    headers:
      url: https://canary.yyc3.example.com/api/health
    ports:
      host: canary.yyc3.example.com
      ports: 1-1024,8080,9090
      allow: [80, 443]
    zap:
      url: https://canary.yyc3.example.com/
  register: security

- name: Custom header expectations and a private CA
  canary_security:
    tls:
      host: 127.0.0.1
      port: 8443
      server_name: canary.internal
      ca_path: /etc/pki/internal-ca.pem
    headers:
      url: https://127.0.0.1:8443/
      ca_path: /etc/pki/internal-ca.pem
      expect:
        Strict-Transport-Security: {min_max_age: 31536000}
        Server: {present: false}
        Cache-Control: {matches: no-store}
"""

RETURN = r"""
failures:
  description: One reason per failed check, each starting with the check's name; empty when all passed.
  returned: always
  type: list
  elements: str
  sample: ["tls.min_days: certificate expires in 3 days (not_after 2026-05-01T00:00:00+00:00), below min 14"]
failed_sections:
  description: The sections (C(tls), C(headers), C(ports), C(zap)) with at least one failure.
  returned: always
  type: list
  elements: str
  sample: [tls]
tls:
  description:
    - What the endpoint offered, when O(tls) is set. C(target), C(server_name),
      C(version), C(cipher), C(subject), C(issuer), C(san), C(not_after), C(days_left),
      C(verified), C(verify_error), C(hostname_matches), C(probes) (version to
      C(accepted), C(refused) or C(unavailable) with why), and C(failures).
    - Only C(target), C(server_name) and C(failures) when no handshake succeeded.
  returned: when tls is set
  type: dict
  sample:
    target: 127.0.0.1:8443
    version: TLSv1.3
    days_left: 89
    verified: true
    hostname_matches: true
    probes: {TLSv1: refused, TLSv1.1: refused}
    failures: []
headers:
  description: The URL, the HTTP C(status), each expected header's value (null when absent) under C(headers), and C(failures).
  returned: when headers is set
  type: dict
ports:
  description: The C(host), the C(scanner) used, the count of ports C(scanned), the C(open) ports, the C(unexpected) ones, the C(closed_allowed) ones, and C(failures).
  returned: when ports is set
  type: dict
zap:
  description: The C(url), and either C(skipped) (why) or C(exit_code), the C(alerts) at or above O(zap.min_risk), and C(failures).
  returned: when zap is set
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.validation import tls, zap
from ansible.module_utils.validation.security import SECTIONS, prepare_sections, run_sections

ARGUMENT_SPEC = {
    "tls": {
        "type": "dict",
        "options": {
            "host": {"type": "str", "required": True},
            "port": {"type": "int", "default": 443},
            "server_name": {"type": "str"},
            "ca_path": {"type": "path"},
            "min_version": {"type": "str", "default": "TLSv1.2", "choices": list(tls.VERSIONS)},
            "min_days": {"type": "int", "default": 14},
            "verify": {"type": "bool", "default": True},
            "check_hostname": {"type": "bool", "default": True},
            "probe": {"type": "bool", "default": True},
            "timeout": {"type": "float", "default": 5},
        },
    },
    "headers": {
        "type": "dict",
        "options": {
            "url": {"type": "str", "required": True},
            "expect": {"type": "dict"},
            "request_headers": {"type": "dict", "default": {}},
            "timeout": {"type": "float", "default": 10},
            "validate_certs": {"type": "bool", "default": True},
            "ca_path": {"type": "path"},
        },
    },
    "ports": {
        "type": "dict",
        "options": {
            "host": {"type": "str", "required": True},
            "ports": {"type": "raw", "required": True},
            "allow": {"type": "raw", "default": []},
            "require_allowed": {"type": "bool", "default": False},
            "scanner": {"type": "str", "default": "auto", "choices": ["auto", "nmap", "connect"]},
            "timeout": {"type": "float", "default": 1},
        },
    },
    "zap": {
        "type": "dict",
        "options": {
            "url": {"type": "str", "required": True},
            "enabled": {"type": "bool", "default": True},
            "min_risk": {"type": "str", "default": "medium", "choices": list(zap.RISKS)},
            "spider_minutes": {"type": "int", "default": 1},
            "timeout": {"type": "float", "default": 600},
        },
    },
}


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_one_of=[list(SECTIONS)],
        supports_check_mode=True,
    )
    try:
        settings = prepare_sections(module.params)
    except ValueError as exc:
        module.fail_json(msg=f"invalid arguments: {exc}")
    results, failures = run_sections(settings)
    failed_sections = [name for name, result in results.items() if result["failures"]]
    if failures:
        module.fail_json(
            msg=f"security checks failed: {'; '.join(failures)}",
            failures=failures,
            failed_sections=failed_sections,
            **results,
        )
    module.exit_json(changed=False, failures=[], failed_sections=[], **results)


if __name__ == "__main__":
    main()
