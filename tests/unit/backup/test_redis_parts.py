"""The Redis side without a server: RESP, the RDB frame, and the BGSAVE wait against a fake."""

import io

import pytest
from ansible.module_utils.backup import BackupError, redis_backup
from ansible.module_utils.backup.rdbfile import frame_problem
from ansible.module_utils.backup.redis_backup import RedisServer, snapshot
from ansible.module_utils.backup.resp import ProtocolError, ReplyError, encode, read_reply


def test_commands_are_arrays_of_bulk_strings():
    assert encode("AUTH", "us er", "pa\r\nss") == (
        b"*3\r\n$4\r\nAUTH\r\n$5\r\nus er\r\n$6\r\npa\r\nss\r\n"
    )


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        (b"+OK\r\n", b"OK"),
        (b":1795718634\r\n", 1795718634),
        (b"$5\r\na\r\nbc\r\n", b"a\r\nbc"),
        (b"$-1\r\n", None),
        (b"*2\r\n$3\r\ndir\r\n$8\r\n/var/lib\r\n", [b"dir", b"/var/lib"]),
        (b"*0\r\n", []),
    ],
)
def test_replies_are_typed(wire, value):
    assert read_reply(io.BytesIO(wire)) == value


def test_an_error_reply_is_an_exception_with_its_code():
    with pytest.raises(ReplyError) as raised:
        read_reply(io.BytesIO(b"-WRONGPASS invalid username-password pair\r\n"))
    assert raised.value.code == "WRONGPASS"
    assert str(raised.value) == "WRONGPASS invalid username-password pair"


@pytest.mark.parametrize(
    "wire", [b"", b"+OK", b"$10\r\nshort\r\n", b"HTTP/1.1 400 Bad Request\r\n"]
)
def test_a_broken_or_foreign_answer_is_a_protocol_error(wire):
    with pytest.raises(ProtocolError):
        read_reply(io.BytesIO(wire))


def rdb(tmp_path, data):
    path = tmp_path / "dump.rdb"
    path.write_bytes(data)
    return str(path)


def test_a_whole_rdb_frame_passes(tmp_path):
    assert frame_problem(rdb(tmp_path, b"REDIS0010\xfa\x00\xfe\x00\xff" + b"\x01" * 8)) is None


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"NOTREDIS00", "does not start with an RDB header"),
        (b"REDIS0004\xff" + b"\x00" * 8, "RDB version 4 is older than Redis 2.6"),
        (b"REDIS0010\xff", "it is only 10 bytes long"),
        (
            b"REDIS0010\xfa\x00\xfe\x00\xfb" + b"\x01" * 20,
            "does not end with the RDB end-of-file marker",
        ),
    ],
)
def test_a_broken_rdb_frame_is_named(tmp_path, data, problem):
    assert problem in frame_problem(rdb(tmp_path, data))


class FakeRedis:
    """A scripted server: its clock moves on every TIME, a save takes ``save_polls`` INFOs."""

    server = RedisServer(port=6380, label="canary_backup_redis")

    def __init__(self, lastsave=100, clock=100.0, busy=0, fail=False, save_polls=2):
        self.lastsave, self.clock, self.busy, self.fail = lastsave, clock, busy, fail
        self.save_polls, self.running, self.status = save_polls, 0, "ok"
        self.bgsave_at = []

    def ask(self, *command):
        name = command[0]
        if name == "LASTSAVE":
            return self.lastsave
        if name == "TIME":
            self.clock += 0.3
            return [str(int(self.clock)).encode(), b"0"]
        assert name == "BGSAVE"
        if self.busy:
            self.busy -= 1
            raise ReplyError("ERR Background save already in progress")
        self.bgsave_at.append(self.clock)
        self.running = self.save_polls
        return b"Background saving started"

    def info(self, section):
        assert section == "persistence"
        if self.running:
            self.running -= 1
            if not self.running:
                self.status = "err" if self.fail else "ok"
                if not self.fail:
                    self.lastsave = int(self.clock)
        return {
            "rdb_bgsave_in_progress": "1" if self.running else "0",
            "rdb_last_bgsave_status": self.status,
        }


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(redis_backup.time, "sleep", lambda seconds: None)


def far():
    return redis_backup.time.monotonic() + 60


def test_the_save_starts_only_once_the_clock_passed_lastsave():
    fake = FakeRedis(lastsave=100, clock=100.0)
    before, after = snapshot(fake, far(), 60)
    assert fake.bgsave_at == [pytest.approx(101.2)]
    assert (before, after) == (100, 101)


def test_a_save_already_running_is_waited_for_then_ours_is_requested():
    fake = FakeRedis(lastsave=100, clock=200.0, busy=2)
    assert snapshot(fake, far(), 60) == (100, 200)
    assert len(fake.bgsave_at) == 1


def test_a_failed_save_is_reported_at_once():
    with pytest.raises(BackupError) as failed:
        snapshot(FakeRedis(clock=200.0, fail=True), far(), 60)
    assert str(failed.value) == (
        "canary_backup_redis: Redis at 127.0.0.1:6380: the snapshot failed "
        "(rdb_last_bgsave_status: err); see the server's log"
    )


def test_a_save_that_never_ends_times_out():
    fake = FakeRedis(clock=200.0, save_polls=10**9)
    with pytest.raises(BackupError, match="BGSAVE did not finish within 5 s"):
        snapshot(fake, redis_backup.time.monotonic() + 0.05, 5)


def test_another_refusal_is_not_retried():
    class Refusing(FakeRedis):
        def ask(self, *command):
            if command[0] == "BGSAVE":
                raise ReplyError("MISCONF Errors writing to the AOF file")
            return super().ask(*command)

    with pytest.raises(BackupError, match="refused BGSAVE: MISCONF"):
        snapshot(Refusing(clock=200.0), far(), 60)
