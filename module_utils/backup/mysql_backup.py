"""The MySQL/MariaDB backup of a service: for each database, dump, verify, keep, prune.

A database's backup is written under a hidden partial name, verified in a scratch
database, and only then given its final name and sha256 sidecar; the oldest backups of
that database beyond the retention count go last, so a failed run never costs an older
good backup and leaves no file of its own. Check mode connects and reports what would be
backed up (tables by kind) and which old backups would go, writing nothing.
"""

import os
from datetime import UTC, datetime

from ansible.module_utils.backup import BackupError
from ansible.module_utils.backup.files import (
    ensure_dir,
    partial_path,
    publish,
    remove,
    sha256_of,
    sidecar_of,
)
from ansible.module_utils.backup.mysql_catalog import checksums, tables, visible_databases
from ansible.module_utils.backup.mysql_dump import dump
from ansible.module_utils.backup.mysql_verify import verify
from ansible.module_utils.backup.naming import backup_name, backup_pattern
from ansible.module_utils.backup.retention import beyond, existing, prune


def check_databases(session, databases):
    """Fail naming the first listed database the server does not have (or hides from the user)."""
    server = session.server
    visible = visible_databases(session, databases)
    for index, database in enumerate(databases):
        if database not in visible:
            raise BackupError(
                f"{server.field('databases')}[{index}]: the server at {server.where} has no "
                f"database {database!r}, or user {server.user!r} may not see it"
            )


def describe(listing):
    """Table counts by kind, for reports."""
    kinds = {}
    for table in listing:
        kind = table["type"].lower().replace("base table", "table") + "s"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def _names(paths):
    return ", ".join(os.path.basename(path) for path in paths)


def summary(report):
    """One line for the operator about a database's backup, or its plan (check mode)."""
    if "would_remove" in report:
        kinds = ", ".join(
            f"{count} {kind if count != 1 else kind[:-1]}"
            for kind, count in sorted(report["tables"].items())
        )
        line = f"{report['database']}: would be dumped and verified ({kinds or 'empty'})"
        removed = report["would_remove"]
        return line + (f"; retention would delete {_names(removed)}" if removed else "")
    verified = report["verification"]["tables"]
    matched = sum(1 for table in verified if table["checksum"] == "matched")
    line = (
        f"{report['database']}: {report['path']} ({report['size']} bytes, sha256 "
        f"{report['sha256']}); {len(verified)} tables and "
        f"{sum(table['rows'] for table in verified)} rows restored as dumped into "
        f"{report['verification']['scratch_database']} (dropped); CHECKSUM TABLE matched "
        f"{matched} of {len(verified)}"
    )
    removed = report["removed"]
    return line + (f"; retention deleted {_names(removed)}" if removed else "")


def plan(session, settings):
    """Check mode: what each database holds and which old backups would go; nothing written."""
    session.command(session.server.dump_command, "dump_command")
    check_databases(session, settings["databases"])
    planned = []
    for database in settings["databases"]:
        pattern = backup_pattern(settings["service"], "mysql", database)
        old = existing(settings["dest"], pattern)
        planned.append(
            {
                "database": database,
                "tables": describe(tables(session, database)),
                "would_remove": [
                    os.path.join(settings["dest"], name)
                    for name in beyond(old, settings["retention"] - 1)
                ],
            }
        )
    return planned


def back_up(session, settings, database, now=None):
    """Back up and verify ``database``; return its report (path, size, sha256, tables, removed)."""
    now = now or datetime.now(UTC)
    dest = settings["dest"]
    ensure_dir(dest, "dest")
    listing = tables(session, database)
    limit = settings["checksum_max_bytes"]
    cheap = [
        table["name"]
        for table in listing
        if table["type"] == "BASE TABLE" and limit and table["data_length"] <= limit
    ]
    # Taken before the dump: verify compares again after the restore (see mysql_verify).
    before = checksums(session, database, cheap)
    final = os.path.join(dest, backup_name(settings["service"], "mysql", database, now))
    partial = partial_path(final)
    try:
        scanner = dump(session, database, partial, settings["options"])
        digest = sha256_of(partial)
        verification = verify(
            session,
            partial,
            digest,
            source=(database, before),
            skip_binlog=settings["skip_binlog"],
            name=os.path.basename(final),
        )
        publish(partial, final, digest)
    except BaseException:
        remove(partial)
        raise
    removed = prune(
        dest, backup_pattern(settings["service"], "mysql", database), settings["retention"]
    )
    return {
        "database": database,
        "path": final,
        "checksum_path": sidecar_of(final),
        "size": os.path.getsize(final),
        "sha256": digest,
        "tables": [{"name": name, "rows": rows} for name, rows in scanner.tables.items()],
        "verification": verification,
        "removed": removed,
    }
