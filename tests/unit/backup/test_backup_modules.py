"""The two modules' arguments: documented as declared, and bad input refused by name first.

None of these reach a server: the checks run before any connection.
"""

import json

import canary_backup_mysql
import canary_backup_redis
import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

MYSQL = {
    "label": "canary_backup_mysql",
    "port": 1,
    "user": "backup",
    "password": "SECRET-pw",
    "databases": ["shop"],
    "service": "frontend",
    "dest": "/nonexistent/backups",
}
REDIS = {
    "label": "canary_backup_redis",
    "port": 1,
    "password": "SECRET-pw",
    "service": "frontend",
    "dest": "/nonexistent/backups",
}


def run(capsys, module, args):
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        module.main()
    out = capsys.readouterr().out
    assert exited.value.code == 1
    assert "SECRET" not in out
    return json.loads(out)["msg"]


@pytest.mark.parametrize("module", [canary_backup_mysql, canary_backup_redis])
def test_every_option_is_documented_with_its_type_and_default(module):
    documented = yaml.safe_load(module.DOCUMENTATION)["options"]
    assert documented.keys() == module.ARGUMENT_SPEC.keys()
    for name, spec in module.ARGUMENT_SPEC.items():
        assert documented[name]["type"] == spec["type"], name
        assert documented[name].get("default") == spec.get("default"), name
        assert documented[name].get("choices") == spec.get("choices"), name
    yaml.safe_load(module.EXAMPLES)
    yaml.safe_load(module.RETURN)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"options": ["--databases"]},
            "canary_backup_mysql.options[0]: --databases is not allowed: it would make the dump "
            "name its database, and a restore write to it",
        ),
        (
            {"databases": ["shop", "my.db", "shop"]},
            "canary_backup_mysql.databases[1]: 'my.db' cannot be part of a backup file name "
            "(letters, digits, _ and -, not starting with -, at most 64); "
            "canary_backup_mysql.databases[2]: 'shop' is listed twice",
        ),
        ({"databases": []}, "canary_backup_mysql.databases: list at least one database"),
        ({"user": ""}, "canary_backup_mysql.user: set the user to connect as"),
        ({"retention": 0}, "retention: must be at least 1 (the new backup), got 0"),
        ({"timeout": 0}, "timeout: must be at least 1 second, got 0"),
        ({"port": 70000}, "canary_backup_mysql.port: 70000 is not a TCP port"),
        (
            {"service": "Front_End"},
            "service: 'Front_End' is not a DNS label (lower-case letters, digits and -)",
        ),
        (
            {"checksum_max_bytes": -1},
            "canary_backup_mysql.checksum_max_bytes: must be 0 (no checksums) or more, got -1",
        ),
        (
            {"client_command": "no-such-mariadb"},
            "canary_backup_mysql.client_command: no-such-mariadb not found on this host "
            "(Debian package mariadb-client)",
        ),
    ],
)
def test_bad_mysql_settings_are_refused_by_name(capsys, changes, message):
    assert run(capsys, canary_backup_mysql, {**MYSQL, **changes}) == message


def test_verify_needs_a_backup_file_with_its_checksum(capsys, tmp_path):
    path = tmp_path / "frontend_mysql_shop_20260101T000000Z.sql.gz"
    path.write_bytes(b"")
    message = run(
        capsys,
        canary_backup_mysql,
        {"action": "verify", "user": "backup", "path": str(path)},
    )
    assert message == f"{path}.sha256 is missing: without the checksum the backup cannot be trusted"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"name": "my cache"},
            "canary_backup_redis.name: 'my cache' cannot be part of a backup file name",
        ),
        ({"retention": -1}, "retention: must be at least 1 (the new backup), got -1"),
        (
            {"check_command": "no-such-checker"},
            "canary_backup_redis.check_command: no-such-checker not found on this host "
            "(Debian package redis-tools)",
        ),
    ],
)
def test_bad_redis_settings_are_refused_by_name(capsys, changes, message):
    assert run(capsys, canary_backup_redis, {**REDIS, **changes}).startswith(message)
