"""canary_backup_redis against a real redis-server: snapshot, copy, check, and failures."""

import hashlib
import json
import os
import shutil
import stat
import subprocess

import canary_backup_redis
import pytest
from ansible.module_utils.testing import patch_module_args

from tests.integration.backup.conftest import LIMITED_PASSWORD, REDIS_PASSWORD, free_port

pytestmark = pytest.mark.slow


def run_module(capsys, args, check_mode=False):
    if check_mode:
        args = {**args, "_ansible_check_mode": True}
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        canary_backup_redis.main()
    out = capsys.readouterr().out
    return exited.value.code, out, json.loads(out)


def arguments(redis, dest, **extra):
    return {
        "label": "canary_backup_redis",
        "host": "127.0.0.1",
        "port": redis.port,
        "password": REDIS_PASSWORD,
        "service": "frontend",
        "dest": str(dest),
        "retention": 1,
        "timeout": 30,
        **extra,
    }


def test_bgsave_moves_lastsave_and_a_checked_private_copy_is_kept(capsys, redis, tmp_path):
    dest = tmp_path / "backups"
    first_code, _, first = run_module(capsys, arguments(redis, dest))
    assert first_code == 0, first
    redis.cli_run("SET", "user:3", "cy")

    code, out, result = run_module(capsys, arguments(redis, dest))

    assert code == 0, result
    assert result["changed"] is True
    # The save happened after the request: LASTSAVE moved, even within the same second
    # as the previous save, and the server's own counter agrees.
    assert result["lastsave"] > result["previous_lastsave"] >= first["lastsave"]
    assert int(redis.cli_run("LASTSAVE")) == result["lastsave"]
    assert result["rdb_path"] == str(redis.rdb)
    assert result["keyspace"] == {"db0": 4}
    path = result["path"]
    assert os.path.basename(path).startswith("frontend_redis_dump_")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path, "rb") as handle:
        data = handle.read()
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    checked = subprocess.run(
        ["sha256sum", "-c", os.path.basename(result["checksum_path"])],
        cwd=dest,
        capture_output=True,
        check=False,
    )
    assert checked.returncode == 0
    assert (
        subprocess.run(["redis-check-rdb", path], capture_output=True, check=False).returncode == 0
    )
    assert b"user:3" in data
    # Retention 1: the first backup and its sidecar went.
    assert result["removed"] == [first["path"]]
    assert sorted(os.listdir(dest)) == sorted(
        [os.path.basename(path), os.path.basename(result["checksum_path"])]
    )
    assert REDIS_PASSWORD not in out


def test_check_mode_reports_and_saves_nothing(capsys, redis, tmp_path):
    lastsave = redis.cli_run("LASTSAVE")
    code, _, result = run_module(capsys, arguments(redis, tmp_path / "b"), check_mode=True)
    assert code == 0, result
    assert result["changed"] is True
    assert result["rdb_path"] == str(redis.rdb)
    assert result["lastsave"] == int(lastsave)
    assert result["would_remove"] == []
    assert redis.cli_run("LASTSAVE") == lastsave
    assert not (tmp_path / "b").exists()


def test_an_acl_user_that_may_not_read_the_config_needs_rdb_path(capsys, redis, tmp_path):
    limited = arguments(redis, tmp_path / "b", username="limited", password=LIMITED_PASSWORD)
    code, _, result = run_module(capsys, limited)
    assert code == 1
    assert result["msg"].startswith(
        f"canary_backup_redis.rdb_path: Redis at 127.0.0.1:{redis.port} does not tell where it "
        "saves (CONFIG GET: NOPERM"
    )
    assert not (tmp_path / "b").exists()

    code, _, result = run_module(capsys, {**limited, "rdb_path": str(redis.rdb)})
    assert code == 0, result
    assert os.path.exists(result["path"])


def test_a_snapshot_file_the_save_did_not_write_is_refused(capsys, redis, tmp_path):
    stale = tmp_path / "stale.rdb"
    shutil.copy(redis.rdb, stale)
    os.utime(stale, (1_700_000_000, 1_700_000_000))
    code, _, result = run_module(capsys, arguments(redis, tmp_path / "b", rdb_path=str(stale)))
    assert code == 1
    assert result["msg"] == (
        f"canary_backup_redis.rdb_path: {stale} was not written by this BGSAVE (last modified "
        f"2023-11-14T22:13:20Z, before it started): is it the file Redis at 127.0.0.1:"
        f"{redis.port} saves to?"
    )
    assert os.listdir(tmp_path / "b") == []


def test_redis_down_is_named(capsys, redis, tmp_path):
    port = free_port()
    code, out, result = run_module(capsys, arguments(redis, tmp_path / "b", port=port))
    assert code == 1
    assert result["msg"] == (
        f"canary_backup_redis: Redis at 127.0.0.1:{port}: cannot connect: connection refused"
    )
    assert not (tmp_path / "b").exists()
    assert REDIS_PASSWORD not in out


def test_a_wrong_password_is_named_and_nothing_is_saved(capsys, redis, tmp_path):
    lastsave = redis.cli_run("LASTSAVE")
    code, out, result = run_module(
        capsys, arguments(redis, tmp_path / "b", password="wrong-SECRET")
    )
    assert code == 1
    assert result["msg"] == (
        f"canary_backup_redis.password: Redis at 127.0.0.1:{redis.port} refused the "
        "credentials: WRONGPASS invalid username-password pair or user is disabled."
    )
    assert "SECRET" not in out
    assert redis.cli_run("LASTSAVE") == lastsave
    assert not (tmp_path / "b").exists()


def test_no_password_for_a_redis_that_requires_one_is_named(capsys, redis, tmp_path):
    code, _, result = run_module(capsys, arguments(redis, tmp_path / "b", password=""))
    assert code == 1
    assert result["msg"] == (
        f"canary_backup_redis.password: Redis at 127.0.0.1:{redis.port} requires a password"
    )


def test_tls_verifies_the_server_certificate(capsys, redis, certificates, tmp_path):
    secured = arguments(redis, tmp_path / "b", port=redis.tls_port, tls=True)
    code, _, result = run_module(
        capsys, {**secured, "ca_path": str(certificates.ca)}, check_mode=True
    )
    assert code == 0, result
    assert result["rdb_path"] == str(redis.rdb)

    code, _, result = run_module(capsys, secured, check_mode=True)
    assert code == 1
    assert result["msg"] == (
        f"canary_backup_redis.tls: the TLS handshake with Redis at 127.0.0.1:{redis.tls_port} "
        "failed: CERTIFICATE_VERIFY_FAILED"
    )

    code, _, result = run_module(capsys, {**secured, "validate_certs": False}, check_mode=True)
    assert code == 0, result
