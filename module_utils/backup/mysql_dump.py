"""A consistent, compressed dump of one database, counted while it is written.

``--single-transaction`` reads every InnoDB table inside one consistent snapshot without
locking writers; each database is dumped without ``--databases`` so the dump holds no
``USE`` or ``CREATE DATABASE`` and can only ever be restored into the database the restore
names (the scratch database of the verification). The dumper's output is compressed with
gzip while it streams and scanned on the way (``dumpfile.DumpScanner``) for the rows each
table received and the completion line.
"""

import gzip
import subprocess
import tempfile
import threading

from ansible.module_utils.backup import BackupError
from ansible.module_utils.backup.dumpfile import DumpScanner
from ansible.module_utils.backup.files import create_private
from ansible.module_utils.backup.mysql_client import explain

DEFAULT_OPTIONS = (
    "--single-transaction",
    "--quick",  # row by row, not whole tables in the dumper's memory
    "--hex-blob",
    "--routines",
    "--triggers",
    "--no-tablespaces",  # tablespaces are not per database and need the PROCESS privilege
)

_NAMES_DATABASES = "would make the dump name its database, and a restore write to it"
_CONNECTION = "is set from the connection settings, never in options"
_COMPLETION = "drops the '-- Dump completed' line that proves a dump is complete"
_SNAPSHOT = "breaks the consistent snapshot of --single-transaction"
# Options refused, by name (after --skip-/--disable-/--loose-, with - for _), and why.
REFUSED = {
    "databases": _NAMES_DATABASES,
    "all-databases": _NAMES_DATABASES,
    "add-drop-database": _NAMES_DATABASES,
    "tab": "writes files on the server instead of the dump",
    "xml": "writes XML, which cannot be restored or verified",
    "result-file": "writes somewhere else than the backup file",
    "dir": "writes somewhere else than the backup file",
    "compact": _COMPLETION,
    "comments": _COMPLETION,
    "lock-all-tables": _SNAPSHOT,
    "lock-tables": _SNAPSHOT,
    "single-transaction": _SNAPSHOT,
    "force": "goes on after errors: a table that could not be read would be missing from a "
    "dump that looks complete",
    "quote-names": "leaves table names unquoted, which the verification cannot read",
    "events": "creates the events in the scratch database during the verification, where "
    "their schedule would run them",
    "host": _CONNECTION,
    "port": _CONNECTION,
    "socket": _CONNECTION,
    "protocol": _CONNECTION,
    "user": _CONNECTION,
    "password": _CONNECTION,
    "defaults-file": _CONNECTION,
    "defaults-extra-file": _CONNECTION,
    "defaults-group-suffix": _CONNECTION,
    "no-defaults": _CONNECTION,
}
# Refused when turned off (their default is what the backup relies on); the others when on.
_REFUSED_WHEN_OFF = {"comments", "quote-names", "single-transaction"}
_PREFIXES = ("loose-", "skip-", "disable-", "enable-")


def option_problems(options, field):
    """Why each of ``options`` (extra dumper arguments) cannot be used, naming ``field``."""
    problems = []
    for index, option in enumerate(options):
        where = f"{field}[{index}]"
        if not option.startswith("--") or option == "--":
            problems.append(f"{where}: {option!r}: use the long form (--name or --name=value)")
            continue
        name = option[2:].split("=", 1)[0].replace("_", "-")
        turned_off = False
        for prefix in _PREFIXES:
            if name.startswith(prefix):
                turned_off = turned_off or prefix in ("skip-", "disable-")
                name = name[len(prefix) :]
        if name.startswith("ssl"):
            problems.append(f"{where}: {option} {_CONNECTION}")
        elif name in REFUSED and turned_off == (name in _REFUSED_WHEN_OFF):
            problems.append(f"{where}: {option} is not allowed: it {REFUSED[name]}")
    return problems


def dump(session, database, partial, options):
    """Dump ``database`` into the new file ``partial`` (gzip); return the DumpScanner of it.

    A dumper that fails, times out or stops before its completion line is a BackupError;
    ``partial`` is then left for the caller to remove.
    """
    command = session.command(session.server.dump_command, "dump_command")
    argv = session.argv(command, *DEFAULT_OPTIONS, *options, "--", database)
    scanner = DumpScanner()
    timed_out = threading.Event()
    with tempfile.TemporaryFile() as errors, create_private(partial) as raw:
        # stderr goes to a file: a pipe left unread could fill and stall the dumper.
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors
        )

        def expire():
            timed_out.set()
            process.kill()

        timer = threading.Timer(session.timeout, expire)
        timer.start()
        try:
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) as compressed:
                for line in process.stdout:
                    scanner.feed(line)
                    compressed.write(line)
        except BaseException:
            process.kill()
            raise
        finally:
            timer.cancel()
            process.stdout.close()
            status = process.wait()
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace")
    server = session.server
    if timed_out.is_set():
        raise BackupError(
            f"{server.subject}: the dump of {database} from the server at "
            f"{server.where} did not finish within {session.timeout} s"
        )
    if status != 0:
        raise BackupError(f"{explain(server, stderr, database)} (dumping {database})")
    if not scanner.complete:
        raise BackupError(
            f"{server.subject}: the dump of {database} ended without the dumper's '-- Dump "
            "completed' line: it is incomplete"
        )
    return scanner
