"""The security checks by section: how each is validated and run.

Shared by the canary_security module and the release's validation suite, so a section
is declared once. Every check only reads.
"""

from ansible.module_utils.validation import headers, ports, tls, zap

SECTIONS = {
    "tls": (tls.prepare, tls.check_tls),
    "headers": (headers.prepare, headers.check_headers),
    "ports": (ports.prepare, ports.check_ports),
    "zap": (zap.prepare, zap.check_zap),
}


def prepare_sections(options, prefix=""):
    """Validated settings of each given section; raises ``ValueError`` naming the field."""
    settings = {}
    for name, (prepare, _) in SECTIONS.items():
        if options.get(name) is not None:
            try:
                settings[name] = prepare(options[name])
            except ValueError as exc:
                raise ValueError(f"{prefix}{name}.{exc}") from None
    return settings


def run_sections(settings):
    """Run each prepared section; return ``(results by section, failures)``."""
    results = {name: SECTIONS[name][1](options) for name, options in settings.items()}
    failures = [reason for result in results.values() for reason in result["failures"]]
    return results, failures
