"""Backup names, private files, sha256 sidecars and retention, on a temporary directory."""

import hashlib
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ansible.module_utils.backup import BackupError
from ansible.module_utils.backup.files import (
    create_private,
    ensure_dir,
    partial_path,
    publish,
    read_sidecar,
    sha256_of,
    sidecar_of,
)
from ansible.module_utils.backup.naming import (
    backup_name,
    backup_pattern,
    name_problem,
    service_problem,
)
from ansible.module_utils.backup.retention import beyond, existing, prune

WHEN = datetime(2026, 1, 26, 10, 15, 0, tzinfo=UTC)


def test_names_carry_service_kind_database_and_utc_time():
    assert backup_name("frontend", "mysql", "shop_v2", WHEN) == (
        "frontend_mysql_shop_v2_20260126T101500Z.sql.gz"
    )
    assert (
        backup_name("frontend", "redis", "dump", WHEN) == "frontend_redis_dump_20260126T101500Z.rdb"
    )


def test_the_pattern_matches_only_its_own_service_kind_and_database():
    pattern = backup_pattern("frontend", "mysql", "shop")
    assert pattern.match("frontend_mysql_shop_20260126T101500Z.sql.gz").group(1) == (
        "20260126T101500Z"
    )
    for other in (
        "frontend_mysql_shop_v2_20260126T101500Z.sql.gz",  # another database
        "frontend_mysql_shop_20260126T101500Z.sql.gz.sha256",
        "frontend_redis_shop_20260126T101500Z.rdb",
        "backend_mysql_shop_20260126T101500Z.sql.gz",
        "frontend_mysql_shop_20260126T101500Z.sql",
        ".frontend_mysql_shop_20260126T101500Z.sql.gz.partial",
        "frontend_mysql_shop_latest.sql.gz",
    ):
        assert not pattern.match(other), other


@pytest.mark.parametrize("name", ["shop", "shop_v2", "a-b", "_x", "S1"])
def test_database_names_fit_for_files(name):
    assert name_problem(name) is None


@pytest.mark.parametrize("name", ["", "-x", "a b", "a.b", "a/b", "x" * 65, "é"])
def test_database_names_unfit_for_files_are_refused(name):
    assert "cannot be part of a backup file name" in name_problem(name)


def test_service_must_be_a_dns_label():
    assert service_problem("frontend") is None
    assert "not a DNS label" in service_problem("Front_End")


def test_private_files_are_0600_whatever_the_umask_and_never_reused(tmp_path):
    old = os.umask(0)
    try:
        with create_private(tmp_path / "f") as handle:
            handle.write(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "f").st_mode) == 0o600
    with pytest.raises(FileExistsError):
        create_private(tmp_path / "f")


def test_the_backup_directory_is_created_private(tmp_path):
    ensure_dir(str(tmp_path / "a" / "b"), "canary_backup_dir")
    assert stat.S_IMODE(os.stat(tmp_path / "a" / "b").st_mode) == 0o700
    (tmp_path / "file").write_text("")
    with pytest.raises(BackupError, match=r"^canary_backup_dir: cannot create .*/file/x: "):
        ensure_dir(str(tmp_path / "file" / "x"), "canary_backup_dir")


def test_publish_names_the_file_and_writes_a_sha256sum_sidecar(tmp_path):
    final = str(tmp_path / backup_name("frontend", "mysql", "shop", WHEN))
    partial = partial_path(final)
    assert os.path.basename(partial) == ".frontend_mysql_shop_20260126T101500Z.sql.gz.partial"
    with create_private(partial) as handle:
        handle.write(b"dump")
    digest = sha256_of(partial)
    assert digest == hashlib.sha256(b"dump").hexdigest()
    publish(partial, final, digest)
    assert not os.path.exists(partial)
    assert Path(sidecar_of(final)).read_text() == (
        f"{digest}  frontend_mysql_shop_20260126T101500Z.sql.gz\n"
    )
    assert read_sidecar(final) == digest


def test_publish_never_replaces_an_existing_backup(tmp_path):
    final = tmp_path / "b.sql.gz"
    final.write_bytes(b"older")
    partial = tmp_path / ".b.sql.gz.partial"
    partial.write_bytes(b"newer")
    with pytest.raises(BackupError, match="already exists; nothing was replaced"):
        publish(str(partial), str(final), "0" * 64)
    assert final.read_bytes() == b"older"


def test_a_missing_or_foreign_sidecar_is_refused(tmp_path):
    path = tmp_path / "b.sql.gz"
    path.write_bytes(b"x")
    with pytest.raises(BackupError, match=r"b\.sql\.gz\.sha256 is missing"):
        read_sidecar(str(path))
    (tmp_path / "b.sql.gz.sha256").write_text(f"{'0' * 64}  other.sql.gz\n")
    with pytest.raises(BackupError, match=r"is not a sha256sum line for b\.sql\.gz"):
        read_sidecar(str(path))


def test_beyond_keeps_the_newest():
    assert beyond(["a", "b", "c", "d"], 2) == ["a", "b"]
    assert beyond(["a"], 2) == []


def test_prune_deletes_the_oldest_with_their_sidecars_and_nothing_else(tmp_path):
    pattern = backup_pattern("frontend", "mysql", "shop")
    stamps = ["20260103T000000Z", "20251231T235959Z", "20260102T000000Z", "20260101T120000Z"]
    for stamp in stamps:
        (tmp_path / f"frontend_mysql_shop_{stamp}.sql.gz").write_text("")
        (tmp_path / f"frontend_mysql_shop_{stamp}.sql.gz.sha256").write_text("")
    keep_out = [
        "frontend_mysql_shop_v2_20200101T000000Z.sql.gz",
        "notes.txt",
        ".frontend_mysql_shop_20200101T000000Z.sql.gz.partial",
    ]
    for name in keep_out:
        (tmp_path / name).write_text("")
    assert existing(str(tmp_path), pattern) == [
        f"frontend_mysql_shop_{stamp}.sql.gz" for stamp in sorted(stamps)
    ]

    removed = prune(str(tmp_path), pattern, 2)

    assert removed == [
        str(tmp_path / "frontend_mysql_shop_20251231T235959Z.sql.gz"),
        str(tmp_path / "frontend_mysql_shop_20260101T120000Z.sql.gz"),
    ]
    assert sorted(os.listdir(tmp_path)) == sorted(
        [
            *keep_out,
            "frontend_mysql_shop_20260102T000000Z.sql.gz",
            "frontend_mysql_shop_20260102T000000Z.sql.gz.sha256",
            "frontend_mysql_shop_20260103T000000Z.sql.gz",
            "frontend_mysql_shop_20260103T000000Z.sql.gz.sha256",
        ]
    )


def test_a_missing_directory_has_no_backups(tmp_path):
    assert existing(str(tmp_path / "none"), backup_pattern("frontend", "redis", "dump")) == []
