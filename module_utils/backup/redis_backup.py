"""The Redis backup of a service: a fresh snapshot, copied, checked and kept.

``BGSAVE``, then wait (bounded) until ``LASTSAVE`` has moved past its value from before
the request and no save is running. ``LASTSAVE`` counts whole seconds, so the save is only
requested once the server's clock (``TIME``) has passed that value: a save finishing in
the same second as the previous one would otherwise look as if nothing happened. A save
already running (someone else's, or an AOF rewrite) is waited for, then ours is asked
for: its snapshot must start after the request.

The snapshot file - ``rdb_path``, or where the server says it saves (``CONFIG GET dir`` and
``dbfilename``) - must have been written by that save (modified after the request) and be
readable here; it is copied into the backup directory (mode 0600, sha256 sidecar), the
copy checked (``rdbfile``), and only then named as a backup. Check mode connects and
reports the keys, the last save and the file, saving nothing.
"""

import os
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from ansible.module_utils.backup import BackupError
from ansible.module_utils.backup.files import (
    create_private,
    ensure_dir,
    partial_path,
    publish,
    remove,
    sha256_of,
    sidecar_of,
)
from ansible.module_utils.backup.naming import backup_name, backup_pattern
from ansible.module_utils.backup.rdbfile import check, find_checker
from ansible.module_utils.backup.resp import ProtocolError, ReplyError, RespConnection
from ansible.module_utils.backup.retention import beyond, existing, prune
from ansible.module_utils.neterrors import short_reason

CONNECT_TIMEOUT = 10
_POLL = 0.1
_CHUNK = 1024 * 1024
_BUSY = ("already in progress", "Another child process is active")


def _utc(seconds):
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%SZ}"


@dataclass
class RedisServer:
    """Where and as whom to connect; ``label`` prefixes setting names in error messages."""

    host: str = "127.0.0.1"
    port: int = 6379
    username: str | None = None
    password: str = ""
    tls: bool = False
    ca_path: str | None = None
    validate_certs: bool = True
    label: str = ""

    def field(self, name):
        return f"{self.label}.{name}" if self.label else name

    @property
    def where(self):
        return f"Redis at {self.host}:{self.port}"

    @property
    def subject(self):
        return f"{self.label or 'redis'}: {self.where}"


def tls_context(server):
    if not server.tls:
        return None
    context = ssl.create_default_context(cafile=server.ca_path)
    if not server.validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class RedisSession:
    """An authenticated connection whose failures are BackupErrors naming the setting at fault."""

    def __init__(self, server, timeout):
        self.server = server
        try:
            self._connection = RespConnection(
                server.host, server.port, min(timeout, CONNECT_TIMEOUT), tls_context(server)
            )
        except socket.gaierror as err:
            raise BackupError(
                f"{server.field('host')}: unknown host {server.host!r} ({err.strerror})"
            ) from err
        except ssl.SSLError as err:
            raise BackupError(
                f"{server.field('tls')}: the TLS handshake with {server.where} failed: "
                f"{err.reason or err}"
            ) from err
        except OSError as err:
            raise BackupError(f"{server.subject}: cannot connect: {short_reason(err)}") from err
        try:
            if server.password:
                user = [server.username] if server.username else []
                self.ask("AUTH", *user, server.password)
            self.ask("PING")
        except BaseException:
            self._connection.close()
            raise

    def ask(self, *command):
        """The reply to ``command``; an error reply is a BackupError in the operator's terms."""
        server = self.server
        try:
            return self._connection.command(*command)
        except ReplyError as err:
            if err.code == "WRONGPASS":
                raise BackupError(
                    f"{server.field('password')}: {server.where} refused the credentials: {err}"
                ) from err
            if err.code == "NOAUTH":
                raise BackupError(
                    f"{server.field('password')}: {server.where} requires a password"
                ) from err
            if "without any password configured" in str(err):
                raise BackupError(
                    f"{server.field('password')}: {server.where} has no "
                    "password for this user, yet one was given: check the address and the user"
                ) from err
            if err.code == "NOPERM":
                raise BackupError(
                    f"{server.field('username')}: {server.where} does not allow {command[0]}: {err}"
                ) from err
            raise
        except TimeoutError as err:
            raise BackupError(f"{server.subject}: no answer to {command[0]} in time") from err
        except (ProtocolError, OSError) as err:
            raise BackupError(
                f"{server.subject}: {command[0]} failed: {short_reason(err)}"
            ) from err

    def info(self, section):
        text = self.ask("INFO", section).decode("utf-8", "replace")
        pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
        return {key: value for key, value in pairs}

    def close(self):
        self._connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def keys(session):
    """Keys per database (``{"db0": 12}``) from INFO keyspace."""
    return {
        database: int(dict(item.split("=") for item in value.split(","))["keys"])
        for database, value in session.info("keyspace").items()
    }


def rdb_location(session, rdb_path):
    """``rdb_path``, or where the server says it writes its snapshot."""
    if rdb_path:
        return rdb_path
    server = session.server
    try:
        directory = session.ask("CONFIG", "GET", "dir")
        filename = session.ask("CONFIG", "GET", "dbfilename")
    except (BackupError, ReplyError) as err:
        reason = err.__cause__ if isinstance(err, BackupError) and err.__cause__ else err
        raise BackupError(
            f"{server.field('rdb_path')}: {server.where} does not tell where it saves "
            f"(CONFIG GET: {reason}); set rdb_path"
        ) from err
    if len(directory) != 2 or len(filename) != 2:
        raise BackupError(
            f"{server.field('rdb_path')}: {server.where} hides where it "
            "saves (CONFIG GET answered nothing); set rdb_path"
        )
    return os.path.join(directory[1].decode(), filename[1].decode())


def snapshot(session, deadline, timeout):
    """Request a fresh BGSAVE and wait for it; return LASTSAVE before and after it."""
    server = session.server

    def wait():
        if time.monotonic() > deadline:
            raise BackupError(f"{server.subject}: BGSAVE did not finish within {timeout} s")
        time.sleep(_POLL)

    while True:
        before = session.ask("LASTSAVE")
        while int(session.ask("TIME")[0]) <= before:
            wait()
        try:
            session.ask("BGSAVE")
            break
        except ReplyError as err:
            if not any(busy in str(err) for busy in _BUSY):
                raise BackupError(f"{server.subject}: refused BGSAVE: {err}") from err
            wait()
    while True:
        lastsave = session.ask("LASTSAVE")
        persistence = session.info("persistence")
        if persistence.get("rdb_bgsave_in_progress") == "0":
            if persistence.get("rdb_last_bgsave_status") != "ok":
                raise BackupError(
                    f"{server.subject}: the snapshot failed (rdb_last_bgsave_status: "
                    f"{persistence.get('rdb_last_bgsave_status')}); see the server's log"
                )
            if lastsave > before:
                return before, lastsave
        wait()


def copy_snapshot(source, partial, before, server):
    """Copy the snapshot at ``source`` into ``partial``; it must be younger than ``before``."""
    where = server.where
    try:
        fd = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as err:
        raise BackupError(
            f"{server.field('rdb_path')}: {source}, where {where} saves, cannot be read on this "
            f"host ({err.strerror}): run the backup where the file is, or set rdb_path to where "
            "it is mounted here"
        ) from err
    with os.fdopen(fd, "rb") as handle:
        modified = os.fstat(handle.fileno()).st_mtime
        # The save started once the server's clock had passed `before` (whole seconds).
        if modified < before + 1:
            raise BackupError(
                f"{server.field('rdb_path')}: {source} was not written by this BGSAVE (last "
                f"modified {_utc(modified)}, "
                f"before it started): is it the file {where} saves to?"
            )
        with create_private(partial) as copy:
            while chunk := handle.read(_CHUNK):
                copy.write(chunk)


def summary(report):
    """One line for the operator about the backup, or its plan (check mode)."""
    keys = ", ".join(f"{db} {count}" for db, count in sorted(report["keyspace"].items()))
    keys = f"keys: {keys or 'none'}"
    if "would_remove" in report:
        line = (
            f"would snapshot and copy {report['rdb_path']} (last saved "
            f"{_utc(report['lastsave'])}; {keys})"
        )
        removed = report["would_remove"]
        verb = "would delete"
    else:
        line = (
            f"{report['path']} ({report['size']} bytes, sha256 {report['sha256']}): a copy of "
            f"{report['rdb_path']} saved at {_utc(report['lastsave'])} (LASTSAVE was "
            f"{_utc(report['previous_lastsave'])}), checked by redis-check-rdb; {keys}"
        )
        removed = report["removed"]
        verb = "deleted"
    names = ", ".join(os.path.basename(path) for path in removed)
    return line + (f"; retention {verb} {names}" if removed else "")


def back_up(server, settings, check_mode=False):
    """Snapshot, copy, check and keep; in check mode only report. Returns the report."""
    timeout = settings["timeout"]
    deadline = time.monotonic() + timeout
    checker = find_checker(settings["check_command"], server.field("check_command"))
    dest = settings["dest"]
    pattern = backup_pattern(settings["service"], "redis", settings["name"])
    with RedisSession(server, timeout) as session:
        source = rdb_location(session, settings["rdb_path"])
        report = {"rdb_path": source, "keyspace": keys(session)}
        if check_mode:
            if not os.access(source, os.R_OK):
                raise BackupError(
                    f"{server.field('rdb_path')}: {source} cannot be read on this host; set "
                    "rdb_path to where the snapshot is mounted here"
                )
            old = existing(dest, pattern)
            return {
                **report,
                "lastsave": session.ask("LASTSAVE"),
                "would_remove": [
                    os.path.join(dest, name) for name in beyond(old, settings["retention"] - 1)
                ],
            }
        before, after = snapshot(session, deadline, timeout)
    ensure_dir(dest, "dest")
    now = datetime.now(UTC)
    final = os.path.join(dest, backup_name(settings["service"], "redis", settings["name"], now))
    partial = partial_path(final)
    try:
        copy_snapshot(source, partial, before, server)
        check(partial, checker, max(deadline - time.monotonic(), 1))
        digest = sha256_of(partial)
        publish(partial, final, digest)
    except BaseException:
        remove(partial)
        raise
    return {
        **report,
        "path": final,
        "checksum_path": sidecar_of(final),
        "size": os.path.getsize(final),
        "sha256": digest,
        "previous_lastsave": before,
        "lastsave": after,
        "removed": prune(dest, pattern, settings["retention"]),
    }
