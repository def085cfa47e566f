"""One release of a service at a time: a coordination.k8s.io Lease as the lock.

The Lease names its holder (``user@host:pid``, or the AWX job) and expires
unless renewed; the bake loop renews it every interval. A new run may take the
lock over when it has expired, when its holder was a process on this same host
that no longer exists (an operator pressed Ctrl-C and re-runs), or when the
operator asks for it explicitly. Every take-over is reported so the ledger can
record it.
"""

import getpass
import os
import socket
import subprocess
from datetime import UTC, datetime

from ansible.module_utils.cluster import Conflict

HOST_ANNOTATION = "canary.yyc3.io/holder-host"
PID_ANNOTATION = "canary.yyc3.io/holder-pid"
_CONTROLLER_COMMANDS = ("ansible-playbook", "ansible-runner", "ansible_runner")


class LockHeld(Exception):
    """Another live run holds the release lock."""


def _now():
    return datetime.now(UTC)


def micro_time(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_micro_time(text):
    if not text:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def _cmdline(pid):
    if os.path.isdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                return handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            return ""
    return _ps(pid, "command=")


def _parent(pid):
    if os.path.isdir("/proc"):
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
                return int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return 0
    try:
        return int(_ps(pid, "ppid=") or 0)
    except ValueError:
        return 0


def _ps(pid, field):
    """Ask ps(1), for controllers without /proc (macOS workstations)."""
    try:
        return subprocess.run(
            ["ps", "-o", field, "-p", str(pid)], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return ""


def controller_pid():
    """Return the pid of the ansible-playbook run this module belongs to.

    A module runs in a short-lived child of a forked worker; the run itself is
    the top-most ancestor whose command line is ansible-playbook (a forked
    worker keeps that command line, the run is the last one up the tree).
    """
    found, pid = None, os.getpid()
    while pid > 1:
        if any(command in _cmdline(pid) for command in _CONTROLLER_COMMANDS):
            found = pid
        pid = _parent(pid)
    return found or os.getppid()


def run_identity(holder=None):
    """Describe this run: holder string, host and pid."""
    host = socket.gethostname()
    pid = controller_pid()
    if not holder:
        if os.environ.get("JOB_ID") and os.environ.get("AWX_HOST"):
            holder = f"awx-job-{os.environ['JOB_ID']}@{host}"
        else:
            holder = f"{getpass.getuser()}@{host}:{pid}"
    return {"holder": holder, "host": host, "pid": pid}


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return any(command in _cmdline(pid) for command in _CONTROLLER_COMMANDS)


def stale_reason(lease, identity, now=None):
    """Return why the lease may be taken over, or None when its holder is live."""
    now = now or _now()
    spec = lease.get("spec") or {}
    if not spec.get("holderIdentity"):
        return "free"
    renewed = parse_micro_time(spec.get("renewTime") or spec.get("acquireTime"))
    duration = spec.get("leaseDurationSeconds") or 0
    if renewed is None or (now - renewed).total_seconds() > duration:
        return "expired"
    annotations = (lease.get("metadata") or {}).get("annotations") or {}
    if annotations.get(HOST_ANNOTATION) == identity["host"]:
        try:
            pid = int(annotations.get(PID_ANNOTATION, ""))
        except ValueError:
            return None
        if pid != identity["pid"] and not _process_alive(pid):
            return f"its run (pid {pid} on {identity['host']}) has ended"
    return None


def describe_holder(lease, now=None):
    """A sentence naming the holder, since when, and until when."""
    now = now or _now()
    spec = lease.get("spec") or {}
    acquired = spec.get("acquireTime") or "an unknown time"
    renewed = parse_micro_time(spec.get("renewTime") or spec.get("acquireTime"))
    expires = ""
    if renewed is not None:
        left = spec.get("leaseDurationSeconds", 0) - (now - renewed).total_seconds()
        expires = f", expires in {max(0, int(left))}s unless renewed"
    return f"{spec.get('holderIdentity')} (since {acquired}{expires})"


def for_release(cluster, release, holder=None):
    """The lock of a completed release spec, held under this run's identity."""
    return ReleaseLock(
        cluster,
        release["ledger"]["namespace"],
        release["ledger"]["lock"],
        run_identity(holder),
        release["lock_ttl_seconds"],
    )


class ReleaseLock:
    """The Lease ``<name>`` in ``namespace`` guarding one service's releases."""

    def __init__(self, cluster, namespace, name, identity, ttl):
        self.cluster = cluster
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.ttl = int(ttl)

    def read(self):
        return self.cluster.get("coordination.k8s.io/v1", "Lease", self.name, self.namespace)

    def _definition(self, lease, acquired_at, now, transitions):
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                **((lease or {}).get("metadata") or {}),
                "name": self.name,
                "namespace": self.namespace,
                "labels": {"app.kubernetes.io/managed-by": "canary-runbooks"},
                "annotations": {
                    HOST_ANNOTATION: self.identity["host"],
                    PID_ANNOTATION: str(self.identity["pid"]),
                },
            },
            "spec": {
                "holderIdentity": self.identity["holder"],
                "leaseDurationSeconds": self.ttl,
                "acquireTime": acquired_at,
                "renewTime": micro_time(now),
                "leaseTransitions": transitions,
            },
        }

    def check_available(self, takeover=False, now=None):
        """Raise LockHeld, without writing, when another live run holds the lock."""
        now = now or _now()
        lease = self.read()
        holder = ((lease or {}).get("spec") or {}).get("holderIdentity")
        if lease is None or holder in (None, "", self.identity["holder"]) or takeover:
            return
        if stale_reason(lease, self.identity, now) is None:
            raise LockHeld(self._held_message(lease, now))

    def _held_message(self, lease, now):
        return (
            f"another release holds the lock Lease {self.namespace}/{self.name}: "
            f"{describe_holder(lease, now)}. Wait for it to finish, or if that run is "
            "gone, re-run with -e canary_lock_takeover=true"
        )

    def acquire(self, takeover=False, now=None):
        """Take or renew the lock; return the holder it was taken from (or None).

        Raises LockHeld naming the holder when another live run has it.
        """
        try:
            return self._acquire(takeover, now or _now())
        except Conflict as err:
            raise LockHeld(
                f"another run took the lock Lease {self.namespace}/{self.name} at the same moment"
            ) from err

    def _acquire(self, takeover, now):
        lease = self.read()
        spec = (lease or {}).get("spec") or {}
        holder = spec.get("holderIdentity")
        if lease is None:
            self.cluster.create(self._definition(None, micro_time(now), now, 0))
            return None
        if holder == self.identity["holder"]:
            self.cluster.replace(
                self._definition(
                    lease, spec.get("acquireTime"), now, spec.get("leaseTransitions", 0)
                )
            )
            return None
        reason = stale_reason(lease, self.identity, now)
        if reason is None and not takeover:
            raise LockHeld(self._held_message(lease, now))
        self.cluster.replace(
            self._definition(lease, micro_time(now), now, spec.get("leaseTransitions", 0) + 1)
        )
        if reason == "free":
            return None
        return f"{holder} ({reason or 'taken over on request'})"

    def renew(self, now=None, lease=None):
        """Extend the lease (as read now, or ``lease``); raise LockHeld if another run has it."""
        now = now or _now()
        lease = lease or self.read()
        spec = (lease or {}).get("spec") or {}
        if lease is None or spec.get("holderIdentity") != self.identity["holder"]:
            holder = describe_holder(lease) if lease else "nobody (the Lease is gone)"
            raise LockHeld(f"this run no longer holds the release lock; it is held by {holder}")
        self.cluster.replace(
            self._definition(lease, spec.get("acquireTime"), now, spec.get("leaseTransitions", 0))
        )

    def renew_if_held(self, now=None):
        """Renew when this run holds the lock; raise LockHeld when another run does."""
        lease = self.read()
        holder = ((lease or {}).get("spec") or {}).get("holderIdentity")
        if holder:
            self.renew(now, lease)

    def release(self, now=None):
        """Free the lock if this run holds it, or if its holder is gone.

        A live holder keeps it: the rollback of a running release leaves the
        lock to that run, which stops at its next step. Returns True when freed.
        """
        lease = self.read()
        holder = ((lease or {}).get("spec") or {}).get("holderIdentity")
        if lease is None or not holder:
            return False
        if holder != self.identity["holder"] and stale_reason(lease, self.identity, now) is None:
            return False
        lease["spec"] = {
            "leaseDurationSeconds": lease["spec"].get("leaseDurationSeconds", self.ttl),
            "leaseTransitions": lease["spec"].get("leaseTransitions", 0),
        }
        self.cluster.replace(lease)
        return True
