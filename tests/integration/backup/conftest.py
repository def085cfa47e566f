"""Real MariaDB and Redis servers from the Debian packages, for the backup tests.

Each is started once for the package, in a temporary directory, listening on a free
127.0.0.1 port, and stopped by its PID at the end. The servers' admin side is driven
with the packages' own clients (``mariadb`` over the Unix socket as root, ``redis-cli``),
never with the code under test.

MariaDB: ``mariadb-install-db`` initialises the data directory (well under a second),
``mariadbd --user=root`` runs it (it refuses root otherwise). Both servers also speak TLS
with a certificate for 127.0.0.1 from a throw-away CA (``certificates``), so the
modules' certificate verification is tested for real. The ``backup`` user gets the
privileges the role documents - read-only on ``shop``, everything on the scratch
databases, SET USER for objects defined by root - and a password with quotes, spaces,
``#`` and a backslash, which must survive the option file.
"""

import datetime
import ipaddress
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

BACKUP_PASSWORD = "pa ss\"wo'rd#;\\x-SECRET"
REDIS_PASSWORD = "redis pass'#-SECRET"
LIMITED_PASSWORD = "limited-SECRET"

SHOP = """
CREATE DATABASE shop;
USE shop;
CREATE TABLE customers (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100), note TEXT);
INSERT INTO customers (name, note) VALUES
  ('Ann', 'likes (brackets), \\'quotes\\' and ;semicolons;'),
  ('Bob', 'two\\nlines'),
  ('Cy', '),(4,\\'x\\'),(');
CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, total DECIMAL(10,2), data BLOB);
INSERT INTO orders VALUES (1, 1, 10.50, X'00FF28'), (2, 2, 3.25, NULL), (3, 1, 99.00, NULL);
CREATE TABLE empty_t (id INT);
CREATE TABLE `odd name (x)` (`a``b` INT);
INSERT INTO `odd name (x)` VALUES (1), (2);
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 5;
CREATE TRIGGER orders_total BEFORE INSERT ON orders FOR EACH ROW SET NEW.total = NEW.total;
CREATE SEQUENCE invoice_numbers;
CREATE DATABASE other;
CREATE TABLE other.t (id INT);
"""


def sql_string(value):
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


GRANTS = f"""
CREATE USER 'backup'@'127.0.0.1' IDENTIFIED BY {sql_string(BACKUP_PASSWORD)};
GRANT SELECT, SHOW VIEW, TRIGGER, LOCK TABLES ON shop.* TO 'backup'@'127.0.0.1';
GRANT ALL ON `canary\\_verify\\_%`.* TO 'backup'@'127.0.0.1';
GRANT SET USER ON *.* TO 'backup'@'127.0.0.1';
CREATE USER 'unlogged'@'127.0.0.1' IDENTIFIED BY {sql_string(BACKUP_PASSWORD)};
GRANT SELECT, SHOW VIEW, TRIGGER, LOCK TABLES ON shop.* TO 'unlogged'@'127.0.0.1';
GRANT ALL ON `canary\\_verify\\_%`.* TO 'unlogged'@'127.0.0.1';
GRANT SET USER, BINLOG ADMIN ON *.* TO 'unlogged'@'127.0.0.1';
CREATE USER 'reader'@'127.0.0.1' IDENTIFIED BY {sql_string(BACKUP_PASSWORD)};
GRANT SELECT, SHOW VIEW, TRIGGER, LOCK TABLES ON shop.* TO 'reader'@'127.0.0.1';
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tool(name, package):
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if not found:
        pytest.fail(f"{name} not found: install the Debian package {package}")
    return found


def stop(process):
    """Stop a server we started, by its PID."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until(ready, process, name, log, deadline=30.0):
    limit = time.monotonic() + deadline
    while time.monotonic() < limit:
        if process.poll() is not None:
            raise RuntimeError(
                f"{name} exited with {process.returncode}: {log.read_text()[-2000:]}"
            )
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{name} not ready after {deadline} s: {log.read_text()[-2000:]}")


@dataclass
class Certificates:
    ca: Path  # the CA clients verify against
    cert: Path  # the servers' certificate, for 127.0.0.1
    key: Path


def _certificate(subject, issuer, public_key, signing_key, extensions):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key, hashes.SHA256())


@pytest.fixture(scope="package")
def certificates(tmp_path_factory):
    """A throw-away CA and a server certificate for 127.0.0.1, made with cryptography."""
    root = tmp_path_factory.mktemp("tls")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "canary backup test CA")])
    ca = _certificate(
        ca_name,
        ca_name,
        ca_key.public_key(),
        ca_key,
        [
            (x509.BasicConstraints(ca=True, path_length=None), True),
            (
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                True,
            ),
            (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False),
        ],
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]),
        ca_name,
        key.public_key(),
        ca_key,
        [
            (
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                False,
            ),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
        ],
    )
    paths = Certificates(ca=root / "ca.pem", cert=root / "server.pem", key=root / "server.key")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@dataclass
class Mariadb:
    port: int
    socket: Path
    client: str

    def admin(self, sql, check=True):
        """Run ``sql`` as root over the Unix socket; the rows, tab-separated lines."""
        # --skip-ssl: the client would otherwise negotiate TLS even over the socket, slowly.
        result = subprocess.run(
            [
                self.client,
                "--no-defaults",
                f"--socket={self.socket}",
                "-uroot",
                "--skip-ssl",
                "--batch",
                "-N",
            ],
            input=sql,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(result.stderr)
        return result.stdout.splitlines()

    def scratch_databases(self):
        return self.admin("SHOW DATABASES LIKE 'canary\\_verify\\_%'")

    def shop_rows(self):
        return self.admin(
            "SELECT COUNT(*) FROM shop.customers UNION ALL SELECT COUNT(*) FROM shop.orders"
        )


@pytest.fixture(scope="package")
def mariadb(tmp_path_factory, certificates):
    install = tool("mariadb-install-db", "mariadb-server")
    server = tool("mariadbd", "mariadb-server")
    client = tool("mariadb", "mariadb-client")
    tool("mariadb-dump", "mariadb-client")
    root = tmp_path_factory.mktemp("mariadb")
    subprocess.run(
        [
            install,
            "--no-defaults",
            f"--datadir={root / 'data'}",
            "--user=root",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    log = root / "error.log"
    log.touch()
    process = subprocess.Popen(
        [
            server,
            "--no-defaults",
            f"--datadir={root / 'data'}",
            "--user=root",
            "--bind-address=127.0.0.1",
            f"--port={port}",
            f"--socket={root / 'mysqld.sock'}",
            f"--pid-file={root / 'mysqld.pid'}",
            f"--log-error={log}",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=16M",
            f"--ssl-ca={certificates.ca}",
            f"--ssl-cert={certificates.cert}",
            f"--ssl-key={certificates.key}",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        db = Mariadb(port=port, socket=root / "mysqld.sock", client=client)
        wait_until(
            lambda: db.socket.exists() and db.admin("SELECT 1", check=False) == ["1"],
            process,
            "mariadbd",
            log,
        )
        db.admin(SHOP + GRANTS)
        yield db
    finally:
        stop(process)


@dataclass
class Redis:
    port: int
    tls_port: int
    directory: Path
    cli: str

    def cli_run(self, *args):
        result = subprocess.run(
            [self.cli, "-h", "127.0.0.1", "-p", str(self.port), "--no-auth-warning", *args],
            env={**os.environ, "REDISCLI_AUTH": REDIS_PASSWORD},
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return result.stdout.strip()

    @property
    def rdb(self):
        return self.directory / "dump.rdb"


@pytest.fixture(scope="package")
def redis(tmp_path_factory, certificates):
    server = tool("redis-server", "redis-server")
    cli = tool("redis-cli", "redis-tools")
    tool("redis-check-rdb", "redis-tools")
    root = tmp_path_factory.mktemp("redis")
    port, tls_port = free_port(), free_port()
    log = root / "redis.log"
    log.touch()
    process = subprocess.Popen(
        [
            server,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(root),
            "--dbfilename",
            "dump.rdb",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--requirepass",
            REDIS_PASSWORD,
            "--logfile",
            str(log),
            # The same server on a second port with TLS; clients need no certificate.
            "--tls-port",
            str(tls_port),
            "--tls-cert-file",
            str(certificates.cert),
            "--tls-key-file",
            str(certificates.key),
            "--tls-ca-cert-file",
            str(certificates.ca),
            "--tls-auth-clients",
            "no",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        db = Redis(port=port, tls_port=tls_port, directory=root, cli=cli)

        def ready():
            try:
                return db.cli_run("PING") == "PONG"
            except subprocess.CalledProcessError:
                return False

        wait_until(ready, process, "redis-server", log)
        db.cli_run("MSET", "user:1", "ann", "user:2", "bob", "drama:7", "(title)")
        db.cli_run("SELECT", "0")
        # An ACL user who may save but not read the configuration.
        db.cli_run(
            "ACL", "SETUSER", "limited", "on", f">{LIMITED_PASSWORD}", "~*", "+@all", "-config"
        )
        yield db
    finally:
        stop(process)
