"""Which backups go when more than the retention count are kept.

Only files matching the naming pattern of one service, kind and name are considered (so
nothing an operator put in the directory is ever deleted), ordered by the timestamp in
their names, oldest first. Each backup goes with its sha256 sidecar.
"""

import os

from ansible.module_utils.backup.files import remove, sidecar_of


def existing(directory, pattern):
    """The names of the backups in ``directory`` that ``pattern`` matches, oldest first."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    stamped = [(match.group(1), name) for name in names if (match := pattern.match(name))]
    return [name for _, name in sorted(stamped)]


def beyond(names, keep):
    """The oldest of ``names`` (sorted oldest first) past the newest ``keep``."""
    return names[: max(len(names) - keep, 0)]


def prune(directory, pattern, keep):
    """Delete the backups past the newest ``keep``; return their paths, oldest first."""
    removed = []
    for name in beyond(existing(directory, pattern), keep):
        path = os.path.join(directory, name)
        remove(path)
        remove(sidecar_of(path))
        removed.append(path)
    return removed
