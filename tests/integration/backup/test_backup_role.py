"""The canary_backup role in real ansible-playbook runs against the test servers.

Only the controller and the two servers of this package are involved (playbook.yml runs
on localhost; no cluster, no sandbox). Passwords come from the environment variables the
role's defaults read, and the runs are at -vvv: no password may show anywhere.
"""

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from tests.conftest import PROJECT_ROOT
from tests.integration.backup.conftest import BACKUP_PASSWORD, REDIS_PASSWORD

pytestmark = pytest.mark.slow

PLAYBOOK = PROJECT_ROOT / "tests" / "integration" / "backup" / "playbook.yml"


@pytest.fixture
def play(tmp_path, mariadb, redis):
    (tmp_path / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {
                        "localhost": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": sys.executable,
                        }
                    }
                }
            }
        )
    )
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    dest = tmp_path / "backups"

    def run(variables, *args, mysql_password=BACKUP_PASSWORD):
        settings = {
            "canary_backup_service": "frontend",
            "canary_backup_dir": str(dest),
            "canary_backup_retention": 2,
            "canary_backup_timeout": 60,
            **variables,
        }
        (tmp_path / "vars.json").write_text(json.dumps(settings))
        result = subprocess.run(
            [
                os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                str(PLAYBOOK),
                "-i",
                str(tmp_path / "hosts.yml"),
                "-e",
                f"@{tmp_path / 'vars.json'}",
                "-vvv",
                *args,
            ],
            cwd=PROJECT_ROOT,
            env={
                **os.environ,
                "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
                "NO_COLOR": "1",
                "TMPDIR": str(scratch),
                "CANARY_BACKUP_MYSQL_PASSWORD": mysql_password,
                "CANARY_BACKUP_REDIS_PASSWORD": REDIS_PASSWORD,
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        # The YAML callback folds long messages: compare with whitespace collapsed.
        return result.returncode, " ".join((result.stdout + result.stderr).split()), dest

    return run


def both(mariadb, redis):
    return {
        "canary_backup_mysql": {"port": mariadb.port, "user": "backup", "databases": ["shop"]},
        "canary_backup_redis": {"port": redis.port},
    }


def test_the_role_backs_up_and_verifies_both_and_shows_no_password(play, mariadb, redis):
    code, output, dest = play(both(mariadb, redis))
    assert code == 0, output
    assert "SECRET" not in output
    names = sorted(os.listdir(dest))
    assert [name.split("_2")[0] for name in names] == [
        "frontend_mysql_shop",
        "frontend_mysql_shop",
        "frontend_redis_dump",
        "frontend_redis_dump",
    ]
    assert re.search(
        r"shop: \S+/frontend_mysql_shop_\w+\.sql\.gz \(\d+ bytes, sha256 [0-9a-f]{64}\); 4 tables "
        r"and 8 rows restored as dumped into canary_verify_[0-9a-f]{8} \(dropped\); CHECKSUM "
        r"TABLE matched 4 of 4",
        output,
    )
    assert re.search(
        r"a copy of \S+/dump\.rdb saved at .*, checked by redis-check-rdb; keys: db0 \d", output
    )
    assert mariadb.scratch_databases() == []


def test_the_role_in_check_mode_writes_and_saves_nothing(play, mariadb, redis):
    lastsave = redis.cli_run("LASTSAVE")
    code, output, dest = play(both(mariadb, redis), "--check")
    assert code == 0, output
    assert not dest.exists()
    assert redis.cli_run("LASTSAVE") == lastsave
    assert "shop: would be dumped and verified (1 sequence, 4 tables, 1 view)" in output
    assert re.search(r"would snapshot and copy \S+/dump\.rdb \(last saved .*; keys: db0 \d", output)
    assert "SECRET" not in output


def test_the_role_with_nothing_configured_says_so(play):
    code, output, dest = play({})
    assert code == 0, output
    assert "No backup configured (canary_backup_mysql and canary_backup_redis are empty)" in output
    assert not dest.exists()


def test_a_failed_backup_stops_the_run_naming_the_setting(play, mariadb, redis):
    lastsave = redis.cli_run("LASTSAVE")
    code, output, dest = play(both(mariadb, redis), mysql_password="wrong-SECRET")
    assert code != 0
    assert (
        "canary_backup_mysql.password: the server at 127.0.0.1:"
        f"{mariadb.port} refused the credentials" in output
    )
    assert "SECRET" not in output
    assert not dest.exists()
    # The run stopped there: Redis was not asked to save.
    assert redis.cli_run("LASTSAVE") == lastsave


def test_a_key_the_role_does_not_know_is_refused_by_name(play, mariadb):
    code, output, dest = play(
        {"canary_backup_mysql": {"port": mariadb.port, "user": "backup", "databse": ["shop"]}}
    )
    assert code != 0
    assert "canary_backup_mysql.databse. Supported parameters include: ca_path" in output
    assert not dest.exists()
