"""The TCP ports a canary host exposes, compared with an allow-list.

A canary build can open a port the stable one keeps closed (a debug server, a metrics
endpoint without auth), so its reachable ports are compared with the ones the release
allows. The scan is nmap's TCP connect scan when nmap is installed, else a plain connect
scan in Python of the same ports; either looks at exactly one host, named literally, and
only at the ports given, so a typo cannot turn it into a sweep of a network.
"""

import concurrent.futures
import ipaddress
import re
import shutil
import socket
import subprocess
import xml.etree.ElementTree as ElementTree

from ansible.module_utils.common.text.converters import to_text

# The connect fallback waits up to ``timeout`` on each filtered port; bounding the count
# keeps its worst case (MAX_CONNECT_PORTS / CONCURRENCY * timeout) near a minute.
MAX_CONNECT_PORTS = 4096
CONCURRENCY = 64
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$",
    re.IGNORECASE,
)


def parse_ports(spec, field="ports"):
    """Sorted port numbers from ``"22,80,8000-8010"`` or a list of numbers and ranges."""
    items = spec if isinstance(spec, list) else str(spec).split(",")
    ports = set()
    for item in items:
        text = str(item).strip()
        low, _, high = text.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise ValueError(
                f"{field}: {text!r} is not a port or a range such as 8000-8010"
            ) from None
        if not 1 <= first <= last <= 65535:
            raise ValueError(f"{field}: {text!r} is not within 1-65535 in increasing order")
        ports.update(range(first, last + 1))
    if not ports:
        raise ValueError(f"{field}: no ports given")
    return sorted(ports)


def check_host(host):
    """``host`` when it names exactly one host (an address or a DNS name), else ValueError.

    Networks (``10.0.0.0/24``), nmap ranges (``10.0.0.1-20``), wildcards and lists are
    refused, as is anything nmap could read as an option.
    """
    host = (host or "").strip()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        # A top-level label has a letter (RFC 3696), so 10.0.0.1-20 is no host name.
        top = host.rstrip(".").rsplit(".", 1)[-1]
        if not _HOSTNAME.match(host) or not re.search("[a-z]", top, re.IGNORECASE):
            raise ValueError(
                f"host: {host!r} is neither one IP address nor one host name; "
                "networks and ranges are never scanned"
            ) from None
    return host


def prepare(options):
    """Validated settings; raises ``ValueError("<field>: why")`` naming the bad field."""
    settings = {
        "host": check_host(options.get("host")),
        "ports": parse_ports(options.get("ports") or [], "ports"),
        "allow": parse_ports(options["allow"], "allow") if options.get("allow") else [],
        "require_allowed": bool(options.get("require_allowed")),
        "scanner": options.get("scanner") or "auto",
        "timeout": options.get("timeout") or 1.0,
    }
    if settings["scanner"] not in ("auto", "nmap", "connect"):
        raise ValueError(f"scanner: {settings['scanner']!r} is not one of auto, nmap, connect")
    if settings["require_allowed"]:
        # The allowed ports must be looked at to be found closed.
        settings["ports"] = sorted(set(settings["ports"]) | set(settings["allow"]))
    too_many = len(settings["ports"]) > MAX_CONNECT_PORTS
    if too_many and (settings["scanner"] == "connect" or not shutil.which("nmap")):
        raise ValueError(
            f"ports: {len(settings['ports'])} ports exceed the connect scan's limit of "
            f"{MAX_CONNECT_PORTS}; install nmap or scan fewer"
        )
    return settings


def _ranges(ports):
    """nmap's compact form of sorted ports: ``22,80,8000-8010``."""
    runs = []
    for port in ports:
        if runs and runs[-1][1] == port - 1:
            runs[-1][1] = port
        else:
            runs.append([port, port])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def scan_nmap(host, ports, timeout):
    """Open ports of ``host`` among ``ports``, by nmap's TCP connect scan (no raw sockets)."""
    command = ["nmap", "-Pn", "-n", "-sT", "--max-retries", "1", "-p", _ranges(ports), "-oX", "-"]
    run = subprocess.run(
        [*command, host],
        capture_output=True,
        text=True,
        timeout=60 + timeout * len(ports) / CONCURRENCY,
        check=False,
    )
    if run.returncode != 0:
        raise RuntimeError(f"nmap exited with {run.returncode}: {run.stderr.strip()}")
    root = ElementTree.fromstring(run.stdout)
    return sorted(
        int(port.get("portid"))
        for port in root.iter("port")
        if port.get("protocol") == "tcp" and port.find("state").get("state") == "open"
    )


def scan_connect(host, ports, timeout):
    """Open ports of ``host`` among ``ports``: those that accept a TCP connection."""
    address = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0]
    family, address = address[0], address[4][0]

    def is_open(port):
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            return sock.connect_ex((address, port)) == 0

    with concurrent.futures.ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        return [
            port for port, opened in zip(ports, pool.map(is_open, ports), strict=True) if opened
        ]


def check_ports(settings):
    """Scan and compare with the allow-list; ``settings`` come from ``prepare``.

    An open port outside the allow-list fails; with ``require_allowed``, so does an
    allowed port that is closed.
    """
    scanner = settings["scanner"]
    if scanner == "auto":
        scanner = "nmap" if shutil.which("nmap") else "connect"
    result = {"host": settings["host"], "scanner": scanner, "scanned": len(settings["ports"])}
    result["failures"] = failures = []
    scan = scan_nmap if scanner == "nmap" else scan_connect
    try:
        opened = scan(settings["host"], settings["ports"], settings["timeout"])
    except (OSError, RuntimeError, subprocess.SubprocessError, ElementTree.ParseError) as exc:
        failures.append(f"ports.scan: {scanner} scan of {settings['host']} failed: {to_text(exc)}")
        return result
    allowed = set(settings["allow"])
    result["open"] = opened
    result["unexpected"] = [port for port in opened if port not in allowed]
    result["closed_allowed"] = sorted(allowed.intersection(settings["ports"]) - set(opened))
    if result["unexpected"]:
        failures.append(
            f"ports.allow: {settings['host']} has open ports {result['unexpected']} "
            f"not in the allow-list {settings['allow']}"
        )
    if settings["require_allowed"] and result["closed_allowed"]:
        failures.append(
            f"ports.require_allowed: allowed ports {result['closed_allowed']} "
            f"are closed on {settings['host']}"
        )
    return result
