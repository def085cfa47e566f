"""Detached processes with PID files, and stopping them by PID only.

Every process the sandbox starts gets ``<state-dir>/pids/<name>.pid`` and
``<state-dir>/logs/<name>.log``. Before signalling a PID, its command line is checked
against what the sandbox started, so a stale PID file never hits a reused PID.
"""

import contextlib
import os
import signal
import socket
import subprocess
import time


def port_free(port, host="127.0.0.1"):
    """True when a server could listen on the port now.

    SO_REUSEADDR as the servers themselves use it: connections of an earlier run in
    TIME_WAIT do not make a port busy.
    """
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def start(argv, log_path, pid_path, cwd, env=None):
    """Start ``argv`` in its own session, log to a file, record the PID; return the process."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    write_pid(pid_path, process.pid)
    # Popen returns once the child has called exec, a moment before the kernel has mapped
    # the new program's arguments: until then /proc/<pid>/cmdline reads empty, and
    # ``running`` would take the new process for a stranger.
    deadline = time.monotonic() + 2.0
    while not cmdline(process.pid) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    return process


def write_pid(path, pid):
    with open(path, "w") as handle:
        handle.write(f"{pid}\n")


def read_pid(path):
    try:
        with open(path) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def running(pid, marker):
    """True when ``pid`` is alive, not a zombie, and its command line contains ``marker``."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as handle:
            if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
    except OSError:
        return False
    return marker in cmdline(pid)


def stop(processes, grace=5.0):
    """SIGTERM every (pid, marker) that still runs, SIGKILL what is left after ``grace``.

    Returns the PIDs that had to be killed.
    """
    targets = [(pid, marker) for pid, marker in processes if running(pid, marker)]
    for pid, _ in targets:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(running(p, m) for p, m in targets):
        time.sleep(0.1)
    killed = [pid for pid, marker in targets if running(pid, marker)]
    for pid in killed:
        _signal(pid, signal.SIGKILL)
    return killed


def _signal(pid, signum):
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def tail(path, lines=15):
    """The end of a log, for an error message."""
    try:
        with open(path, errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return "(no log)"
