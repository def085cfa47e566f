"""What a canary's TLS endpoint offers, judged against the release's bounds.

A canary that ships with an expiring, mis-issued or downgraded certificate hurts users as
surely as one that answers 500s, so it is checked before users reach it. One handshake
describes the endpoint (protocol, cipher, certificate) and says whether the chain
verifies; extra handshakes limited to one old protocol version each show whether the
server still accepts versions below ``min_version``, which the negotiated version alone
cannot tell (a server picks the highest version both sides speak).

Old servers are described with a context at OpenSSL security level 0, because Debian's
OpenSSL 3 will not even offer TLS 1.0 or 1.1 at its default level. Chain verification is
first tried at the default level, so a weak chain verifies only for a server that no
modern client can reach at all; key strength itself is not judged.
"""

import datetime
import ipaddress
import socket
import ssl
import warnings

from ansible.module_utils.common.text.converters import to_text

VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_TLS_VERSION = {
    "TLSv1": "TLSv1",
    "TLSv1.1": "TLSv1_1",
    "TLSv1.2": "TLSv1_2",
    "TLSv1.3": "TLSv1_3",
}
# OpenSSL's reasons when the server turned the offered version down (an alert, or an
# answer in another version). Any other failure leaves the probe inconclusive: the client
# itself may be unable to offer or finish that version, as Debian's OpenSSL 3 is above
# security level 0 (LEGACY_SIGALG_DISALLOWED_OR_UNSUPPORTED, NO_PROTOCOLS_AVAILABLE).
_REFUSED = {
    "TLSV1_ALERT_PROTOCOL_VERSION",
    "UNSUPPORTED_PROTOCOL",
    "WRONG_VERSION_NUMBER",
    "SSLV3_ALERT_HANDSHAKE_FAILURE",
    "TLSV1_ALERT_INSUFFICIENT_SECURITY",
}
LEGACY_CIPHERS = "DEFAULT@SECLEVEL=0"

DEFAULTS = {
    "port": 443,
    "server_name": None,
    "ca_path": None,
    "min_version": "TLSv1.2",
    "min_days": 14,
    "verify": True,
    "check_hostname": True,
    "probe": True,
    "timeout": 5.0,
}


def prepare(options):
    """Validated settings from ``options``; raises ``ValueError("<field>: why")``."""
    settings = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    if not settings.get("host"):
        raise ValueError("host: required")
    if not 1 <= int(settings["port"]) <= 65535:
        raise ValueError(f"port: {settings['port']} is not between 1 and 65535")
    if settings["min_version"] not in VERSIONS:
        raise ValueError(f"min_version: {settings['min_version']!r} is not one of {VERSIONS}")
    if settings["min_days"] < 0:
        raise ValueError(f"min_days: {settings['min_days']} must not be negative")
    if settings["timeout"] <= 0:
        raise ValueError(f"timeout: {settings['timeout']} must be positive")
    settings["server_name"] = settings["server_name"] or settings["host"]
    return settings


def _context(verify, legacy, ca_path):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False  # matched separately, so that a mismatch is its own check
    if verify:
        context.verify_mode = ssl.CERT_REQUIRED
        if ca_path:
            context.load_verify_locations(cafile=ca_path)
        else:
            context.load_default_certs()
    else:
        context.verify_mode = ssl.CERT_NONE
    if legacy:
        context.set_ciphers(LEGACY_CIPHERS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # old versions are the point
            context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    return context


def _handshake(settings, context):
    """(version, cipher, DER certificate) of one handshake with ``context``."""
    with (
        socket.create_connection((settings["host"], settings["port"]), settings["timeout"]) as raw,
        context.wrap_socket(raw, server_hostname=settings["server_name"]) as conn,
    ):
        return conn.version(), conn.cipher()[0], conn.getpeercert(binary_form=True)


def _connect(settings):
    """Describe the endpoint and verify its chain, trying a modern client first.

    Returns (description, verified, verify_error); raises ``OSError`` (``ssl.SSLError``
    included) when no client configuration can complete a handshake.
    """
    error = None
    for legacy in (False, True):
        try:
            return _handshake(settings, _context(True, legacy, settings["ca_path"])), True, None
        except ssl.SSLCertVerificationError as exc:
            described = _handshake(settings, _context(False, legacy, None))
            return described, False, exc.verify_message or str(exc)
        except ssl.SSLError as exc:
            error = exc
    raise error


def _describe_certificate(der):
    """Subject, issuer, SAN and expiry of a DER certificate, without trusting it."""
    # ansible-core's own dependency on the controller; imported here so that the other
    # checks still run where it is missing.
    from cryptography import x509

    certificate = x509.load_der_x509_certificate(der)
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        san = [f"DNS:{name}" for name in extension.value.get_values_for_type(x509.DNSName)]
        san += [f"IP:{ip}" for ip in extension.value.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        san = []
    not_after = certificate.not_valid_after_utc
    now = datetime.datetime.now(datetime.UTC)
    return {
        "subject": certificate.subject.rfc4514_string(),
        "issuer": certificate.issuer.rfc4514_string(),
        "san": san,
        "not_after": not_after.isoformat(),
        "days_left": (not_after - now).days,
    }


def hostname_matches(name, san):
    """Whether ``name`` is covered by the SAN entries (RFC 6125: no CN fallback).

    A wildcard stands for exactly one whole left-most label, as browsers match it.
    """
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None:
        return any(
            entry.startswith("IP:") and ipaddress.ip_address(entry[3:]) == address for entry in san
        )
    labels = name.lower().rstrip(".").split(".")
    for entry in san:
        if not entry.startswith("DNS:"):
            continue
        pattern = entry[4:].lower().rstrip(".").split(".")
        if len(pattern) != len(labels):
            continue
        if pattern[0] == "*" and len(pattern) > 2:
            pattern[0] = labels[0]
        if pattern == labels:
            return True
    return False


def _probe(settings, version):
    """``accepted``, ``refused``, or ``unavailable: why`` for one protocol version."""
    context = _context(False, True, None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = context.maximum_version = getattr(
                ssl.TLSVersion, _TLS_VERSION[version]
            )
    except ValueError as exc:
        return f"unavailable: this OpenSSL cannot offer {version} ({exc})"
    try:
        _handshake(settings, context)
    except (ssl.SSLEOFError, ConnectionResetError):
        return "refused"  # the server hung up on the offer
    except ssl.SSLError as exc:
        if exc.reason in _REFUSED:
            return "refused"
        return f"unavailable: this OpenSSL cannot complete a {version} handshake ({exc.reason})"
    except OSError as exc:
        return f"unavailable: {to_text(exc)}"
    return "accepted"


def check_tls(settings):
    """Connect to the endpoint and judge it; ``settings`` come from ``prepare``.

    Returns a description of the endpoint with ``failures``: one reason per failed check,
    each naming the check, the value and the bound.
    """
    target = f"{settings['host']}:{settings['port']}"
    result = {"target": target, "server_name": settings["server_name"], "failures": []}
    failures = result["failures"]
    try:
        (version, cipher, der), verified, verify_error = _connect(settings)
    except OSError as exc:
        failures.append(f"tls.connect: no TLS handshake with {target}: {to_text(exc)}")
        return result
    certificate = _describe_certificate(der)
    matches = hostname_matches(settings["server_name"], certificate["san"])
    result.update(version=version, cipher=cipher, **certificate)
    result.update(verified=verified, verify_error=verify_error, hostname_matches=matches)

    bound = settings["min_version"]
    if VERSIONS.index(version) < VERSIONS.index(bound):
        failures.append(f"tls.min_version: negotiated {version} is below min {bound}")
    if settings["probe"]:
        result["probes"] = {v: _probe(settings, v) for v in VERSIONS[: VERSIONS.index(bound)]}
        failures.extend(
            f"tls.min_version: server accepts {v}, below min {bound}"
            for v, outcome in result["probes"].items()
            if outcome == "accepted" and v != version
        )
    if certificate["days_left"] < settings["min_days"]:
        failures.append(
            f"tls.min_days: certificate expires in {certificate['days_left']} days "
            f"(not_after {certificate['not_after']}), below min {settings['min_days']}"
        )
    if settings["verify"] and not verified:
        store = settings["ca_path"] or "the system store"
        failures.append(f"tls.verify: chain does not verify against {store}: {verify_error}")
    if settings["check_hostname"] and not matches:
        failures.append(
            f"tls.hostname: {settings['server_name']!r} is not among the certificate's "
            f"names [{', '.join(certificate['san'])}]"
        )
    return result
