"""The MariaDB/MySQL command-line tools, run with a private defaults file.

The password never reaches a command line (where ``ps`` shows it) or the environment:
it is written to an option file of mode 0600 in a private temporary directory, removed
when the session ends, and every tool gets ``--defaults-file`` as its first argument.
``--defaults-file`` (not ``--defaults-extra-file``) makes it the *only* option file: a
``~/.my.cnf`` or ``/etc/mysql`` setting on the controller (another user, ``skip-comments``,
``--databases``) must not change what is dumped or where a dump is restored.

Client errors come back as sentences naming the setting at fault (``<label>.password:
access denied ...``), never the password.
"""

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from ansible.module_utils.backup import BackupError

# Option-file escapes understood by the client library (mysys my_default.c).
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b"}
_ERROR = re.compile(
    r'(?:ERROR |error: )(\d+)(?: \([0-9A-Z]+\))?(?: at line \d+)?: "?(.*?)"?(?: when .*)?$'
)
# The dumper's other shape: "mariadb-dump: Couldn't execute '...': <message> (1142)".
_ERROR_CODE_LAST = re.compile(r"^\S+: (.*) \((\d{4})\)$")
_BATCH_ESCAPES = re.compile(r"\\(.)")
_BATCH_UNESCAPED = {"n": "\n", "t": "\t", "0": "\0", "\\": "\\"}
# Seconds a client waits for the server to accept a connection (the dumper has no such
# option: the module's timeout bounds it).
CONNECT_TIMEOUT = 10


class ClientError(BackupError):
    """A client tool's failure: the sentence for the operator, and the server's error code."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


@dataclass
class MysqlServer:
    """Where and as whom to connect; ``label`` prefixes setting names in error messages."""

    host: str = "127.0.0.1"
    port: int = 3306
    socket: str | None = None
    user: str = ""
    password: str = ""
    tls: bool = False
    ca_path: str | None = None
    validate_certs: bool = True
    client_command: str = "mariadb"
    dump_command: str = "mariadb-dump"
    label: str = ""

    def field(self, name):
        return f"{self.label}.{name}" if self.label else name

    @property
    def where(self):
        return self.socket if self.socket else f"{self.host}:{self.port}"

    @property
    def subject(self):
        """What a message about the connection as a whole starts with."""
        return self.label or "mysql"


def option_value(value):
    """``value`` quoted for an option file, so spaces, quotes and ``#`` survive."""
    return '"' + "".join(_ESCAPES.get(char, char) for char in str(value)) + '"'


def defaults_text(server):
    """The option file's content: connection and credentials for every client tool."""
    lines = ["[client]", f"user={option_value(server.user)}"]
    if server.password:
        lines.append(f"password={option_value(server.password)}")
    if server.socket:
        lines += [f"socket={option_value(server.socket)}", "protocol=SOCKET"]
    else:
        # TCP even for "localhost", which would otherwise mean the local Unix socket.
        lines += [f"host={option_value(server.host)}", f"port={int(server.port)}", "protocol=TCP"]
    if server.tls:
        lines.append("ssl")
        if server.ca_path:
            lines.append(f"ssl-ca={option_value(server.ca_path)}")
        if server.validate_certs:
            lines.append("ssl-verify-server-cert")
    # Only the mariadb client reads this group: the dumper refuses connect-timeout.
    lines += ["[mariadb-client]", f"connect-timeout={CONNECT_TIMEOUT}"]
    return "\n".join(lines) + "\n"


def quote_identifier(name):
    return "`" + name.replace("`", "``") + "`"


def quote_string(value):
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def unescape_batch(value):
    """A value as the client prints it in ``--batch`` mode, unescaped."""
    return _BATCH_ESCAPES.sub(lambda m: _BATCH_UNESCAPED.get(m.group(1), m.group(1)), value)


def parse_error(stderr):
    """``(error code or None, message)`` of the last error a client tool printed."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if match := _ERROR.search(line):
            return int(match.group(1)), match.group(2)
        if match := _ERROR_CODE_LAST.match(line):
            return int(match.group(2)), match.group(1)
    return None, lines[-1].strip() if lines else "no error message"


def explain(server, stderr, database=None):
    """A client's error output as one sentence naming the setting or the server at fault."""
    code, detail = parse_error(stderr)
    if server.password:
        detail = detail.replace(server.password, "********")
    server_name = f"the server at {server.where}"
    if code in (1045, 1698):
        return f"{server.field('password')}: {server_name} refused the credentials: {detail}"
    if code in (1044, 1142, 1227, 1370):
        return f"{server.field('user')}: {server_name} lacks a privilege: {detail}"
    if code == 1049:
        return f"{server.field('databases')}: {server_name} has no database {database!r}: {detail}"
    if code == 2005:
        return f"{server.field('host')}: unknown host {server.host!r}: {detail}"
    if code in (2002, 2003):
        return f"{server.subject}: cannot connect to {server_name}: {detail}"
    if code in (2006, 2013):
        return f"{server.subject}: {server_name} closed the connection: {detail}"
    if code in (2026, 2012):
        return f"{server.field('tls')}: the TLS handshake with {server_name} failed: {detail}"
    return f"{server.subject}: {server_name}: {detail}"


class MysqlSession:
    """The client tools bound to one server, with the defaults file alive while in use.

    ``with MysqlSession(server) as session: session.query(...)``
    """

    def __init__(self, server, timeout):
        self.server = server
        self.timeout = timeout
        self._directory = None

    def __enter__(self):
        self.client = self.command(self.server.client_command, "client_command")
        self._directory = tempfile.mkdtemp(prefix="canary-backup-")
        path = os.path.join(self._directory, "client.cnf")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(defaults_text(self.server))
        self.defaults = path
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self._directory, ignore_errors=True)

    def command(self, name, setting):
        """The full path of tool ``name``; a BackupError naming ``setting`` when it is missing."""
        found = shutil.which(name)
        if not found:
            raise BackupError(
                f"{self.server.field(setting)}: {name} not found on this host "
                "(Debian package mariadb-client)"
            )
        return found

    def argv(self, command, *args):
        return [command, f"--defaults-file={self.defaults}", *args]

    def query(self, sql, database=None):
        """Run ``sql`` (one or more statements); the rows of its results, values unescaped."""
        argv = self.argv(self.client, "--batch", "--skip-column-names")
        if database:
            argv.append(f"--database={database}")
        try:
            result = subprocess.run(
                argv,
                input=sql,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as err:
            raise BackupError(
                f"{self.server.subject}: the server at {self.server.where} did not "
                f"answer within {self.timeout} s"
            ) from err
        if result.returncode != 0:
            code, _ = parse_error(result.stderr)
            raise ClientError(explain(self.server, result.stderr, database), code)
        return [
            [unescape_batch(value) for value in line.split("\t")]
            for line in result.stdout.splitlines()
        ]
