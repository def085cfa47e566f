"""Backup files on disk: readable by their owner only, checksummed, published whole.

A backup is written under a hidden ``.<name>.partial`` name, checked, then linked to its
final name (a link never replaces an existing file) and given a ``<name>.sha256`` sidecar
in ``sha256sum`` format, so ``sha256sum -c`` works in the backup directory. A file under a
final name is therefore always complete and verified; a failed run leaves nothing behind.
"""

import contextlib
import hashlib
import os
import re

from ansible.module_utils.backup import BackupError

SIDECAR_SUFFIX = ".sha256"
_SIDECAR_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)\n?$")
_CHUNK = 1024 * 1024


def ensure_dir(path, field):
    """Create ``path`` (mode 0700) when missing; ``field`` names the setting in errors."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError as err:
        raise BackupError(f"{field}: cannot create {path}: {err.strerror}") from err
    if not os.access(path, os.W_OK | os.X_OK):
        raise BackupError(f"{field}: {path} is not writable")


def partial_path(final):
    """Where the backup that will be ``final`` is written until it is complete and checked."""
    directory, name = os.path.split(final)
    return os.path.join(directory, f".{name}.partial")


def create_private(path):
    """A new file opened for binary writing, mode 0600 whatever the umask; never an existing one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sidecar_of(path):
    return path + SIDECAR_SUFFIX


def publish(partial, final, digest):
    """Give the checked ``partial`` its final name and write its sha256 sidecar."""
    try:
        os.link(partial, final)
    except FileExistsError as err:
        raise BackupError(f"a backup named {final} already exists; nothing was replaced") from err
    os.unlink(partial)
    with create_private(sidecar_of(final)) as handle:
        handle.write(f"{digest}  {os.path.basename(final)}\n".encode())


def read_sidecar(path):
    """The sha256 recorded for ``path`` in its sidecar; a BackupError when it is missing or wrong."""
    sidecar = sidecar_of(path)
    try:
        with open(sidecar, encoding="utf-8") as handle:
            line = handle.read()
    except FileNotFoundError as err:
        raise BackupError(
            f"{sidecar} is missing: without the checksum the backup cannot be trusted"
        ) from err
    match = _SIDECAR_LINE.match(line)
    if not match or match.group(2) != os.path.basename(path):
        raise BackupError(f"{sidecar} is not a sha256sum line for {os.path.basename(path)}")
    return match.group(1)


def remove(path):
    """Delete ``path`` if it exists."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
