"""Backups taken before a release moves traffic: MySQL/MariaDB dumps and Redis snapshots.

One concept per file: ``naming`` (file names and the pattern retention matches),
``files`` (private files, sha256 sidecars, publishing), ``retention`` (which old backups
go), ``dumpfile`` (what a compressed dump holds: tables, rows, completion), ``mysql_client``
(the mariadb client with a private defaults file, and its errors in words), ``mysql_catalog``
(tables, row counts and checksums on the server), ``mysql_dump`` (the consistent dump),
``mysql_verify`` (restore into a scratch database and compare), ``mysql_backup`` (the
procedure), ``resp`` (the Redis protocol), ``rdbfile`` (checking an RDB snapshot) and
``redis_backup`` (BGSAVE, wait, copy, check).

Every failure is a ``BackupError`` whose message names the setting or the server at fault,
never a password.
"""


class BackupError(Exception):
    """A backup or verification that did not succeed; the message is meant for the operator."""
