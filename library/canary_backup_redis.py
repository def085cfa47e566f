#!/usr/bin/python
"""Take a fresh Redis snapshot (BGSAVE), copy it into the backup directory and check it."""

DOCUMENTATION = r"""
module: canary_backup_redis
short_description: Take a fresh Redis snapshot, keep a checked copy of it
description:
  - "Asks Redis for a snapshot (C(BGSAVE)) and waits, at most O(timeout) seconds, until
    C(LASTSAVE) has moved past its value from before the request and no save is running;
    a save that failed (C(rdb_last_bgsave_status)) fails the task."
  - The snapshot file (O(rdb_path), or where the server saves, from C(CONFIG GET dir) and
    C(dbfilename)) must have been written by that save and be readable on this host. It is
    copied into O(dest) as C(<service>_redis_<name>_<UTC timestamp>.rdb), mode 0600, with a
    C(sha256sum)-compatible C(.sha256) sidecar, after the copy passed its checks - the RDB
    header and end-of-file marker, then C(redis-check-rdb) (entries and CRC64).
  - A failed backup leaves no file. Only once a backup passed are the oldest backups of O(name)
    beyond O(retention) deleted (only files with this naming pattern).
  - Speaks the Redis protocol itself (no redis-py or redis-cli) with C(AUTH), an ACL
    O(username) when given; the password is never on a command line. Logic in
    C(module_utils/backup/).
  - In check mode, connects, and reports the keys, the last save, the snapshot file and the
    backups retention would delete; saves and writes nothing.
  - "ACL permissions: C(+auth +ping +info +time +lastsave +bgsave), and C(+config|get) unless
    O(rdb_path) is given."
options:
  label:
    description:
      - How error messages name the connection settings; C(canary_backup_redis) gives
        C(canary_backup_redis.password). Empty for the bare option names.
    type: str
    default: ""
  host:
    description: The server's host name or address.
    type: str
    default: 127.0.0.1
  port:
    description: The server's TCP port.
    type: int
    default: 6379
  username:
    description: The ACL user (Redis 6+); without it, the password is the default user's.
    type: str
  password:
    description: The password; from a vault or the environment. Never shown. Empty for none.
    type: str
    default: ""
  tls:
    description: Connect with TLS, verifying the server's certificate unless O(validate_certs=false).
    type: bool
    default: false
  ca_path:
    description: PEM bundle of the CA that signed the server's certificate (system CAs otherwise).
    type: path
  validate_certs:
    description: With O(tls), verify the server's certificate and host name.
    type: bool
    default: true
  rdb_path:
    description:
      - Where the snapshot file is readable on this host. Without it, the server is asked
        (C(CONFIG GET)), which only helps when Redis runs on this host.
    type: path
  name:
    description: The instance's name in the backup file names (letters, digits, C(_), C(-)).
    type: str
    default: dump
  service:
    description: The service the backups belong to (a DNS label); first part of the file names.
    type: str
    required: true
  dest:
    description: The backup directory (created with mode 0700 when missing).
    type: path
    required: true
  retention:
    description: Backups kept for O(name), the new one included.
    type: int
    default: 7
  timeout:
    description: Seconds the snapshot may take to be saved, and then to be checked.
    type: int
    default: 900
  check_command:
    description: Redis' RDB checker (Debian package redis-tools).
    type: str
    default: redis-check-rdb
author:
  - Canary runbooks maintainers
"""

EXAMPLES = r"""
- name: Snapshot the cache and keep a checked copy
  canary_backup_redis:
    label: canary_backup_redis
    host: 127.0.0.1
    password: "{{ lookup('ansible.builtin.env', 'CANARY_BACKUP_REDIS_PASSWORD') }}"
    service: frontend
    dest: /var/backups/canary/frontend
  no_log: true
  register: snapshot
"""

RETURN = r"""
path:
  description: The backup copy of the snapshot.
  returned: success, not in check mode
  type: str
  sample: /var/backups/canary/frontend/frontend_redis_dump_20260126T101500Z.rdb
checksum_path:
  description: Its sha256 sidecar (C(sha256sum -c) format).
  returned: success, not in check mode
  type: str
size:
  description: Its size in bytes.
  returned: success, not in check mode
  type: int
sha256:
  description: Its sha256.
  returned: success, not in check mode
  type: str
rdb_path:
  description: The snapshot file the copy was taken from.
  returned: success
  type: str
keyspace:
  description: Keys per Redis database when the backup started.
  returned: success
  type: dict
  sample: {db0: 1200}
previous_lastsave:
  description: LASTSAVE (Unix time) before the BGSAVE.
  returned: success, not in check mode
  type: int
lastsave:
  description: LASTSAVE after the BGSAVE (in check mode, the current one).
  returned: success
  type: int
removed:
  description: Older backups deleted by retention.
  returned: success, not in check mode
  type: list
  elements: str
would_remove:
  description: The backups retention would delete (check mode).
  returned: check mode
  type: list
  elements: str
summary:
  description: One line for the operator - the file, its size and sha256, when it was saved, the
    keys, the backups deleted (in check mode, the plan).
  returned: success
  type: str
"""

import os

from ansible.module_utils.backup import BackupError
from ansible.module_utils.backup.naming import backup_pattern
from ansible.module_utils.backup.redis_backup import RedisServer, back_up, summary
from ansible.module_utils.backup.retention import existing
from ansible.module_utils.backup.settings import redis_problems
from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = {
    "label": {"type": "str", "default": ""},
    "host": {"type": "str", "default": "127.0.0.1"},
    "port": {"type": "int", "default": 6379},
    "username": {"type": "str"},
    "password": {"type": "str", "default": "", "no_log": True},
    "tls": {"type": "bool", "default": False},
    "ca_path": {"type": "path"},
    "validate_certs": {"type": "bool", "default": True},
    "rdb_path": {"type": "path"},
    "name": {"type": "str", "default": "dump"},
    "service": {"type": "str", "required": True},
    "dest": {"type": "path", "required": True},
    "retention": {"type": "int", "default": 7},
    "timeout": {"type": "int", "default": 900},
    "check_command": {"type": "str", "default": "redis-check-rdb"},
}
SERVER_FIELDS = (
    "host",
    "port",
    "username",
    "password",
    "tls",
    "ca_path",
    "validate_certs",
    "label",
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    problems = redis_problems(params)
    if problems:
        module.fail_json(msg="; ".join(problems))
    params["dest"] = os.path.abspath(params["dest"])
    server = RedisServer(**{name: params[name] for name in SERVER_FIELDS})
    pattern = backup_pattern(params["service"], "redis", params["name"])
    before = existing(params["dest"], pattern)
    try:
        report = back_up(server, params, check_mode=module.check_mode)
    except BackupError as err:
        module.fail_json(msg=str(err))
    result = {"changed": True, **report, "summary": summary(report)}
    if module._diff and not module.check_mode:
        result["diff"] = {
            "before_header": params["dest"],
            "after_header": params["dest"],
            "before": "".join(f"{name}\n" for name in before),
            "after": "".join(f"{name}\n" for name in existing(params["dest"], pattern)),
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
