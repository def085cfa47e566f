"""Backup file names: ``<service>_<kind>_<name>_<UTC timestamp><extension>``.

The service is a DNS label (no ``_``) and the timestamp has a fixed shape at the end, so
a name reads back unambiguously even when the database name holds ``_``. Retention only
ever touches files matching the pattern of one service, kind and name.
"""

import re

EXTENSIONS = {"mysql": ".sql.gz", "redis": ".rdb"}
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_TIMESTAMP = r"\d{8}T\d{6}Z"
_SERVICE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# Database (or Redis instance) names end up in file names: no separators, dots or spaces.
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$")


def service_problem(service):
    """Why ``service`` cannot name backups, or None."""
    if not _SERVICE.match(service or ""):
        return f"{service!r} is not a DNS label (lower-case letters, digits and -)"
    return None


def name_problem(name):
    """Why a database name cannot be part of a backup file name, or None."""
    if not _NAME.match(name or ""):
        return (
            f"{name!r} cannot be part of a backup file name "
            "(letters, digits, _ and -, not starting with -, at most 64)"
        )
    return None


def backup_name(service, kind, name, when):
    """The file name of a backup taken at ``when`` (an aware UTC datetime)."""
    return f"{service}_{kind}_{name}_{when.strftime(TIMESTAMP_FORMAT)}{EXTENSIONS[kind]}"


def backup_pattern(service, kind, name):
    """A regex matching exactly the backups of ``service``/``kind``/``name``; group 1 is the timestamp."""
    prefix = f"{re.escape(service)}_{kind}_{re.escape(name)}_"
    return re.compile(f"^{prefix}({_TIMESTAMP}){re.escape(EXTENSIONS[kind])}$")
