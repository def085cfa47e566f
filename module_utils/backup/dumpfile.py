"""What a mysqldump / mariadb-dump file holds, read line by line without a server.

The row counts a verification compares against come from the dump itself: with
``--single-transaction`` the dump *is* the consistent snapshot, and no other count (a
``COUNT(*)`` on the live tables before or after) is taken inside that snapshot, so on a
database taking writes any other count would differ for honest reasons. Counting the
rows the dump inserts, then the rows the scratch database holds after restoring it,
proves the restore loaded everything the snapshot captured.

The dumper escapes newlines inside values (``\\n``), so a string never spans lines: each
line is stripped of its string literals, and every ``(`` left in an INSERT's VALUES is
one row, whether the dumper writes a statement per line (MySQL, older MariaDB), a row per
line (MariaDB 10.11) or ``--skip-extended-insert``.

A dump is complete when its last line is the dumper's ``-- Dump completed`` comment, which
it writes only after everything else. A dump that names a database (``USE``, ``CREATE
DATABASE``: a ``--databases`` or ``--all-databases`` dump) is flagged: restoring it would
write outside the scratch database.
"""

import gzip
import re
import zlib

from ansible.module_utils.backup import BackupError

COMPLETION = b"-- Dump completed"
_IDENTIFIER = rb"`((?:[^`]|``)+)`"
_CREATE_TABLE = re.compile(
    rb"CREATE (?:OR REPLACE )?TABLE (?:IF NOT EXISTS )?" + _IDENTIFIER + rb" \("
)
_INSERT = re.compile(
    rb"(?:INSERT|REPLACE)(?: IGNORE)? INTO "
    + _IDENTIFIER
    # --complete-insert adds the column list; column names may hold parentheses.
    + rb"(?: \((?:[^()`]|`(?:[^`]|``)*`)*\))? VALUES\b"
)
_NAMES_DATABASE = re.compile(
    rb"(?:/\*!\d+\s*)?(?:USE\s|(?:CREATE|DROP|ALTER)\s+(?:DATABASE|SCHEMA)\b)", re.IGNORECASE
)
# A quoted value with its backslash escapes, unrolled so long values do not backtrack.
_STRING = re.compile(rb"'[^'\\]*(?:\\.[^'\\]*)*'", re.DOTALL)


def _unquote(identifier):
    return identifier.replace(b"``", b"`").decode("utf-8", "surrogateescape")


class DumpScanner:
    """Fed a dump's lines in order; holds the tables, their rows and whether it is complete."""

    def __init__(self):
        self.tables = {}  # table name -> rows inserted, in dump order
        self.database_statement = None  # the first statement naming a database, if any
        self._last_line = b""
        self._inserting = None  # the table of an INSERT whose rows continue on the next line

    def feed(self, line):
        stripped = line.strip()
        if stripped:
            self._last_line = stripped
        if self._inserting is not None:
            self._count(self._inserting, line)
            return
        if match := _INSERT.match(line):
            table = _unquote(match.group(1))
            self.tables.setdefault(table, 0)
            self._count(table, line[match.end() :])
        elif match := _CREATE_TABLE.match(line):
            self.tables.setdefault(_unquote(match.group(1)), 0)
        elif self.database_statement is None and _NAMES_DATABASE.match(line):
            self.database_statement = stripped[:120].decode("utf-8", "replace")

    def _count(self, table, values):
        bare = _STRING.sub(b"", values)
        self.tables[table] += bare.count(b"(")
        self._inserting = None if bare.rstrip().endswith(b";") else table

    @property
    def complete(self):
        return self._last_line.startswith(COMPLETION)

    def problems(self):
        """Why the dump must not be restored, as sentences; empty when it may."""
        found = []
        if not self.complete:
            found.append(
                "it does not end with the dumper's '-- Dump completed' line: it was cut short"
            )
        if self.database_statement is not None:
            found.append(
                f"it names a database ({self.database_statement}): restoring it could write "
                "outside the scratch database (dumps made with --databases or --all-databases "
                "are refused)"
            )
        return found


def scan(path):
    """Read the gzip-compressed dump at ``path`` whole; a damaged file is a BackupError."""
    scanner = DumpScanner()
    try:
        with gzip.open(path, "rb") as handle:
            for line in handle:
                scanner.feed(line)
    except EOFError as err:
        raise BackupError(f"{path}: the compressed file is truncated ({err})") from err
    except (OSError, zlib.error) as err:
        raise BackupError(f"{path}: the compressed file is damaged ({err})") from err
    return scanner
