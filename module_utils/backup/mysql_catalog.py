"""What the server knows about a database: its tables, their row counts and checksums."""

from ansible.module_utils.backup import BackupError
from ansible.module_utils.backup.mysql_client import quote_identifier, quote_string


def visible_databases(session, names):
    """Those of ``names`` that exist and the user may see (information_schema hides the rest)."""
    listed = ", ".join(quote_string(name) for name in names)
    rows = session.query(
        f"SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN ({listed})"
    )
    return {row[0] for row in rows}


def tables(session, database):
    """``[{name, type, data_length}]`` of ``database``, by name; type is BASE TABLE, VIEW, SEQUENCE..."""
    rows = session.query(
        "SELECT TABLE_NAME, TABLE_TYPE, IFNULL(DATA_LENGTH, 0) FROM information_schema.TABLES "
        f"WHERE TABLE_SCHEMA = {quote_string(database)} ORDER BY TABLE_NAME"
    )
    return [{"name": name, "type": kind, "data_length": int(size)} for name, kind, size in rows]


def base_tables(listing):
    return [table["name"] for table in listing if table["type"] == "BASE TABLE"]


def row_counts(session, database, names):
    """``{table: COUNT(*)}`` for ``names`` in ``database``, in one statement."""
    if not names:
        return {}
    schema = quote_identifier(database)
    sql = " UNION ALL ".join(
        f"SELECT {quote_string(name)}, COUNT(*) FROM {schema}.{quote_identifier(name)}"
        for name in names
    )
    return {name: int(count) for name, count in session.query(sql)}


def checksums(session, database, names):
    """``{table: CHECKSUM TABLE value}`` for ``names`` in ``database`` (None where it has none)."""
    if not names:
        return {}
    schema = quote_identifier(database)
    listed = ", ".join(f"{schema}.{quote_identifier(name)}" for name in names)
    rows = session.query(f"CHECKSUM TABLE {listed}")
    if len(rows) != len(names):
        raise BackupError(
            f"CHECKSUM TABLE on {database} answered {len(rows)} rows for {len(names)} tables"
        )
    # The server answers in the order asked; its "db.table" names are ambiguous with dots.
    return {
        name: None if value == "NULL" else int(value)
        for name, (_, value) in zip(names, rows, strict=True)
    }
