"""canary_backup_mysql against a real MariaDB: backups, their verification, and failures.

The module runs in-process (its main(), as Ansible would run it) against the package's
MariaDB on 127.0.0.1; the dumper and client are the Debian package's. Every failure case
checks what the operator reads, that the password never shows, that no backup file is
left behind and that the live database is untouched.
"""

import gzip
import hashlib
import json
import os
import re
import stat
import subprocess
from datetime import UTC, datetime

import canary_backup_mysql
import pytest
from ansible.module_utils.backup import BackupError
from ansible.module_utils.backup.mysql_backup import back_up
from ansible.module_utils.backup.mysql_catalog import checksums
from ansible.module_utils.backup.mysql_client import MysqlServer, MysqlSession
from ansible.module_utils.backup.mysql_verify import verify
from ansible.module_utils.testing import patch_module_args

from tests.integration.backup.conftest import BACKUP_PASSWORD, free_port

pytestmark = pytest.mark.slow

SHOP_TABLES = {"customers": 3, "empty_t": 0, "odd name (x)": 2, "orders": 3}


def run_module(capsys, args, check_mode=False):
    """Run the module's main() with ``args``; return (exit code, raw output, parsed output)."""
    if check_mode:
        args = {**args, "_ansible_check_mode": True}
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        canary_backup_mysql.main()
    out = capsys.readouterr().out
    return exited.value.code, out, json.loads(out)


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


def arguments(mariadb, dest, **extra):
    return {
        "label": "canary_backup_mysql",
        "host": "127.0.0.1",
        "port": mariadb.port,
        "user": "backup",
        "password": BACKUP_PASSWORD,
        "databases": ["shop"],
        "service": "frontend",
        "dest": str(dest),
        "retention": 2,
        "timeout": 60,
        **extra,
    }


def settings(dest, **extra):
    return {
        "service": "frontend",
        "dest": str(dest),
        "retention": 10,
        "options": [],
        "checksum_max_bytes": 64 * 1024 * 1024,
        "skip_binlog": False,
        **extra,
    }


def session(mariadb, user="backup"):
    server = MysqlServer(
        port=mariadb.port, user=user, password=BACKUP_PASSWORD, label="canary_backup_mysql"
    )
    return MysqlSession(server, 60)


@pytest.fixture(scope="module")
def good_backup(mariadb, tmp_path_factory):
    """A verified backup of shop made through module_utils, to damage copies of."""
    dest = tmp_path_factory.mktemp("good")
    with session(mariadb) as current:
        return back_up(current, settings(dest), "shop")


def damaged_copy(good_backup, tmp_path, change):
    """A copy of the good backup whose SQL text went through ``change``, re-checksummed."""
    text = gzip.decompress(read(good_backup["path"]))
    return rewrite(tmp_path, gzip.compress(change(text)))


def rewrite(tmp_path, data, name="frontend_mysql_shop_20260101T000000Z.sql.gz"):
    """``data`` as a backup file with a sidecar that matches it."""
    path = tmp_path / name
    path.write_bytes(data)
    (tmp_path / f"{name}.sha256").write_text(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    return path


def verify_file(capsys, mariadb, path):
    return run_module(
        capsys,
        {
            "action": "verify",
            "label": "canary_backup_mysql",
            "port": mariadb.port,
            "user": "backup",
            "password": BACKUP_PASSWORD,
            "path": str(path),
        },
    )


def test_a_good_backup_is_private_checksummed_verified_and_retention_keeps_the_newest(
    capsys, mariadb, tmp_path
):
    dest = tmp_path / "backups"
    with session(mariadb) as current:
        old = [
            back_up(current, settings(dest), "shop", now=datetime(2026, 1, day, tzinfo=UTC))
            for day in (1, 2, 3)
        ]
    (dest / "notes.txt").write_text("an operator's file")
    (dest / "frontend_mysql_other_20200101T000000Z.sql.gz").write_text("another database's")

    code, out, result = run_module(capsys, arguments(mariadb, dest), check_mode=False)

    assert code == 0, result
    assert result["changed"] is True
    (backup,) = result["backups"]
    path = backup["path"]
    assert os.path.basename(path).startswith("frontend_mysql_shop_")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(backup["checksum_path"]).st_mode) == 0o600
    # sha256sum-compatible sidecar, checked by coreutils itself.
    checked = subprocess.run(
        ["sha256sum", "-c", os.path.basename(backup["checksum_path"])],
        cwd=dest,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert backup["sha256"] == hashlib.sha256(read(path)).hexdigest()
    assert backup["size"] == os.path.getsize(path)
    assert {t["name"]: t["rows"] for t in backup["tables"]} == SHOP_TABLES
    verification = backup["verification"]
    assert verification["scratch_dropped"] is True
    assert {t["name"]: (t["rows"], t["checksum"]) for t in verification["tables"]} == {
        name: (rows, "matched") for name, rows in SHOP_TABLES.items()
    }
    assert mariadb.scratch_databases() == []
    assert gzip.decompress(read(path)).rstrip().splitlines()[-1].startswith(b"-- Dump completed")
    # Retention 2: the newest old backup and the new one stay; only this role's files go.
    assert result["removed"] == [old[0]["path"], old[1]["path"]]
    assert sorted(os.listdir(dest)) == sorted(
        [
            "notes.txt",
            "frontend_mysql_other_20200101T000000Z.sql.gz",
            os.path.basename(old[2]["path"]),
            os.path.basename(old[2]["checksum_path"]),
            os.path.basename(path),
            os.path.basename(backup["checksum_path"]),
        ]
    )
    assert BACKUP_PASSWORD not in out


def test_check_mode_reports_the_databases_and_writes_nothing(capsys, mariadb, tmp_path):
    dest = tmp_path / "backups"
    code, _, result = run_module(capsys, arguments(mariadb, dest), check_mode=True)
    assert code == 0, result
    assert result["changed"] is True
    assert result["planned"] == [
        {
            "database": "shop",
            "tables": {"tables": 4, "views": 1, "sequences": 1},
            "would_remove": [],
        }
    ]
    assert not dest.exists()
    assert mariadb.scratch_databases() == []


def test_a_truncated_backup_fails_its_checksum(capsys, mariadb, good_backup, tmp_path):
    data = read(good_backup["path"])
    path = tmp_path / os.path.basename(good_backup["path"])
    path.write_bytes(data[: len(data) // 2])
    (tmp_path / os.path.basename(good_backup["checksum_path"])).write_bytes(
        read(good_backup["checksum_path"])
    )
    code, _, result = verify_file(capsys, mariadb, path)
    assert code == 1
    assert "changed or truncated after the backup" in result["msg"]
    assert mariadb.scratch_databases() == []


def test_a_truncated_backup_with_a_matching_checksum_fails_gzip(
    capsys, mariadb, good_backup, tmp_path
):
    data = read(good_backup["path"])
    path = rewrite(tmp_path, data[: len(data) - 100])
    code, _, result = verify_file(capsys, mariadb, path)
    assert code == 1
    assert "the compressed file is truncated" in result["msg"]
    assert mariadb.scratch_databases() == []


def test_a_dump_cut_at_a_line_lacks_the_completion_line(capsys, mariadb, good_backup, tmp_path):
    def cut(text):
        lines = text.splitlines(keepends=True)
        return b"".join(lines[: len(lines) * 2 // 3])

    path = damaged_copy(good_backup, tmp_path, cut)
    code, _, result = verify_file(capsys, mariadb, path)
    assert code == 1
    assert "does not end with the dumper's '-- Dump completed' line" in result["msg"]
    assert mariadb.scratch_databases() == []


def test_rows_the_restore_loses_fail_the_row_count(capsys, mariadb, good_backup, tmp_path):
    def duplicate_an_order(text):
        # INSERT IGNORE drops the duplicate key without an error: 4 rows in the dump, fewer
        # restored (MariaDB 10.11's bulk load into an empty table drops the whole statement).
        return text.replace(
            b"INSERT INTO `orders` VALUES",
            b"INSERT IGNORE INTO `orders` VALUES\n(1,1,1.00,NULL),",
            1,
        )

    path = damaged_copy(good_backup, tmp_path, duplicate_an_order)
    code, _, result = verify_file(capsys, mariadb, path)
    assert code == 1
    assert re.search(r"table orders: 4 rows in the dump, [0-3] restored", result["msg"])
    assert mariadb.scratch_databases() == []


def test_a_value_changed_in_the_dump_fails_the_checksum(mariadb, good_backup, tmp_path):
    path = damaged_copy(good_backup, tmp_path, lambda text: text.replace(b"'Bob'", b"'Rob'"))
    with session(mariadb) as current:
        before = checksums(current, "shop", list(SHOP_TABLES))
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        with pytest.raises(BackupError) as failed:
            verify(current, str(path), digest, source=("shop", before))
    assert "table customers: checksum" in str(failed.value)
    assert "which did not change during the backup" in str(failed.value)
    assert mariadb.scratch_databases() == []


def test_a_table_written_during_the_backup_is_reported_not_failed(mariadb, good_backup):
    with session(mariadb) as current:
        before = checksums(current, "shop", list(SHOP_TABLES))
        mariadb.admin("UPDATE shop.empty_t SET id = id; INSERT INTO shop.empty_t VALUES (7)")
        try:
            result = verify(
                current, good_backup["path"], good_backup["sha256"], source=("shop", before)
            )
        finally:
            mariadb.admin("DELETE FROM shop.empty_t")
    states = {t["name"]: t["checksum"] for t in result["tables"]}
    assert states == {
        "customers": "matched",
        "empty_t": "source changed",
        "odd name (x)": "matched",
        "orders": "matched",
    }
    assert mariadb.scratch_databases() == []


def test_a_dump_that_names_a_database_is_never_restored(capsys, mariadb, good_backup, tmp_path):
    path = damaged_copy(
        good_backup,
        tmp_path,
        lambda text: text.replace(
            b"\nDROP TABLE IF EXISTS", b"\nUSE `shop`;\nDROP TABLE IF EXISTS", 1
        ),
    )
    rows = mariadb.shop_rows()
    code, _, result = verify_file(capsys, mariadb, path)
    assert code == 1
    assert "it names a database (USE `shop`;)" in result["msg"]
    assert mariadb.shop_rows() == rows
    assert mariadb.scratch_databases() == []


def test_a_server_that_is_down_is_named(capsys, mariadb, tmp_path):
    port = free_port()
    code, out, result = run_module(capsys, arguments(mariadb, tmp_path / "b", port=port))
    assert code == 1
    assert result["msg"].startswith(
        f"canary_backup_mysql: cannot connect to the server at 127.0.0.1:{port}: "
    )
    assert not (tmp_path / "b").exists()
    assert BACKUP_PASSWORD not in out


def test_wrong_credentials_name_the_password_and_change_nothing(capsys, mariadb, tmp_path):
    rows = mariadb.shop_rows()
    code, out, result = run_module(
        capsys, arguments(mariadb, tmp_path / "b", password="not-the-password-SECRET")
    )
    assert code == 1
    assert result["msg"] == (
        f"canary_backup_mysql.password: the server at 127.0.0.1:{mariadb.port} refused the "
        "credentials: Access denied for user 'backup'@'127.0.0.1' (using password: YES)"
    )
    assert "SECRET" not in out
    assert not (tmp_path / "b").exists()
    assert mariadb.shop_rows() == rows
    assert mariadb.scratch_databases() == []


def test_a_missing_database_is_named_by_its_index(capsys, mariadb, tmp_path):
    code, _, result = run_module(
        capsys, arguments(mariadb, tmp_path / "b", databases=["shop", "nosuch"])
    )
    assert code == 1
    assert result["msg"] == (
        f"canary_backup_mysql.databases[1]: the server at 127.0.0.1:{mariadb.port} has no "
        "database 'nosuch', or user 'backup' may not see it"
    )
    assert not (tmp_path / "b").exists()


def test_a_user_without_scratch_privileges_is_told_the_grant_and_keeps_no_file(
    capsys, mariadb, tmp_path
):
    dest = tmp_path / "b"
    code, _, result = run_module(capsys, arguments(mariadb, dest, user="reader"))
    assert code == 1
    assert result["msg"].startswith(
        f"canary_backup_mysql.user: the server at 127.0.0.1:{mariadb.port} lacks a privilege: "
        "Access denied for user 'reader'@'127.0.0.1' to database 'canary_verify_"
    )
    assert "GRANT ALL ON `canary\\_verify\\_%`.* TO the backup user" in result["msg"]
    assert os.listdir(dest) == []
    assert mariadb.scratch_databases() == []


def test_tls_verifies_the_server_certificate(capsys, mariadb, certificates, tmp_path):
    dest = tmp_path / "b"
    code, _, result = run_module(
        capsys, arguments(mariadb, dest, tls=True, ca_path=str(certificates.ca)), check_mode=True
    )
    assert code == 0, result
    assert result["planned"][0]["database"] == "shop"

    code, _, result = run_module(capsys, arguments(mariadb, dest, tls=True), check_mode=True)
    assert code == 1
    assert result["msg"].startswith(
        f"canary_backup_mysql.tls: the TLS handshake with the server at 127.0.0.1:{mariadb.port} "
        "failed: "
    )


def test_verifying_on_a_server_that_is_down_names_it(capsys, mariadb, good_backup):
    port = free_port()
    code, _, result = run_module(
        capsys,
        {
            "action": "verify",
            "label": "canary_backup_mysql",
            "port": port,
            "user": "backup",
            "password": BACKUP_PASSWORD,
            "path": good_backup["path"],
        },
    )
    assert code == 1
    assert result["msg"].startswith(
        f"canary_backup_mysql: cannot connect to the server at 127.0.0.1:{port}: "
    )
    assert re.search(r"\(creating the scratch database canary_verify_[0-9a-f]{8}\)$", result["msg"])


def test_skip_binlog_needs_binlog_admin_and_then_verifies(mariadb, good_backup):
    with session(mariadb) as current, pytest.raises(BackupError) as refused:
        verify(current, good_backup["path"], good_backup["sha256"], skip_binlog=True)
    assert str(refused.value).startswith(
        f"canary_backup_mysql.user: the server at 127.0.0.1:{mariadb.port} lacks a privilege: "
    )
    assert "BINLOG ADMIN" in str(refused.value)
    with session(mariadb, user="unlogged") as current:
        result = verify(current, good_backup["path"], good_backup["sha256"], skip_binlog=True)
    assert {t["name"]: t["rows"] for t in result["tables"]} == SHOP_TABLES
    assert mariadb.scratch_databases() == []
