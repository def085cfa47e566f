"""The generated monitoring against the real tools: promtool, amtool and an Alertmanager.

The rule unit tests in ``rule_tests/`` feed series to the rendered rules and say which
alerts fire at which severity, for each tier, and which must not fire. The routing tree
is asked where each tier's alert goes, and a real Alertmanager (Debian's
prometheus-alertmanager, on 127.0.0.1) shows the inhibition between tiers.
"""

import json
import pathlib
import shutil
import socket
import subprocess
import time
import urllib.request

import jsonschema
import pytest
import yaml
from ansible.module_utils.monitoring import render

from tests.monitoring_settings import RELEASE, SCHEMA, settings

RULE_TESTS = sorted((pathlib.Path(__file__).parent / "rule_tests").glob("*.yml"))


def tool(name):
    path = shutil.which(name) or f"/usr/bin/{name}"
    if not pathlib.Path(path).exists():
        pytest.fail(
            f"{name} is missing: run `make setup` (Debian's prometheus and prometheus-alertmanager)"
        )
    return path


def run(*argv):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The role's defaults rendered for the sandbox frontend, plus the rule unit tests."""
    directory = tmp_path_factory.mktemp("monitoring")
    texts, _ = render(RELEASE, settings())
    for name, text in texts.items():
        (directory / name).write_text(text)
    for test in RULE_TESTS:
        shutil.copy(test, directory / test.name)
    return directory


def test_promtool_accepts_the_rule_file(rendered):
    code, output = run(tool("promtool"), "check", "rules", str(rendered / "rules.yml"))
    assert code == 0, output
    assert "SUCCESS: 12 rules found" in output


def test_promtool_accepts_the_groups_of_the_prometheus_rule(rendered, tmp_path):
    manifest = yaml.safe_load((rendered / "prometheusrule.yml").read_text())
    (tmp_path / "groups.yml").write_text(yaml.safe_dump({"groups": manifest["spec"]["groups"]}))
    code, output = run(tool("promtool"), "check", "rules", str(tmp_path / "groups.yml"))
    assert code == 0, output


@pytest.mark.parametrize("test_file", [t.name for t in RULE_TESTS])
def test_rule_unit_tests(rendered, test_file):
    code, output = run(tool("promtool"), "test", "rules", str(rendered / test_file))
    assert code == 0, output
    assert "SUCCESS" in output


def test_a_rule_unit_test_fails_when_a_threshold_moves(rendered, tmp_path):
    """The unit tests have teeth: a critical threshold of 3% no longer fires at 2%."""
    tiers = settings()["tiers"]
    tiers["critical"]["thresholds"]["error_rate"] = 0.03
    texts, _ = render(RELEASE, settings(tiers=tiers))
    (tmp_path / "rules.yml").write_text(texts["rules.yml"])
    shutil.copy(rendered / "error_rate.yml", tmp_path)
    code, output = run(tool("promtool"), "test", "rules", str(tmp_path / "error_rate.yml"))
    assert code != 0
    assert "FAILED" in output


def test_amtool_accepts_the_alertmanager_config(rendered):
    code, output = run(tool("amtool"), "check-config", str(rendered / "alertmanager.yml"))
    assert code == 0, output
    assert "2 inhibit rules" in output and "3 receivers" in output


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        ({"severity": "critical"}, "frontend-pager"),
        ({"severity": "important"}, "frontend-team"),
        ({"severity": "general"}, "frontend-low-noise"),
        ({"severity": "page"}, "frontend-low-noise"),
        ({"severity": "critical", "service": "billing"}, "frontend-low-noise"),
    ],
)
def test_each_tier_is_routed_to_its_receiver(rendered, labels, receiver):
    labels = {
        "alertname": "HighErrorRate",
        "service": "frontend",
        "namespace": "yyc3-short-drama",
    } | labels
    code, output = run(
        tool("amtool"),
        "config",
        "routes",
        "test",
        f"--config.file={rendered / 'alertmanager.yml'}",
        f"--verify.receivers={receiver}",
        *(f"{k}={v}" for k, v in labels.items()),
    )
    assert code == 0, output


def test_the_dashboard_satisfies_its_schema(rendered):
    board = json.loads((rendered / "dashboard.json").read_text())
    jsonschema.validate(board, json.loads(SCHEMA.read_text()))


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _api(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method="POST" if data else "GET",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read()
    return json.loads(text) if text else None


@pytest.fixture
def alertmanager(rendered, tmp_path):
    """Debian's Alertmanager with the rendered config, on a free port; stopped by PID."""
    port = _free_port()
    process = subprocess.Popen(
        [
            tool("prometheus-alertmanager"),
            f"--config.file={rendered / 'alertmanager.yml'}",
            f"--storage.path={tmp_path}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api/v2"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                _api(f"{url}/status")
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _alert(severity, track, alertname="HighErrorRate"):
    return {
        "labels": {
            "alertname": alertname,
            "severity": severity,
            "service": "frontend",
            "namespace": "yyc3-short-drama",
            "track": track,
        },
        "annotations": {"summary": f"{severity} {track}"},
    }


def test_alertmanager_inhibits_a_lower_tier_of_the_same_alert_and_track(alertmanager):
    _api(
        f"{alertmanager}/alerts",
        [
            _alert("critical", "canary"),
            _alert("important", "canary"),
            _alert("general", "canary"),
            _alert("general", "stable"),  # another track: not inhibited
            _alert("important", "canary", "HighCPUUsage"),  # another alert: not inhibited
        ],
    )

    def states():
        alerts = _api(f"{alertmanager}/alerts")
        return {
            (a["labels"]["alertname"], a["labels"]["severity"], a["labels"]["track"]): a["status"][
                "state"
            ]
            for a in alerts
        }

    expected = {
        ("HighErrorRate", "critical", "canary"): "active",
        ("HighErrorRate", "important", "canary"): "suppressed",
        ("HighErrorRate", "general", "canary"): "suppressed",
        ("HighErrorRate", "general", "stable"): "active",
        ("HighCPUUsage", "important", "canary"): "active",
    }
    deadline = time.monotonic() + 10
    while states() != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    assert states() == expected
