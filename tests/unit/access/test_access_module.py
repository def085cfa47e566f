"""The canary_access module against a stand-in cluster that answers each review."""

import json

import canary_access
import pytest
from ansible.module_utils import access
from ansible.module_utils.access import Options
from ansible.module_utils.spec import validate_release
from ansible.module_utils.testing import patch_module_args

from tests.bad_specs import merged

STABLE, CANARY = "yyc3-short-drama", "yyc3-short-drama-canary"


class ReviewingCluster:
    """Answers SelfSubjectAccessReviews from a refusal list; holds only Namespaces.

    It has no write method at all: a module that tried to change anything would fail.
    """

    def __init__(self, refused=(), namespaces=None):
        self.refused = [dict(item) for item in refused]
        self.namespaces = namespaces or {}
        self.asked = []

    def get(self, api_version, kind, name, namespace=None):
        assert (api_version, kind, namespace) == ("v1", "Namespace", None)
        return self.namespaces.get(name)

    def allowed(self, attributes):
        self.asked.append(attributes)
        return attributes not in self.refused


@pytest.fixture
def release():
    spec, errors = validate_release(merged({}))
    assert errors == []
    return spec


def run(capsys, monkeypatch, cluster, check=False, **params):
    monkeypatch.setattr(
        canary_access.Cluster, "from_module", classmethod(lambda cls, module: cluster)
    )
    with (
        patch_module_args({**params, "_ansible_check_mode": check}),
        pytest.raises(SystemExit) as exited,
    ):
        canary_access.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("check", [False, True])
def test_a_run_allowed_everything_passes_and_changes_nothing(capsys, monkeypatch, release, check):
    cluster = ReviewingCluster()
    code, result = run(capsys, monkeypatch, cluster, check=check, release=release, phase="prepare")
    assert code == 0, result
    assert result["changed"] is False
    assert result["checked"] == access.attributes("prepare", release) == cluster.asked


def test_every_refused_permission_is_named_in_one_failure(capsys, monkeypatch, release):
    refused = [
        {"verb": "create", "group": "apps", "resource": "deployments", "namespace": CANARY},
        {"verb": "patch", "group": "", "resource": "configmaps", "namespace": STABLE},
    ]
    cluster = ReviewingCluster(refused)
    code, result = run(capsys, monkeypatch, cluster, release=release, phase="prepare")
    assert code == 1
    assert result["failed"] is True
    assert result["msg"] == (
        "the identity running the runbooks may not: create deployments.apps in namespace "
        "yyc3-short-drama-canary; patch configmaps in namespace yyc3-short-drama "
        "(rbac/canary-runbooks.yaml grants them; docs/rbac.md)"
    )
    assert result["missing"] == refused
    # Every review is asked, so the one message lists them all.
    assert len(cluster.asked) == len(result["checked"])


def test_a_canary_namespace_of_someone_else_is_neither_created_nor_deleted(
    capsys, monkeypatch, release
):
    cluster = ReviewingCluster(namespaces={CANARY: {"metadata": {"name": CANARY}}})
    code, result = run(capsys, monkeypatch, cluster, release=release, phase="release")
    assert code == 0, result
    verbs = {item["verb"] for item in result["checked"] if item["resource"] == "namespaces"}
    assert verbs == {"get"}
    assert result["checked"] == access.attributes(
        "release", release, Options(canary_namespace=access.THEIRS)
    )


def test_the_prometheus_rule_is_checked_in_its_namespace(capsys, monkeypatch, release):
    rule = {"verb": "create", "group": "monitoring.coreos.com", "resource": "prometheusrules"}
    cluster = ReviewingCluster([{**rule, "namespace": "monitoring"}])
    code, result = run(
        capsys,
        monkeypatch,
        cluster,
        release=release,
        phase="prepare",
        prometheus_rule_namespace="monitoring",
    )
    assert code == 1
    assert result["msg"].endswith(
        "create prometheusrules.monitoring.coreos.com in namespace monitoring "
        "(rbac/monitoring.yaml grants it; docs/rbac.md)"
    )


def test_a_release_without_a_needed_field_fails_naming_it_before_any_review(
    capsys, monkeypatch, release
):
    del release["ledger"]["namespace"]
    cluster = ReviewingCluster()
    code, result = run(capsys, monkeypatch, cluster, release=release, phase="status")
    assert code == 1
    assert result["msg"].startswith("release.ledger.namespace is missing")
    assert cluster.asked == []


def test_an_unknown_phase_is_refused_by_the_argument_spec(capsys, monkeypatch, release):
    cluster = ReviewingCluster()
    code, result = run(capsys, monkeypatch, cluster, release=release, phase="deploy")
    assert code == 1
    assert "phase" in result["msg"] and "deploy" in result["msg"]
    assert cluster.asked == []
