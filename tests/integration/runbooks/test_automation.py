"""What AWX and CI rely on: dry runs that change nothing, and each playbook's artifact.

Every playbook runs in check mode against the sandbox and must leave every object as it
was while showing the changes it would make (``--diff``); every playbook publishes the
``canary_stats`` artifact with ``set_stats`` for workflow nodes to branch on.
"""

import json
import pathlib
import re

import pytest

from sandbox.releases import HEALTHY_IMAGE, SEED_IMAGE

from .conftest import run_playbook, run_playbook_with_stats
from .test_bad_input import snapshot

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

IMAGE = f"canary_image={HEALTHY_IMAGE}"
WEIGHT_DIFF = "+++ after: ConfigMap yyc3-short-drama/traffic-config key canary_percentage"


def dry_run(cluster, name, *args):
    """Run ``name`` with --check --diff; assert nothing changed; return (code, output, stats)."""
    before = snapshot(cluster)
    code, output, stats = run_playbook_with_stats(name, "--check", "--diff", *args)
    assert snapshot(cluster) == before, output
    return code, output, stats["canary_stats"]["frontend"] if stats else None


def test_every_playbook_dry_runs_without_changing_anything(cluster):
    code, output, stats = dry_run(cluster, "prepare.yml", "-e", IMAGE)
    assert code == 0, output
    assert stats["status"] == "none"

    code, output, _ = dry_run(cluster, "release.yml", "-e", IMAGE)
    assert code == 0, output
    # Each stage's weight, then stable moved to the new image, all shown and none made.
    assert output.count(WEIGHT_DIFF) == 4, output
    assert re.search(r'\n\+\s+"image": "' + re.escape(HEALTHY_IMAGE), output), output
    assert cluster.stable_image() == SEED_IMAGE

    code, output, _ = run_playbook_with_stats("prepare.yml", "-e", IMAGE)
    assert code == 0, output
    for name in ("promote.yml", "validate.yml", "rollback.yml", "status.yml"):
        code, output, stats = dry_run(cluster, name)
        assert code == 0, (name, output)
        assert (stats["status"], stats["stage"]) == ("initialized", 0), name
    code, output, _ = dry_run(cluster, "promote.yml")
    assert output.count(WEIGHT_DIFF) == 1
    # As a real run would, finalize refuses a release whose stages have not passed.
    code, output, _ = dry_run(cluster, "finalize.yml")
    assert code != 0
    assert "Stage 1 of 4 has not passed yet" in output


def test_every_playbook_publishes_where_the_release_stands(cluster):
    code, output, stats = run_playbook_with_stats("prepare.yml", "-e", IMAGE)
    assert code == 0, output
    prepared = stats["canary_stats"]["frontend"]
    assert (prepared["status"], prepared["stage"], prepared["stages"]) == ("initialized", 0, 4)
    assert (prepared["image"], prepared["stable_image"]) == (HEALTHY_IMAGE, SEED_IMAGE)

    code, output, stats = run_playbook_with_stats("promote.yml")
    assert code == 0, output
    staged = stats["canary_stats"]["frontend"]
    assert (staged["status"], staged["stage"], staged["weight"]) == ("progressing", 1, 5)
    assert staged["verdict"] == "pass"
    assert len(staged["measurements"]) >= 3
    assert {"error_rate", "latency_p99", "availability"} <= set(
        staged["measurements"][-1]["values"]
    )
    assert set(staged["measurements"][-1]["results"].values()) == {"pass"}
    report = json.loads(pathlib.Path(staged["report"]).read_text())
    assert (report["service"], report["status"], report["stage"]) == ("frontend", "progressing", 1)
    assert report["stages"][0]["weight"] == 5
    assert pathlib.Path(staged["report"]).with_suffix(".html").is_file()

    code, output, stats = run_playbook_with_stats("validate.yml")
    assert code == 0, output
    validated = stats["canary_stats"]["frontend"]
    assert validated["validation"]["health"] == "pass"
    assert validated["validation"]["journeys"]["yyc3@canary"] == "pass"

    code, output, stats = run_playbook_with_stats("rollback.yml")
    assert code == 0, output
    rolled_back = stats["canary_stats"]["frontend"]
    assert (rolled_back["status"], rolled_back["weight"]) == ("rolled_back", 0)

    code, output, stats = run_playbook_with_stats("status.yml")
    assert code == 0, output
    assert stats["canary_stats"]["frontend"]["status"] == "rolled_back"
    entries = len(cluster.ledger()["history"])
    assert f"history: {min(entries, 20)} of {entries} entries" in output, output

    code, output = run_playbook("status.yml", "-e", "canary_status_history=2")
    assert code == 0, output
    assert f"history: 2 of {entries} entries, the latest last (-e canary_status_history=all" in (
        " ".join(output.split())
    ), output
    code, output = run_playbook("status.yml", "-e", "canary_status_history=none")
    assert code != 0
    assert "canary_status_history: how many history entries to show" in output, output


def test_a_failed_release_still_publishes_its_artifact(cluster):
    code, output, stats = run_playbook_with_stats(
        "release.yml", "-e", "canary_image=yyc3/short-drama-frontend:1.2.0-errors"
    )
    assert code != 0, output
    failed = stats["canary_stats"]["frontend"]
    assert (failed["status"], failed["stage"], failed["weight"]) == ("rolled_back", 1, 0)
    assert failed["verdict"] == "fail"
    assert "error_rate" in failed["reason"]
    assert failed["measurements"][-1]["results"]["error_rate"] == "fail"
    report = json.loads(pathlib.Path(failed["report"]).read_text())
    assert (report["status"], report["outcome"]) == ("rolled_back", "rolled_back")
    assert "error_rate" in report["reason"]
