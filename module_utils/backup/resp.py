"""Just enough of the Redis protocol (RESP2) to authenticate, save and ask about it.

Spoken over a socket in Python rather than through ``redis-cli``: the password then
never sits on a command line or in a child's environment, replies arrive typed (an
error reply is an exception carrying Redis' own words, ``WRONGPASS``, ``NOAUTH``,
``NOPERM``) instead of text to parse, and the controller needs neither redis-py nor
redis-cli for it.
"""

import socket
import ssl


class ReplyError(Exception):
    """An error reply from the server; ``str()`` is its message, e.g. ``WRONGPASS ...``."""

    @property
    def code(self):
        return str(self).split(" ", 1)[0]


class ProtocolError(Exception):
    """The peer did not answer in RESP (not a Redis server, or the connection broke)."""


def encode(*args):
    """A command as a RESP array of bulk strings."""
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts += [f"${len(data)}\r\n".encode(), data, b"\r\n"]
    return b"".join(parts)


def _line(reader):
    line = reader.readline()
    if not line.endswith(b"\r\n"):
        raise ProtocolError("the connection closed in the middle of a reply")
    return line[:-2]


def read_reply(reader):
    """One reply from a binary file-like ``reader``: bytes, int, list or None."""
    line = _line(reader)
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest
    if kind == b"-":
        raise ReplyError(rest.decode("utf-8", "replace"))
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None
        data = reader.read(size + 2)
        if len(data) != size + 2:
            raise ProtocolError("the connection closed in the middle of a reply")
        return data[:-2]
    if kind == b"*":
        count = int(rest)
        return None if count < 0 else [read_reply(reader) for _ in range(count)]
    raise ProtocolError(f"not a Redis reply: {line[:40]!r}")


class RespConnection:
    """A connection to one server; ``command("LASTSAVE")`` sends one command and reads its reply."""

    def __init__(self, host, port, timeout, tls_context=None):
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            self._sock = (
                tls_context.wrap_socket(sock, server_hostname=host) if tls_context else sock
            )
        except (ssl.SSLError, OSError):
            sock.close()
            raise
        self._reader = self._sock.makefile("rb")

    def command(self, *args):
        self._sock.sendall(encode(*args))
        return read_reply(self._reader)

    def close(self):
        self._reader.close()
        self._sock.close()
