"""module_utils/access.py: the permissions a playbook run needs, and the message for the refused."""

import pytest
from ansible.module_utils import access
from ansible.module_utils.access import ABSENT, OURS, THEIRS, AccessError, Options
from ansible.module_utils.spec import validate_release
from ansible.module_utils.traffic import PROVIDERS

from tests.bad_specs import merged

STABLE, CANARY = "yyc3-short-drama", "yyc3-short-drama-canary"


def release(**change):
    spec, errors = validate_release(merged(change))
    assert errors == []
    return spec


def _name(item):
    name = item["resource"] + (f".{item['group']}" if item["group"] else "")
    return name + (f"/{item['subresource']}" if "subresource" in item else "")


def asked(phase, spec=None, **options):
    """The reviews as (verb, resource[.group][/subresource], namespace) triples."""
    return [
        (item["verb"], _name(item), item.get("namespace", ""))
        for item in access.attributes(phase, spec or release(), Options(**options))
    ]


def test_prepare_asks_for_the_ledger_lock_canary_and_weight_in_table_order():
    assert asked("prepare") == [
        ("get", "configmaps", STABLE),
        ("create", "configmaps", STABLE),
        ("update", "configmaps", STABLE),
        ("get", "leases.coordination.k8s.io", STABLE),
        ("create", "leases.coordination.k8s.io", STABLE),
        ("update", "leases.coordination.k8s.io", STABLE),
        ("get", "deployments.apps", STABLE),
        ("get", "services", STABLE),
        ("get", "namespaces", ""),
        ("create", "namespaces", ""),
        ("get", "services", CANARY),
        ("create", "services", CANARY),
        ("patch", "services", CANARY),
        ("get", "deployments.apps", CANARY),
        ("create", "deployments.apps", CANARY),
        ("update", "deployments.apps", CANARY),
        ("list", "pods", CANARY),
        # The configmap provider's weight, held at 0 (its get was asked for the ledger).
        ("patch", "configmaps", STABLE),
    ]


def test_each_review_is_resource_attributes_asked_once():
    reviews = access.attributes("release", release())
    assert len(reviews) == len({tuple(sorted(item.items())) for item in reviews})
    assert {"verb": "create", "group": "", "resource": "namespaces"} in reviews
    assert {"verb": "list", "group": "", "resource": "pods", "namespace": STABLE} in reviews


@pytest.mark.parametrize("owner", [OURS, THEIRS])
def test_prepare_creates_only_a_missing_canary_namespace(owner):
    assert ("create", "namespaces", "") not in asked("prepare", canary_namespace=owner)


@pytest.mark.parametrize(
    ("change", "owner", "deletes"),
    [
        ({}, OURS, True),
        # release.yml: prepare creates it, finalize removes it.
        ({}, ABSENT, True),
        ({}, THEIRS, False),
        ({"cleanup": {"delete_canary_namespace": False}}, OURS, False),
        ({"canary_namespace": STABLE}, OURS, False),
    ],
)
def test_finalize_deletes_the_canary_namespace_only_when_prepare_made_it(change, owner, deletes):
    found = asked("finalize", release(**change), canary_namespace=owner)
    assert (("delete", "namespaces", "") in found) is deletes
    assert ("delete", "deployments.apps", release(**change)["canary_namespace"]) in found


def test_rollback_asks_for_its_way_of_removing_the_canary():
    scale = asked("rollback")
    assert ("patch", "deployments.apps", CANARY) in scale
    assert ("delete", "deployments.apps", CANARY) not in scale
    delete = asked("rollback", release(rollback={"canary": "delete"}))
    assert ("delete", "deployments.apps", CANARY) in delete
    assert ("delete", "services", CANARY) in delete
    assert ("patch", "deployments.apps", CANARY) not in delete
    # Stable back on its image; the ledger exists by then, the lock is only released.
    assert ("patch", "deployments.apps", STABLE) in scale
    assert ("create", "configmaps", STABLE) not in scale
    assert ("create", "leases.coordination.k8s.io", STABLE) not in scale


def test_promote_includes_the_rollback_of_a_failed_stage():
    promote = asked("promote")
    assert ("patch", "deployments.apps", CANARY) in promote
    assert ("list", "pods", CANARY) in promote
    assert set(asked("rollback")) <= set(promote)


def test_release_is_every_phase():
    spec = release(rollback={"canary": "delete"})
    phases = set()
    for phase in ("prepare", "promote", "validate", "rollback", "finalize", "status"):
        phases |= set(asked(phase, spec, prometheus_rule_namespace="monitoring"))
    assert set(asked("release", spec, prometheus_rule_namespace="monitoring")) == phases


@pytest.mark.parametrize("phase", ["validate", "status"])
def test_validate_and_status_only_read_the_ledger_and_lock(phase):
    assert asked(phase) == [
        ("get", "configmaps", STABLE),
        ("get", "leases.coordination.k8s.io", STABLE),
    ]


def test_the_prometheus_rule_is_asked_where_it_is_applied():
    rule = [("get", "prometheusrules.monitoring.coreos.com", "monitoring")]
    assert set(rule) <= set(asked("prepare", prometheus_rule_namespace="monitoring"))
    assert set(rule) <= set(asked("release", prometheus_rule_namespace="monitoring"))
    assert not set(rule) & set(asked("promote", prometheus_rule_namespace="monitoring"))
    assert not [item for item in asked("prepare") if "prometheusrules" in item[1]]


def test_the_ledger_and_traffic_object_are_asked_where_the_spec_puts_them():
    spec = release(
        ledger={"namespace": "canary-ledgers"},
        traffic={"provider": "configmap", "configmap": {"namespace": "routing"}},
    )
    found = asked("promote", spec)
    assert ("update", "configmaps", "canary-ledgers") in found
    assert ("update", "leases.coordination.k8s.io", "canary-ledgers") in found
    assert ("patch", "configmaps", "routing") in found
    assert ("patch", "configmaps", STABLE) not in found


def test_gateway_api_asks_for_the_reference_grant_only_when_it_makes_one():
    gateway = release(traffic={"provider": "gateway_api"})
    found = asked("prepare", gateway)
    assert ("update", "httproutes.gateway.networking.k8s.io", STABLE) in found
    assert ("list", "referencegrants.gateway.networking.k8s.io", CANARY) in found
    assert ("create", "referencegrants.gateway.networking.k8s.io", CANARY) in found
    for spec in (
        release(traffic={"provider": "gateway_api", "gateway_api": {"reference_grant": False}}),
        release(
            canary_namespace=STABLE,
            traffic={"provider": "gateway_api"},
        ),
    ):
        assert not [item for item in asked("prepare", spec) if "referencegrants" in item[1]]


def test_ingress_nginx_writes_its_canary_ingress_in_the_canary_namespace():
    found = asked("finalize", release(traffic={"provider": "ingress_nginx"}))
    ingress = "ingresses.networking.k8s.io"
    assert ("get", ingress, STABLE) in found
    assert ("update", ingress, STABLE) not in found
    assert {
        ("get", ingress, CANARY),
        ("create", ingress, CANARY),
        ("update", ingress, CANARY),
    } <= set(found)


@pytest.mark.parametrize(
    ("provider", "written"),
    [
        ("istio", ("update", "virtualservices.networking.istio.io", STABLE)),
        ("openshift_route", ("update", "routes.route.openshift.io", STABLE)),
        ("replicas", ("patch", "deployments.apps", STABLE)),
    ],
)
def test_each_provider_asks_for_the_object_it_writes(provider, written):
    spec = release(
        canary_namespace=STABLE,
        traffic={"provider": provider},
        validation={
            "url": "http://drama.example",
            "route": {"canary": {"url": "http://c.example"}},
        },
    )
    assert written in asked("promote", spec)


def test_the_table_has_a_row_set_for_every_registered_provider():
    assert set(access.PROVIDERS) == set(PROVIDERS)
    assert all(set(uses) == {"check", "weight"} for uses in access.PROVIDERS.values())


def test_every_row_names_a_known_group_scope_and_verbs():
    scopes = {
        access.CLUSTER,
        access.STABLE,
        access.CANARY,
        access.LEDGER,
        access.TRAFFIC,
        access.TRAFFIC_CANARY,
        access.PROMETHEUS_RULE,
    }
    verbs = {"get", "list", "watch", "create", "update", "patch", "delete"}
    for need in access.every_need():
        assert need.group in access.RBAC_FILES, need
        assert need.scope in scopes, need
        assert need.verbs and set(need.verbs) <= verbs, need


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (("ledger", "namespace"), "release.ledger.namespace"),
        (("traffic", "options"), "release.traffic.options"),
        (("canary_namespace",), "release.canary_namespace"),
    ],
)
def test_a_release_without_a_field_it_needs_is_refused_naming_it(path, field):
    spec = release()
    parent = spec
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    with pytest.raises(AccessError, match=rf"^{field} is missing: pass the canary_release fact"):
        access.attributes("release", spec)


def test_an_unknown_phase_or_provider_is_refused_naming_the_choices():
    with pytest.raises(AccessError, match=r"^phase: unknown 'deploy'; choose one of finalize, "):
        access.attributes("deploy", release())
    spec = release()
    spec["traffic"]["provider"] = "haproxy"
    with pytest.raises(
        AccessError, match=r"^release.traffic.provider: unknown 'haproxy'; choose one of configmap"
    ):
        access.attributes("prepare", spec)


def test_namespace_owner_reads_the_label_prepare_sets():
    assert access.namespace_owner(None) == ABSENT
    ours = {"metadata": {"labels": {"app.kubernetes.io/managed-by": "canary-runbooks"}}}
    assert access.namespace_owner(ours) == OURS
    assert access.namespace_owner({"metadata": {"name": CANARY}}) == THEIRS


def _review(verb, resource, namespace=None, group="", subresource=None):
    item = {"verb": verb, "group": group, "resource": resource}
    if subresource:
        item["subresource"] = subresource
    if namespace:
        item["namespace"] = namespace
    return item


def test_the_refusal_names_each_verb_resource_and_namespace_and_the_file():
    denied = [
        _review("create", "deployments", CANARY, group="apps"),
        _review("patch", "configmaps", STABLE),
    ]
    assert access.refusal(denied) == (
        "the identity running the runbooks may not: create deployments.apps in namespace "
        "yyc3-short-drama-canary; patch configmaps in namespace yyc3-short-drama "
        "(rbac/canary-runbooks.yaml grants them; docs/rbac.md)"
    )


def test_the_refusal_groups_verbs_and_names_every_file_core_first():
    denied = [
        _review("list", "referencegrants", CANARY, group="gateway.networking.k8s.io"),
        _review("create", "namespaces"),
        _review("create", "referencegrants", CANARY, group="gateway.networking.k8s.io"),
        _review("patch", "deployments", CANARY, group="apps", subresource="scale"),
    ]
    assert access.refusal(denied) == (
        "the identity running the runbooks may not: list, create "
        "referencegrants.gateway.networking.k8s.io in namespace yyc3-short-drama-canary; "
        "create namespaces at the cluster scope; patch deployments.apps/scale in namespace "
        "yyc3-short-drama-canary (rbac/canary-runbooks.yaml and "
        "rbac/providers/gateway_api.yaml grant them; docs/rbac.md)"
    )


def test_one_refused_permission_reads_it():
    message = access.refusal(
        [_review("get", "prometheusrules", "monitoring", "monitoring.coreos.com")]
    )
    assert message.endswith("(rbac/monitoring.yaml grants it; docs/rbac.md)")
