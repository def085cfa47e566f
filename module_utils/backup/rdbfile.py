"""Checking a Redis RDB snapshot file.

First its frame, in Python: the ``REDIS<version>`` magic, and the end-of-file opcode
(0xFF) followed by the 8-byte checksum that every RDB since version 5 ends with, which a
cut-short copy lacks. Then ``redis-check-rdb`` (Debian package redis-tools), Redis' own
reader, walks every entry and verifies the CRC64 - in C, where a Python CRC64 would
take minutes on a large snapshot.
"""

import os
import re
import shutil
import subprocess

from ansible.module_utils.backup import BackupError

_MAGIC = re.compile(rb"^REDIS(\d{4})$")
_EOF_OPCODE = 0xFF
_TRAILER = 9  # the EOF opcode and the CRC64


def frame_problem(path):
    """Why ``path`` is not a whole RDB file, or None."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        match = _MAGIC.match(handle.read(9))
        if not match:
            return "it does not start with an RDB header (REDISnnnn)"
        if int(match.group(1)) < 5:
            return f"its RDB version {int(match.group(1))} is older than Redis 2.6"
        if size < 9 + _TRAILER:
            return f"it is only {size} bytes long"
        handle.seek(size - _TRAILER)
        if handle.read(1)[0] != _EOF_OPCODE:
            return "it does not end with the RDB end-of-file marker: it was cut short"
    return None


def find_checker(command, field):
    """The full path of the checker ``command``; a BackupError naming ``field`` when missing."""
    found = shutil.which(command)
    if not found:
        raise BackupError(f"{field}: {command} not found on this host (Debian package redis-tools)")
    return found


def check(path, checker, timeout):
    """Fail with a BackupError when the RDB file at ``path`` is not whole and readable."""
    if problem := frame_problem(path):
        raise BackupError(f"{path}: {problem}")
    command = os.path.basename(checker)
    try:
        result = subprocess.run(
            [checker, path],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise BackupError(f"{path}: {command} did not finish within {timeout} s") from err
    if result.returncode != 0:
        output = (result.stdout + result.stderr).splitlines()
        start = next(
            (i for i, line in enumerate(output) if "RDB ERROR DETECTED" in line), len(output) - 3
        )
        detail = " ".join(line.strip() for line in output[max(start, 0) :][:4])
        raise BackupError(f"{path}: {command} found it damaged: {detail}")
