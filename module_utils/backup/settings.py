"""The checks on a backup module's settings that its argument spec cannot express.

Each problem names its setting: the connection's settings with the module's ``label``
(the role's variable, ``canary_backup_mysql.databases[1]``), the others by their option.
"""

from ansible.module_utils.backup.mysql_dump import option_problems
from ansible.module_utils.backup.naming import name_problem, service_problem


def _field(label, name):
    return f"{label}.{name}" if label else name


def common_problems(params):
    """Problems with service, retention, timeout and port."""
    problems = []
    if params.get("service") is not None and (reason := service_problem(params["service"])):
        problems.append(f"service: {reason}")
    if params["retention"] < 1:
        problems.append(
            f"retention: must be at least 1 (the new backup), got {params['retention']}"
        )
    if params["timeout"] < 1:
        problems.append(f"timeout: must be at least 1 second, got {params['timeout']}")
    if not 0 < params["port"] < 65536:
        problems.append(f"{_field(params['label'], 'port')}: {params['port']} is not a TCP port")
    return problems


def mysql_problems(params):
    problems = common_problems(params)
    label = params["label"]
    if not params["user"]:
        problems.append(f"{_field(label, 'user')}: set the user to connect as")
    databases = params["databases"] or []
    if params["action"] == "backup" and not databases:
        problems.append(f"{_field(label, 'databases')}: list at least one database")
    seen = set()
    for index, database in enumerate(databases):
        if reason := name_problem(database):
            problems.append(f"{_field(label, 'databases')}[{index}]: {reason}")
        elif database in seen:
            problems.append(f"{_field(label, 'databases')}[{index}]: {database!r} is listed twice")
        seen.add(database)
    problems += option_problems(params["options"], _field(label, "options"))
    if params["checksum_max_bytes"] < 0:
        problems.append(
            f"{_field(label, 'checksum_max_bytes')}: must be 0 (no checksums) or more, "
            f"got {params['checksum_max_bytes']}"
        )
    return problems


def redis_problems(params):
    problems = common_problems(params)
    if reason := name_problem(params["name"]):
        problems.append(f"{_field(params['label'], 'name')}: {reason}")
    return problems
