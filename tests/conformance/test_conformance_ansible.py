"""kubernetes.core modules against the server, as the project's playbooks use them."""

import json

import pytest

from .conftest import deployment, wait_status


def as_yaml_flow(obj):
    """Inline a manifest in a playbook (JSON is valid YAML)."""
    return json.dumps(obj)


def test_k8s_present_apply_strategic_and_absent(run_playbook, core, namespace):
    saved = run_playbook(
        f"""
- name: Create with apply
  kubernetes.core.k8s:
    apply: true
    namespace: {namespace}
    definition: {as_yaml_flow(deployment("web"))}
  register: created
- name: Apply again unchanged
  kubernetes.core.k8s:
    apply: true
    namespace: {namespace}
    definition: {as_yaml_flow(deployment("web"))}
  register: again
- name: Strategic merge of one container image
  kubernetes.core.k8s:
    state: present
    namespace: {namespace}
    merge_type: strategic-merge
    definition:
      apiVersion: apps/v1
      kind: Deployment
      metadata: {{name: web}}
      spec:
        template:
          spec:
            containers: [{{name: app, image: "nginx:2.0"}}]
  register: patched
- name: Server-side apply of a ConfigMap
  kubernetes.core.k8s:
    apply: true
    server_side_apply: {{field_manager: canary}}
    namespace: {namespace}
    definition:
      apiVersion: v1
      kind: ConfigMap
      metadata: {{name: traffic-config}}
      data: {{canary_percentage: "5"}}
  register: ssa
- name: Remove the ConfigMap
  kubernetes.core.k8s:
    state: absent
    namespace: {namespace}
    kind: ConfigMap
    name: traffic-config
  register: removed
- name: Remove it again
  kubernetes.core.k8s:
    state: absent
    namespace: {namespace}
    kind: ConfigMap
    name: traffic-config
  register: removed_again
""",
        save=("created", "again", "patched", "ssa", "removed", "removed_again"),
    )
    assert saved["created"]["changed"] is True
    assert saved["again"]["changed"] is False
    assert saved["patched"]["changed"] is True
    images = [
        c["image"] for c in saved["patched"]["result"]["spec"]["template"]["spec"]["containers"]
    ]
    assert images == ["nginx:2.0", "proxy:1.0"]
    assert saved["ssa"]["result"]["data"] == {"canary_percentage": "5"}
    assert (saved["removed"]["changed"], saved["removed_again"]["changed"]) == (True, False)
    assert core.list_namespaced_config_map(namespace).items == []


def test_k8s_info_label_selectors(run_playbook, core, namespace):
    for name, track in (("stable", "stable"), ("canary", "canary")):
        core.create_namespaced_config_map(
            namespace, {"metadata": {"name": name, "labels": {"app": "web", "track": track}}}
        )
    saved = run_playbook(
        f"""
- name: Find the canary
  kubernetes.core.k8s_info:
    kind: ConfigMap
    namespace: {namespace}
    label_selectors: ["app=web", "track in (canary)"]
  register: found
- name: Find one by name
  kubernetes.core.k8s_info:
    kind: ConfigMap
    namespace: {namespace}
    name: stable
  register: named
""",
        save=("found", "named"),
    )
    assert [r["metadata"]["name"] for r in saved["found"]["resources"]] == ["canary"]
    assert [r["metadata"]["name"] for r in saved["named"]["resources"]] == ["stable"]


def test_k8s_wait_and_k8s_scale_with_wait(run_playbook, apps, namespace):
    saved = run_playbook(
        f"""
- name: Deploy and wait
  kubernetes.core.k8s:
    namespace: {namespace}
    definition: {as_yaml_flow(deployment("web"))}
    wait: true
    wait_timeout: 20
  register: deployed
- name: Scale and wait
  kubernetes.core.k8s_scale:
    namespace: {namespace}
    kind: Deployment
    name: web
    replicas: 4
    wait: true
    wait_timeout: 20
  register: scaled
""",
        save=("deployed", "scaled"),
    )
    status = saved["deployed"]["result"]["status"]
    assert (status["readyReplicas"], status["availableReplicas"]) == (2, 2)
    assert saved["scaled"]["changed"] is True
    assert saved["scaled"]["result"]["status"]["readyReplicas"] == 4
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 4


def test_k8s_wait_times_out_on_held_rollout(run_playbook, namespace):
    held = deployment("web", annotations={"sandbox.canary.io/hold-rollout": "true"})
    saved = run_playbook(
        f"""
- name: Deploy a rollout that never gets ready
  kubernetes.core.k8s:
    namespace: {namespace}
    definition: {as_yaml_flow(held)}
    wait: true
    wait_timeout: 2
  register: stuck
  ignore_errors: true
""",
        save=("stuck",),
    )
    assert saved["stuck"]["failed"] is True
    assert saved["stuck"]["msg"] == '"Deployment" "web": Timed out waiting on resource'


@pytest.mark.parametrize("module", ["k8s", "k8s_scale"])
def test_check_mode_changes_nothing(run_playbook, core, apps, namespace, module):
    apps.create_namespaced_deployment(namespace, deployment("web"))
    before = wait_status(apps, namespace, "web", lambda d: d.status.available_replicas == 2)
    tasks = {
        "k8s": f"""
- name: Would create a ConfigMap
  kubernetes.core.k8s:
    namespace: {namespace}
    definition: {{apiVersion: v1, kind: ConfigMap, metadata: {{name: c}}, data: {{a: "1"}}}}
  check_mode: true
  register: result
""",
        "k8s_scale": f"""
- name: Would scale
  kubernetes.core.k8s_scale:
    namespace: {namespace}
    kind: Deployment
    name: web
    replicas: 5
  check_mode: true
  register: result
""",
    }[module]
    saved = run_playbook(tasks, save=("result",))
    assert saved["result"]["changed"] is True
    assert core.list_namespaced_config_map(namespace).items == []
    after = apps.read_namespaced_deployment("web", namespace)
    assert (after.spec.replicas, after.metadata.resource_version) == (
        2,
        before.metadata.resource_version,
    )


def test_k8s_applies_a_prometheus_rule_custom_resource(run_playbook, dynamic, namespace):
    """The canary_monitoring role's apply entry point: a PrometheusRule CR, as an operator takes it."""
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "frontend-canary-alerts", "labels": {"release": "prometheus"}},
        "spec": {
            "groups": [
                {
                    "name": "canary-frontend-critical",
                    "rules": [
                        {
                            "alert": "HighErrorRate",
                            "expr": "(sum by (track) (rate(x[1m]))) > 0.01",
                            "for": "1m",
                            "labels": {"severity": "critical"},
                        }
                    ],
                }
            ]
        },
    }
    saved = run_playbook(
        f"""
- name: Would create the PrometheusRule
  kubernetes.core.k8s:
    namespace: {namespace}
    definition: {as_yaml_flow(rule)}
  check_mode: true
  register: dry
- name: Create the PrometheusRule
  kubernetes.core.k8s:
    namespace: {namespace}
    definition: {as_yaml_flow(rule)}
  register: created
- name: Apply it again unchanged
  kubernetes.core.k8s:
    namespace: {namespace}
    definition: {as_yaml_flow(rule)}
  register: again
- name: Read it back
  kubernetes.core.k8s_info:
    api_version: monitoring.coreos.com/v1
    kind: PrometheusRule
    namespace: {namespace}
    label_selectors: [release=prometheus]
  register: found
""",
        save=("dry", "created", "again", "found"),
    )
    # The dry run would create it and did not: the real apply still creates it.
    assert saved["dry"]["changed"] is True
    assert (saved["created"]["changed"], saved["again"]["changed"]) == (True, False)
    (found,) = saved["found"]["resources"]
    assert found["spec"] == rule["spec"]
    rules = dynamic.resources.get(api_version="monitoring.coreos.com/v1", kind="PrometheusRule")
    assert [r.metadata.name for r in rules.get(namespace=namespace).items] == [
        "frontend-canary-alerts"
    ]
