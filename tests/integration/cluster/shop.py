"""A shop of its own in the session's sandbox, whose rollouts take real time.

Each ``Shop`` is a namespace ``shop-<random>`` (its canary's is ``shop-<random>-canary``)
beside the sandbox's own release, which the runbooks tests reset: the stable
``frontend-deployment`` (3 replicas of the demo app, a rolling update of maxSurge 1 and
maxUnavailable 0, a readiness probe that passes 2 s after a container starts at the
earliest), its Service and the ``traffic-config`` ConfigMap. A new image therefore
reaches the replicas one after the other, in 6 s or more, while the old pods stay
ready: counting ready replicas would call such a rollout done from its start. The
pods' preStop sleep makes a deleted pod take a second to stop, and a deleted
namespace stay Terminating until its pods have. The pod spec complies with Pod
Security's ``restricted`` level, so a namespace enforcing it admits the canary too.

The objects are made and read as the sandbox's admin (``admin.kubeconfig``); every
playbook and module runs as the runbooks' ServiceAccount (``kubeconfig``), or as one
holding its rules less a verb (test_preflight.py).
"""

import contextlib
import copy
import os
import subprocess
import sys
import threading
import uuid

import yaml
from ansible.module_utils import ledger as ledgers
from ansible.module_utils.cluster import Cluster
from ansible.module_utils.spec import validate_release
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client

from sandbox import state
from sandbox.kubeapi import ApiError
from sandbox.releases import HEALTHY_IMAGE, ROUTER, SEED_IMAGE, local_url, wait_for
from tests.bad_specs import merged
from tests.conftest import PROJECT_ROOT

OLD, NEW = SEED_IMAGE, HEALTHY_IMAGE
# Its readiness probe answers 503 for ever (sandbox/images.yaml).
NEVER_READY = "yyc3/short-drama-frontend:1.2.0-never-ready"
STABLE = "frontend-deployment"
# Every shop's namespaces start so; other tests' snapshots leave them out.
NAMESPACE_PREFIX = "shop-"
REPLICAS = 3
LABELS = {"app": "frontend", "track": "stable"}
PLAYBOOKS = PROJECT_ROOT / "playbooks"
PLAYBOOK_TIMEOUT = 300
RUNBOOKS_KUBECONFIG = os.path.join(state.state_dir(), state.RUNBOOKS_KUBECONFIG)
ADMIN_KUBECONFIG = os.path.join(state.state_dir(), state.ADMIN_KUBECONFIG)


def pod_template(image, labels=LABELS):
    """The frontend's pods: slow to get ready, a second to stop, Pod Security restricted."""
    return {
        "metadata": {"labels": dict(labels)},
        "spec": {
            "terminationGracePeriodSeconds": 2,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "frontend",
                    "image": image,
                    "ports": [{"name": "http", "containerPort": 8080}],
                    "env": [
                        {
                            "name": "TRACK",
                            "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['track']"}},
                        }
                    ],
                    "readinessProbe": {
                        "httpGet": {"path": "/api/health", "port": "http"},
                        "initialDelaySeconds": 2,
                        "periodSeconds": 1,
                    },
                    "lifecycle": {"preStop": {"sleep": {"seconds": 1}}},
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }


def stable_deployment(namespace, template):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": STABLE, "namespace": namespace, "labels": dict(LABELS)},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": dict(LABELS)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": template,
        },
    }


def image_of(deployment):
    return deployment["spec"]["template"]["spec"]["containers"][0]["image"]


def pod_image(pod):
    return pod["spec"]["containers"][0]["image"]


def pod_ready(pod):
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def serving(pods):
    """The pods that are not being deleted, as ``[(image, ready)]``, sorted."""
    return sorted(
        (pod_image(pod), pod_ready(pod))
        for pod in pods
        if not pod["metadata"].get("deletionTimestamp")
    )


def flat(output):
    """The output with every run of white space one space: the callback folds long lines."""
    return " ".join(output.split())


class Shop:
    """The stable frontend of one namespace, its release spec, and playbook runs."""

    def __init__(self, admin, workdir, rollout_timeout="3s"):
        suffix = uuid.uuid4().hex[:6]
        self.admin = admin
        self.workdir = workdir
        self.namespace = f"{NAMESPACE_PREFIX}{suffix}"
        self.canary_namespace = f"{self.namespace}-canary"
        self.raw = merged(
            {
                "namespace": self.namespace,
                "canary_namespace": self.canary_namespace,
                # The ledger (or -e canary_image) decides the image.
                "image": "",
                "rollout_timeout": rollout_timeout,
                "analysis": {"prometheus": {"url": local_url("prometheus_port")}},
                "validation": {"url": ROUTER},
            }
        )
        self.spec, errors = validate_release(self.raw)
        assert errors == []
        self.canary_name = self.spec["workload"]["canary_name"]

    def create(self, namespace_labels=None, template=None):
        """The stable namespace, Deployment, Service and traffic-config; stable ready."""
        metadata = {"name": self.namespace, "labels": namespace_labels or {}}
        self.admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})
        self.admin.create(stable_deployment(self.namespace, template or pod_template(OLD)))
        self.admin.create(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "frontend", "namespace": self.namespace},
                "spec": {
                    "selector": dict(LABELS),
                    "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
                },
            }
        )
        self.admin.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "traffic-config", "namespace": self.namespace},
                "data": {"canary_percentage": "0"},
            }
        )
        self.wait_until_settled(OLD)
        return self

    # -- reading, as the admin -----------------------------------------------------

    def stable(self):
        return self.admin.get("Deployment", self.namespace, STABLE)

    def canary(self):
        return self.admin.get("Deployment", self.canary_namespace, self.canary_name)

    def pods(self, track="stable"):
        namespace = self.namespace if track == "stable" else self.canary_namespace
        return self.admin.list("Pod", namespace, label_selector=f"app=frontend,track={track}")

    def weight(self):
        config = self.admin.get("ConfigMap", self.namespace, "traffic-config")
        return config["data"]["canary_percentage"]

    def set_weight(self, weight):
        patch = {"data": {"canary_percentage": str(weight)}}
        self.admin.merge_patch("ConfigMap", self.namespace, "traffic-config", patch)

    def lock_holder(self):
        lease = self.admin.get("Lease", self.namespace, self.spec["ledger"]["lock"])
        return ((lease or {}).get("spec") or {}).get("holderIdentity")

    def ledger(self):
        """The release's ledger, read and written with the product's code as the admin."""
        client = get_api_client(kubeconfig=ADMIN_KUBECONFIG)
        return ledgers.for_release(Cluster(client), self.spec)

    def set_stable_image(self, image):
        containers = [{"name": "frontend", "image": image}]
        patch = {"spec": {"template": {"spec": {"containers": containers}}}}
        self.admin.strategic_merge_patch("Deployment", self.namespace, STABLE, patch)

    def settled(self, image, track="stable", replicas=REPLICAS):
        """Whether the track's every replica is ready on ``image``, and no other pod runs."""
        return serving(self.pods(track)) == [(image, True)] * replicas

    def wait_until_settled(self, image, track="stable", replicas=REPLICAS, timeout=60):
        wait_for(
            f"{replicas} ready {track} pods of {self.namespace} on {image}",
            lambda: self.settled(image, track, replicas),
            timeout,
        )

    # -- the release ---------------------------------------------------------------

    def create_canary(self, image=NEW, replicas=2, template=None):
        """The canary as prepare leaves it: a namespace of ours, stable's pods on ``image``.

        ``template`` replaces its pod template (labelled ``track: canary``).
        """
        managed = {"app.kubernetes.io/managed-by": "canary-runbooks"}
        metadata = {"name": self.canary_namespace, "labels": managed}
        self.admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})
        labels = {**LABELS, "track": "canary"}
        template = copy.deepcopy(template or self.stable()["spec"]["template"])
        template["metadata"]["labels"] = labels
        template["spec"]["containers"][0]["image"] = image
        deployment = stable_deployment(self.canary_namespace, template)
        deployment["metadata"] = {
            "name": self.canary_name,
            "namespace": self.canary_namespace,
            "labels": {**labels, **managed},
        }
        deployment["spec"].update(replicas=replicas, selector={"matchLabels": labels})
        self.admin.create(deployment)

    def release_to_the_last_stage(self, canary_template=None):
        """A release of NEW whose every stage passed, at 100 % on its canary (2 replicas)."""
        self.create_canary(NEW, replicas=2, template=canary_template)
        self.wait_until_settled(NEW, "canary", replicas=2)
        self.set_weight(100)
        ledger = self.ledger()
        stages = self.spec["stages"]
        ledger.update(lambda s: ledgers.start_release(s, NEW, OLD, len(stages), "tests"))
        passed = {"verdict": "pass", "failed_checks": 0, "reason": ""}
        for number, stage in enumerate(stages, 1):
            weight = stage["weight"]
            ledger.update(lambda s, n=number, w=weight: ledgers.begin_stage(s, n, w, 0))
            ledger.update(lambda s, n=number, w=weight: ledgers.conclude_stage(s, n, w, passed))
        return self

    # -- runs, as the runbooks' ServiceAccount -------------------------------------

    def inventory(self, kubeconfig, rollout_timeout=None):
        canary = dict(self.raw)
        if rollout_timeout:
            canary["rollout_timeout"] = rollout_timeout
        host = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "canary": canary,
            "canary_environment": {"K8S_AUTH_KUBECONFIG": kubeconfig},
            "canary_report_dir": str(self.workdir / "reports"),
            "canary_monitoring_dir": str(self.workdir / "monitoring"),
            # The sandbox's router serves its own release, not this shop's.
            "canary_rollback_check_health": False,
        }
        hosts = {"all": {"children": {"canary_services": {"hosts": {"frontend": host}}}}}
        path = self.workdir / f"hosts-{uuid.uuid4().hex[:6]}.yml"
        path.write_text(yaml.safe_dump(hosts))
        return path

    def run(
        self, playbook, *args, kubeconfig=RUNBOOKS_KUBECONFIG, rollout_timeout=None, on_line=None
    ):
        """Run ``playbook`` (a file of playbooks/) for this one service.

        ``rollout_timeout`` replaces the spec's for this run. Returns (exit code, output);
        ``on_line(line)`` sees each line of the output as it comes.
        """
        env = {
            key: value
            for key, value in os.environ.items()
            if key != "KUBECONFIG" and not key.startswith("K8S_AUTH_")
        }
        process = subprocess.Popen(
            [
                os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                str(PLAYBOOKS / playbook),
                "-i",
                str(self.inventory(kubeconfig, rollout_timeout)),
                *args,
            ],
            cwd=PROJECT_ROOT,
            env={
                **env,
                "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
                "ANSIBLE_NOCOLOR": "1",
                "PYTHONUNBUFFERED": "1",
                "K8S_AUTH_KUBECONFIG": kubeconfig,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        watchdog = threading.Timer(PLAYBOOK_TIMEOUT, process.kill)
        watchdog.start()
        lines = []
        try:
            for line in process.stdout:
                lines.append(line)
                if on_line:
                    on_line(line)
        finally:
            watchdog.cancel()
        return process.wait(), "".join(lines)

    # -- the end -------------------------------------------------------------------

    def delete(self):
        """Delete both namespaces, their pods at once; return the namespaces' names.

        The namespace controller looks again once the pods' grace period is over, or when
        the namespace changes: an annotation makes it look again at once.
        """
        names = (self.canary_namespace, self.namespace)
        for name in names:
            self.admin.delete("Namespace", None, name)
        at_once = {"gracePeriodSeconds": 0}
        for name in names:
            for pod in self.admin.list("Pod", name):
                self.admin.delete("Pod", name, pod["metadata"]["name"], at_once)
            if self.admin.list("Pod", name) == [] and self.admin.get("Namespace", None, name):
                touched = {"metadata": {"annotations": {"tests.canary.io/pods-gone": "true"}}}
                with contextlib.suppress(ApiError):  # gone meanwhile
                    self.admin.merge_patch("Namespace", None, name, touched)
        return names


def wait_until_gone(admin, namespaces, timeout=90):
    for name in namespaces:
        wait_for(
            f"namespace {name} to go",
            lambda n=name: admin.get("Namespace", None, n) is None,
            timeout,
        )
