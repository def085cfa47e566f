"""Prove a dump restores: load it into a scratch database on the same server and compare.

Never the live database: the dump is restored into ``canary_verify_<random>``, created
for the purpose (``CREATE DATABASE`` fails rather than reuse an existing one) and always
dropped afterwards, whether the verification passed, failed or was interrupted.

Before anything touches the server, the file must match its sha256, decompress whole,
end with the dumper's completion line and name no database (``dumpfile``). After the
restore, the scratch database must hold exactly the dump's tables, each with the number
of rows the dump inserts into it. Where the backup took ``CHECKSUM TABLE`` of a source
table before dumping (cheap, small tables), the source is checksummed again now: when it
did not change in between, the dump's snapshot holds the same data, and the restored
table must have the same checksum; when it changed, the comparison would prove nothing
and the table is reported as changed rather than failed.
"""

import contextlib
import gzip
import os
import secrets
import subprocess
import tempfile
import threading

from ansible.module_utils.backup import BackupError
from ansible.module_utils.backup.dumpfile import scan
from ansible.module_utils.backup.files import sha256_of
from ansible.module_utils.backup.mysql_catalog import base_tables, checksums, row_counts, tables
from ansible.module_utils.backup.mysql_client import ClientError, explain, quote_identifier

SCRATCH_PREFIX = "canary_verify_"
SCRATCH_GRANT = "GRANT ALL ON `canary\\_verify\\_%`.* TO the backup user"
_NO_ACCESS_TO_DATABASE = 1044
_CHUNK = 1024 * 1024


def scratch_name():
    return SCRATCH_PREFIX + secrets.token_hex(4)


def check_file(path, expected_sha256):
    """The DumpScanner of ``path`` once it matches its checksum and may be restored."""
    if not os.path.isfile(path):
        raise BackupError(f"{path}: no such backup file")
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise BackupError(
            f"{path}: its sha256 {actual} is not the recorded {expected_sha256}: the file was "
            "changed or truncated after the backup"
        )
    scanner = scan(path)
    problems = scanner.problems()
    if problems:
        raise BackupError(f"{path}: cannot be restored: " + "; ".join(problems))
    return scanner


def verify(session, path, expected_sha256, source=None, skip_binlog=False, name=None):
    """Verify the dump at ``path``; return what was compared, or raise a BackupError.

    ``source`` is ``(database, {table: checksum before the dump})`` for the checksum
    comparison, or None. ``skip_binlog`` keeps the scratch database out of the binary log
    (replicas never see it; needs the BINLOG ADMIN or SUPER privilege). ``name`` is what
    messages call the file (its base name by default).
    """
    name = name or os.path.basename(path)
    scanner = check_file(path, expected_sha256)
    scratch = scratch_name()
    binlog = "SET SESSION sql_log_bin = 0; " if skip_binlog else ""
    try:
        session.query(f"{binlog}CREATE DATABASE {quote_identifier(scratch)}")
    except ClientError as err:
        hint = f"; {SCRATCH_GRANT}" if err.code == _NO_ACCESS_TO_DATABASE else ""
        raise BackupError(f"{err} (creating the scratch database {scratch}{hint})") from err
    try:
        _restore(session, path, scratch, skip_binlog, name)
        compared = _compare(session, scratch, scanner, source, name)
    except BaseException as err:
        leftover = _drop(session, scratch, binlog)
        if leftover and isinstance(err, BackupError):
            raise BackupError(f"{err}; {leftover}") from err
        raise
    leftover = _drop(session, scratch, binlog)
    if leftover:
        raise BackupError(leftover)
    return {"scratch_database": scratch, "scratch_dropped": True, "tables": compared}


def _restore(session, path, scratch, skip_binlog, name):
    args = ["--batch", f"--database={scratch}"]
    if skip_binlog:
        args.append("--init-command=SET SESSION sql_log_bin = 0")
    argv = session.argv(session.client, *args)
    timed_out = threading.Event()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors
        )

        def expire():
            timed_out.set()
            process.kill()

        timer = threading.Timer(session.timeout, expire)
        timer.start()
        try:
            with gzip.open(path, "rb") as dump:
                while chunk := dump.read(_CHUNK):
                    process.stdin.write(chunk)
        except BrokenPipeError:
            pass  # the client stopped at an error: its status and message say which
        except BaseException:
            process.kill()
            raise
        finally:
            timer.cancel()
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
            status = process.wait()
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace")
    if timed_out.is_set():
        raise BackupError(
            f"restoring {name} into the scratch database {scratch} did not finish within "
            f"{session.timeout} s"
        )
    if status != 0:
        raise BackupError(
            f"{explain(session.server, stderr)} (restoring {name} into the scratch database "
            f"{scratch})"
        )


def _compare(session, scratch, scanner, source, shown):
    restored = set(base_tables(tables(session, scratch)))
    expected = scanner.tables
    problems = [f"table {name} was not restored" for name in expected if name not in restored]
    problems += [
        f"table {name} is not in the dump but was created by the restore"
        for name in sorted(restored - set(expected))
    ]
    present = [name for name in expected if name in restored]
    counts = row_counts(session, scratch, present)
    problems += [
        f"table {name}: {expected[name]} rows in the dump, {counts[name]} restored"
        for name in present
        if counts[name] != expected[name]
    ]
    states = {name: "not compared" for name in present}
    if source:
        database, before = source
        names = [name for name in present if before.get(name) is not None]
        now = checksums(session, database, names)
        restored_sums = checksums(session, scratch, names)
        for name in names:
            if now[name] != before[name]:
                states[name] = "source changed"
            elif restored_sums[name] != before[name]:
                problems.append(
                    f"table {name}: checksum {restored_sums[name]} restored, {before[name]} in "
                    f"{database}, which did not change during the backup"
                )
                states[name] = "differs"
            else:
                states[name] = "matched"
    if problems:
        raise BackupError(f"the verification of {shown} failed: {'; '.join(problems)}")
    return [{"name": name, "rows": counts[name], "checksum": states[name]} for name in present]


def _drop(session, scratch, binlog):
    """Drop the scratch database; a sentence for the operator when that failed, else None."""
    try:
        session.query(f"{binlog}DROP DATABASE IF EXISTS {quote_identifier(scratch)}")
    except BackupError as err:
        return f"the scratch database {scratch} could not be dropped ({err}): drop it by hand"
    return None
