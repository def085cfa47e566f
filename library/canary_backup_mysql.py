#!/usr/bin/python
"""Back up MySQL/MariaDB databases and verify each backup in a scratch database."""

DOCUMENTATION = r"""
module: canary_backup_mysql
short_description: Back up MySQL/MariaDB databases and verify each backup in a scratch database
description:
  - For each database, a consistent dump (C(mariadb-dump --single-transaction)), compressed
    with gzip, with a C(sha256sum)-compatible C(.sha256) sidecar, mode 0600, named
    C(<service>_mysql_<database>_<UTC timestamp>.sql.gz) in O(dest).
  - "Each dump is verified before it gets its final name: its checksum, gzip integrity and the
    dumper's completion line, then a restore into a scratch database C(canary_verify_<random>)
    on the same server, never the live one. The scratch database must hold the dump's tables
    with the rows the dump inserts into each; tables no larger than O(checksum_max_bytes) are
    also compared with C(CHECKSUM TABLE) against the source when it did not change during the
    backup. The scratch database is always dropped."
  - A backup that fails (dump or verification) leaves no file. Only once a backup passed are the
    oldest backups of its database beyond O(retention) deleted (only files with this naming pattern).
  - "The password goes to the client tools in a private option file (mode 0600,
    C(--defaults-file)), never on a command line. Logic in C(module_utils/backup/)."
  - With O(action=verify), verifies an existing backup file (from its sidecar checksum) the
    same way, without the source checksum comparison, and changes nothing.
  - In check mode, connects and reports each database's tables and the backups retention would
    delete; writes nothing (with O(action=verify), checks the file without restoring it).
  - "Privileges: SELECT, SHOW VIEW, TRIGGER, LOCK TABLES on the databases; ALL on
    C(`canary\\_verify\\_%`.*) for the scratch database; SET USER (MariaDB 10.5.2+, else SUPER)
    when views, triggers or routines have another definer; BINLOG ADMIN for O(skip_binlog)."
options:
  action:
    description: C(backup) the databases, or C(verify) the backup file O(path).
    type: str
    choices: [backup, verify]
    default: backup
  label:
    description:
      - How error messages name the connection settings; C(canary_backup_mysql) gives
        C(canary_backup_mysql.password). Empty for the bare option names.
    type: str
    default: ""
  host:
    description: The server's host name or address (TCP, even for C(localhost)).
    type: str
    default: 127.0.0.1
  port:
    description: The server's TCP port.
    type: int
    default: 3306
  socket:
    description: Connect through this Unix socket instead of O(host) and O(port).
    type: path
  user:
    description: The user to connect as; must be set.
    type: str
    default: ""
  password:
    description: The user's password; from a vault or the environment. Never shown.
    type: str
    default: ""
  tls:
    description: Require TLS, verifying the server's certificate unless O(validate_certs=false).
    type: bool
    default: false
  ca_path:
    description: PEM bundle of the CA that signed the server's certificate (system CAs otherwise).
    type: path
  validate_certs:
    description: With O(tls), verify the server's certificate and host name.
    type: bool
    default: true
  databases:
    description: The databases to back up, one file each. At least one with O(action=backup).
    type: list
    elements: str
  options:
    description:
      - More C(mariadb-dump) options, long form (C(--ignore-table=shop.sessions)). Options that
        would name the database in the dump, write elsewhere, drop the completion line, break
        the snapshot, create events or set the connection are refused.
    type: list
    elements: str
    default: []
  service:
    description: The service the backups belong to (a DNS label); first part of the file names.
    type: str
  dest:
    description: The backup directory (created with mode 0700 when missing).
    type: path
  path:
    description: The backup file to verify, with its C(.sha256) sidecar next to it (O(action=verify)).
    type: path
  retention:
    description: Backups kept per database, the new one included.
    type: int
    default: 7
  timeout:
    description: Seconds each dump, restore or query may take.
    type: int
    default: 900
  checksum_max_bytes:
    description:
      - Tables whose data is at most this size (information_schema C(DATA_LENGTH)) are compared
        with C(CHECKSUM TABLE), which reads them whole on the live server twice. C(0) turns it off.
    type: int
    default: 67108864
  skip_binlog:
    description:
      - Keep the scratch database out of the binary log, so replicas never see it (needs BINLOG
        ADMIN or SUPER).
    type: bool
    default: false
  dump_command:
    description: The dumper (Debian package mariadb-client).
    type: str
    default: mariadb-dump
  client_command:
    description: The client (Debian package mariadb-client).
    type: str
    default: mariadb
author:
  - Canary runbooks maintainers
"""

EXAMPLES = r"""
- name: Back up and verify the shop database
  canary_backup_mysql:
    label: canary_backup_mysql
    host: mysql.internal
    user: backup
    password: "{{ vault_mysql_backup_password }}"
    databases: [shop]
    service: frontend
    dest: /var/backups/canary/frontend
    retention: 7
  no_log: true
  register: backup

- name: Verify a backup before restoring it by hand
  canary_backup_mysql:
    action: verify
    path: /var/backups/canary/frontend/frontend_mysql_shop_20260126T101500Z.sql.gz
    user: backup
    password: "{{ vault_mysql_backup_password }}"
  no_log: true
"""

RETURN = r"""
backups:
  description: One entry per database backed up (action backup, not in check mode).
  returned: success
  type: list
  elements: dict
  contains:
    database:
      description: The database.
      type: str
    path:
      description: The backup file.
      type: str
      sample: /var/backups/canary/frontend/frontend_mysql_shop_20260126T101500Z.sql.gz
    checksum_path:
      description: Its sha256 sidecar (C(sha256sum -c) format).
      type: str
    size:
      description: Its size in bytes.
      type: int
    sha256:
      description: Its sha256.
      type: str
    tables:
      description: Each table of the dump with the rows the dump holds.
      type: list
      elements: dict
      sample: [{name: orders, rows: 1200}]
    verification:
      description: The scratch database used and, per table, the rows restored and the checksum
        outcome (C(matched), C(source changed), C(not compared)).
      type: dict
    removed:
      description: Older backups of this database deleted by retention.
      type: list
      elements: str
verification:
  description: The verification of O(path) (action verify; in check mode only the file checks).
  returned: success and action is verify
  type: dict
planned:
  description: Check mode - each database's tables by kind and the backups retention would delete.
  returned: check mode and action is backup
  type: list
  elements: dict
  sample: [{database: shop, tables: {tables: 12, views: 1}, would_remove: []}]
removed:
  description: Every backup deleted by retention (in check mode, that it would delete).
  returned: action is backup
  type: list
  elements: str
summary:
  description: One line per database for the operator - the file, its size and sha256, the tables
    and rows restored, the checksums matched, the backups deleted (in check mode, the plan).
  returned: action is backup
  type: list
  elements: str
"""

import os

from ansible.module_utils.backup import BackupError
from ansible.module_utils.backup.files import read_sidecar
from ansible.module_utils.backup.mysql_backup import back_up, check_databases, plan, summary
from ansible.module_utils.backup.mysql_client import MysqlServer, MysqlSession
from ansible.module_utils.backup.mysql_verify import check_file, verify
from ansible.module_utils.backup.naming import backup_pattern
from ansible.module_utils.backup.retention import existing
from ansible.module_utils.backup.settings import mysql_problems
from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = {
    "action": {"type": "str", "choices": ["backup", "verify"], "default": "backup"},
    "label": {"type": "str", "default": ""},
    "host": {"type": "str", "default": "127.0.0.1"},
    "port": {"type": "int", "default": 3306},
    "socket": {"type": "path"},
    "user": {"type": "str", "default": ""},
    "password": {"type": "str", "default": "", "no_log": True},
    "tls": {"type": "bool", "default": False},
    "ca_path": {"type": "path"},
    "validate_certs": {"type": "bool", "default": True},
    "databases": {"type": "list", "elements": "str"},
    "options": {"type": "list", "elements": "str", "default": []},
    "service": {"type": "str"},
    "dest": {"type": "path"},
    "path": {"type": "path"},
    "retention": {"type": "int", "default": 7},
    "timeout": {"type": "int", "default": 900},
    "checksum_max_bytes": {"type": "int", "default": 64 * 1024 * 1024},
    "skip_binlog": {"type": "bool", "default": False},
    "dump_command": {"type": "str", "default": "mariadb-dump"},
    "client_command": {"type": "str", "default": "mariadb"},
}
SERVER_FIELDS = (
    "host",
    "port",
    "socket",
    "user",
    "password",
    "tls",
    "ca_path",
    "validate_certs",
    "client_command",
    "dump_command",
    "label",
)


def listing(params):
    """The backup files of every database, as diff text."""
    names = []
    for database in params["databases"]:
        names += existing(params["dest"], backup_pattern(params["service"], "mysql", database))
    return "".join(f"{name}\n" for name in names)


def run_backup(module, session):
    params = module.params
    if module.check_mode:
        planned = plan(session, params)
        removed = [path for entry in planned for path in entry["would_remove"]]
        module.exit_json(
            changed=True,
            planned=planned,
            removed=removed,
            summary=[summary(entry) for entry in planned],
        )
    check_databases(session, params["databases"])
    before = listing(params)
    backups = []
    try:
        for database in params["databases"]:
            backups.append(back_up(session, params, database))
    except BackupError as err:
        module.fail_json(msg=str(err), backups=backups)
    result = {
        "changed": True,
        "backups": backups,
        "removed": [path for backup in backups for path in backup["removed"]],
        "summary": [summary(backup) for backup in backups],
    }
    if module._diff:
        result["diff"] = {
            "before_header": params["dest"],
            "after_header": params["dest"],
            "before": before,
            "after": listing(params),
        }
    module.exit_json(**result)


def run_verify(module, session):
    path = module.params["path"]
    digest = read_sidecar(path)
    if module.check_mode:
        tables = check_file(path, digest).tables
        verification = {
            "restored": False,
            "tables": [{"name": name, "rows": rows} for name, rows in tables.items()],
        }
    else:
        verification = verify(session, path, digest, skip_binlog=module.params["skip_binlog"])
    module.exit_json(changed=False, verification={"path": path, "sha256": digest, **verification})


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
        required_if=[
            ("action", "backup", ("service", "dest")),
            ("action", "verify", ("path",)),
        ],
    )
    params = module.params
    problems = mysql_problems(params)
    if problems:
        module.fail_json(msg="; ".join(problems))
    server = MysqlServer(**{name: params[name] for name in SERVER_FIELDS})
    try:
        with MysqlSession(server, params["timeout"]) as session:
            if params["action"] == "backup":
                params["dest"] = os.path.abspath(params["dest"])
                run_backup(module, session)
            else:
                run_verify(module, session)
    except BackupError as err:
        module.fail_json(msg=str(err))


if __name__ == "__main__":
    main()
