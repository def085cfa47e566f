"""Container probes as the kubelet runs them: ``httpGet`` and ``tcpSocket``.

A probe passes after ``successThreshold`` passes in a row and fails after
``failureThreshold`` failures in a row, tried every ``periodSeconds`` once
``initialDelaySeconds`` have passed since the container started; each try gives up
after ``timeoutSeconds``. The defaults are Kubernetes' own. ``exec`` and ``grpc``
probes are refused (the sandbox runs no container images to exec into).
"""

import dataclasses
import http.client
import socket
import ssl

DEFAULTS = {
    "initialDelaySeconds": 0,
    "periodSeconds": 10,
    "timeoutSeconds": 1,
    "successThreshold": 1,
    "failureThreshold": 3,
}


class UnsupportedProbe(ValueError):
    """A probe the sandbox node cannot run."""


def resolve_port(port, container):
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int) or str(port).isdigit():
        return int(port)
    for declared in container.get("ports") or []:
        if declared.get("name") == port:
            return int(declared["containerPort"])
    raise UnsupportedProbe(f"probe port {port!r} is not a port of container {container['name']}")


@dataclasses.dataclass
class Probe:
    kind: str  # httpGet | tcpSocket
    port: int
    path: str
    scheme: str
    headers: dict
    initial_delay: float
    period: float
    timeout: float
    success_threshold: int
    failure_threshold: int

    @classmethod
    def parse(cls, spec, container):
        """A Probe from a container's probe spec, or None when there is none."""
        if not spec:
            return None
        timing = {**DEFAULTS, **{k: v for k, v in spec.items() if k in DEFAULTS}}
        for kind in ("httpGet", "tcpSocket"):
            if kind in spec:
                action = spec[kind]
                break
        else:
            found = ", ".join(k for k in spec if k not in DEFAULTS) or "nothing"
            raise UnsupportedProbe(f"only httpGet and tcpSocket probes run here, not {found}")
        return cls(
            kind=kind,
            port=resolve_port(action["port"], container),
            path=action.get("path") or "/",
            scheme=(action.get("scheme") or "HTTP").upper(),
            headers={h["name"]: h["value"] for h in action.get("httpHeaders") or []},
            initial_delay=float(timing["initialDelaySeconds"]),
            period=float(timing["periodSeconds"]),
            timeout=float(timing["timeoutSeconds"]),
            success_threshold=int(timing["successThreshold"]),
            failure_threshold=int(timing["failureThreshold"]),
        )

    def attempt(self, address):
        """One try against the pod's address: True when it passes."""
        if self.kind == "tcpSocket":
            try:
                with socket.create_connection((address, self.port), timeout=self.timeout):
                    return True
            except OSError:
                return False
        connection_class = (
            http.client.HTTPSConnection if self.scheme == "HTTPS" else http.client.HTTPConnection
        )
        # The kubelet does not verify a probe's certificate either.
        extra = {}
        if self.scheme == "HTTPS":
            extra["context"] = ssl._create_unverified_context()
        connection = connection_class(address, self.port, timeout=self.timeout, **extra)
        try:
            connection.request(
                "GET", self.path, headers={"User-Agent": "kube-probe/sandbox", **self.headers}
            )
            return 200 <= connection.getresponse().status < 400
        except OSError:
            return False
        finally:
            connection.close()


class ProbeState:
    """Thresholds over consecutive results; ``passing`` starts as given."""

    def __init__(self, probe, passing):
        self.probe = probe
        self.passing = passing
        self._successes = 0
        self._failures = 0

    def record(self, passed):
        """Count one result; return True when ``passing`` changed."""
        if passed:
            self._successes, self._failures = self._successes + 1, 0
            if not self.passing and self._successes >= self.probe.success_threshold:
                self.passing = True
                return True
        else:
            self._failures, self._successes = self._failures + 1, 0
            if self.passing and self._failures >= self.probe.failure_threshold:
                self.passing = False
                return True
        return False
