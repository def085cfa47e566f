"""The MySQL client plumbing: the option file, errors in words, dumper options refused."""

import pytest
from ansible.module_utils.backup.mysql_client import (
    MysqlServer,
    defaults_text,
    explain,
    option_value,
    parse_error,
    quote_identifier,
    quote_string,
    unescape_batch,
)
from ansible.module_utils.backup.mysql_dump import option_problems

SERVER = MysqlServer(
    host="db.internal", port=3307, user="backup", password="s3cret", label="canary_backup_mysql"
)


def test_option_values_are_quoted_and_escaped_for_the_option_file():
    assert option_value("pa ss\"wo'rd#;\\x") == '"pa ss\\"wo\'rd#;\\\\x"'
    assert option_value("a\nb\tc") == '"a\\nb\\tc"'


def test_the_option_file_forces_tcp_and_holds_the_credentials():
    assert defaults_text(SERVER) == (
        "[client]\n"
        'user="backup"\n'
        'password="s3cret"\n'
        'host="db.internal"\n'
        "port=3307\n"
        "protocol=TCP\n"
        "[mariadb-client]\n"
        "connect-timeout=10\n"
    )


def test_the_option_file_with_a_socket_and_verified_tls():
    server = MysqlServer(
        socket="/run/mysqld/mysqld.sock", user="backup", tls=True, ca_path="/etc/ca.pem"
    )
    text = defaults_text(server)
    assert 'socket="/run/mysqld/mysqld.sock"\nprotocol=SOCKET\n' in text
    assert "host=" not in text and "password" not in text
    assert 'ssl\nssl-ca="/etc/ca.pem"\nssl-verify-server-cert\n' in text


def test_tls_without_verification_is_explicit():
    text = defaults_text(MysqlServer(user="u", tls=True, validate_certs=False))
    assert "ssl\n" in text and "ssl-verify-server-cert" not in text


@pytest.mark.parametrize(
    ("stderr", "parsed"),
    [
        (
            "ERROR 1045 (28000): Access denied for user 'backup'@'10.0.0.5' (using password: YES)\n",
            (1045, "Access denied for user 'backup'@'10.0.0.5' (using password: YES)"),
        ),
        (
            "mariadb-dump: Got error: 2002: \"Can't connect to server on '127.0.0.1' (115)\" when trying to connect\n",
            (2002, "Can't connect to server on '127.0.0.1' (115)"),
        ),
        (
            "ERROR 1227 (42000) at line 131: Access denied; you need (at least one of) the SUPER, SET USER privilege(s) for this operation\n",
            (
                1227,
                "Access denied; you need (at least one of) the SUPER, SET USER privilege(s) for this operation",
            ),
        ),
        (
            "mariadb-dump: Couldn't execute 'show create table `v`': SHOW VIEW command denied to user 'b'@'h' for table `shop`.`v` (1142)\n",
            (
                1142,
                "Couldn't execute 'show create table `v`': SHOW VIEW command denied to user 'b'@'h' for table `shop`.`v`",
            ),
        ),
        ("Warning: something\nsegfault\n", (None, "segfault")),
        ("", (None, "no error message")),
    ],
)
def test_client_errors_are_parsed(stderr, parsed):
    assert parse_error(stderr) == parsed


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (
            1045,
            "Access denied",
            "canary_backup_mysql.password: the server at db.internal:3307 refused the credentials: Access denied",
        ),
        (
            1044,
            "Access denied to database 'x'",
            "canary_backup_mysql.user: the server at db.internal:3307 lacks a privilege: Access denied to database 'x'",
        ),
        (
            1049,
            "Unknown database 'x'",
            "canary_backup_mysql.databases: the server at db.internal:3307 has no database 'x': Unknown database 'x'",
        ),
        (
            2005,
            "Unknown server host",
            "canary_backup_mysql.host: unknown host 'db.internal': Unknown server host",
        ),
        (
            2003,
            "Can't connect",
            "canary_backup_mysql: cannot connect to the server at db.internal:3307: Can't connect",
        ),
        (
            2013,
            "Lost connection",
            "canary_backup_mysql: the server at db.internal:3307 closed the connection: Lost connection",
        ),
        (1064, "syntax", "canary_backup_mysql: the server at db.internal:3307: syntax"),
    ],
)
def test_errors_name_the_setting_or_the_server(code, message, expected):
    assert explain(SERVER, f"ERROR {code} (HY000): {message}", database="x") == expected


def test_an_error_never_repeats_the_password():
    message = explain(SERVER, "ERROR 1064 (42000): near 's3cret' at line 1")
    assert "s3cret" not in message and "********" in message


def test_batch_values_are_unescaped_and_sql_is_quoted():
    assert unescape_batch("a\\tb\\nc\\\\d\\0") == "a\tb\nc\\d\0"
    assert quote_identifier("odd `name`") == "`odd ``name```"
    assert quote_string("it's a \\ test") == "'it\\'s a \\\\ test'"


@pytest.mark.parametrize(
    "options",
    [
        [],
        ["--ignore-table=shop.sessions", "--skip-extended-insert", "--complete-insert"],
        ["--skip-lock-tables", "--skip-triggers", "--comments", "--skip-events"],
        ["--max-allowed-packet=1G", "--where=id > 10", "--skip-routines"],
    ],
)
def test_harmless_dumper_options_pass(options):
    assert option_problems(options, "canary_backup_mysql.options") == []


@pytest.mark.parametrize(
    ("option", "reason"),
    [
        ("--databases", "would make the dump name its database"),
        ("--all-databases", "would make the dump name its database"),
        ("--skip-comments", "drops the '-- Dump completed' line"),
        ("--compact", "drops the '-- Dump completed' line"),
        ("--skip-single-transaction", "breaks the consistent snapshot"),
        ("--lock-all-tables", "breaks the consistent snapshot"),
        ("--loose-lock_tables", "breaks the consistent snapshot"),
        ("--events", "creates the events in the scratch database"),
        ("--force", "goes on after errors"),
        ("--skip-quote-names", "leaves table names unquoted"),
        ("--tab=/tmp", "writes files on the server"),
        ("--result-file=/tmp/x", "writes somewhere else"),
        ("--password=x", "is set from the connection settings"),
        ("--defaults-extra-file=/root/.my.cnf", "is set from the connection settings"),
    ],
)
def test_unsafe_dumper_options_are_refused_with_their_reason(option, reason):
    (problem,) = option_problems(["--quick", option], "canary_backup_mysql.options")
    assert problem.startswith(f"canary_backup_mysql.options[1]: {option} ")
    assert reason in problem


def test_ssl_and_short_options_are_refused():
    assert option_problems(["--ssl-ca=/x", "-B", "--"], "options") == [
        "options[0]: --ssl-ca=/x is set from the connection settings, never in options",
        "options[1]: '-B': use the long form (--name or --name=value)",
        "options[2]: '--': use the long form (--name or --name=value)",
    ]
