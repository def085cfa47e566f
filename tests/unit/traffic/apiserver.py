"""The sandbox's Kubernetes API server started alone, and the objects of a release in it."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import yaml
from ansible.module_utils.spec import validate_release

from tests.bad_specs import merged
from tests.conftest import PROJECT_ROOT


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ApiServer:
    """The sandbox's API server alone, on a free port of 127.0.0.1."""

    def __init__(self, workdir):
        self.url = f"http://127.0.0.1:{_free_port()}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sandbox.apiserver",
                "--host",
                "127.0.0.1",
                "--port",
                self.url.rsplit(":", 1)[1],
            ],
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
        )
        self.kubeconfig = workdir / "kubeconfig"
        self.kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "api", "cluster": {"server": self.url}}],
                    "users": [{"name": "api", "user": {"token": "ignored"}}],
                    "contexts": [{"name": "api", "context": {"cluster": "api", "user": "api"}}],
                    "current-context": "api",
                }
            )
        )
        deadline = time.monotonic() + 10
        while not self._ready():
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the API server did not become ready")
            time.sleep(0.05)

    def _ready(self):
        try:
            with urllib.request.urlopen(self.url + "/readyz", timeout=1) as response:
                return response.read() == b"ok"
        except OSError:
            return False

    def stop(self):
        os.kill(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=10)


def stable_deployment(namespace, replicas=2, labels=None):
    labels = labels or {"app": "frontend", "track": "stable"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "frontend-deployment", "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "frontend", "image": "frontend:1.0.0"}]},
            },
        },
    }


def stable_service(namespace, selector=None):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "frontend", "namespace": namespace},
        "spec": {
            "selector": selector or {"app": "frontend", "track": "stable"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }


class Release:
    """A stable namespace with the frontend, its canary namespace, and spec helpers."""

    def __init__(self, cluster):
        suffix = uuid.uuid4().hex[:6]
        self.cluster = cluster
        self.namespace = f"shop-{suffix}"
        self.canary_namespace = f"shop-{suffix}-canary"

    def create_namespaces(self, *names):
        for name in names or (self.namespace, self.canary_namespace):
            self.cluster.create(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
            )

    def spec(self, provider, options=None, **change):
        """The completed release spec of the good spec with this provider."""
        raw = merged(
            {
                "namespace": self.namespace,
                "canary_namespace": self.canary_namespace,
                "traffic": {"provider": provider, provider: options or {}},
                **change,
            }
        )
        spec, errors = validate_release(raw)
        assert errors == []
        return spec
