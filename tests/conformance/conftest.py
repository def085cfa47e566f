"""Fixtures that run the sandbox API server and drive it with real clients.

One server per session in simulated-pods mode (``server``) and one in
``--pods-from-kubelet`` mode (``kubelet_server``), each a subprocess on a free port with
its own kubeconfig, stopped by PID at the end. Tests isolate themselves with a fresh
namespace (``namespace``) instead of fresh servers, which keeps the run short.
"""

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import pytest
import yaml
from kubernetes import client, config
from kubernetes.dynamic import DynamicClient

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[2]
VENV_BIN = pathlib.Path(sys.executable).parent
ROLLOUT_DELAY = 0.3


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A running API server process and the ways to talk to it."""

    def __init__(self, workdir, *flags):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sandbox.apiserver",
                "--port",
                str(self.port),
                "--rollout-delay",
                str(ROLLOUT_DELAY),
                *flags,
            ],
            cwd=PROJECT_ROOT,
        )
        self.kubeconfig = workdir / "kubeconfig"
        self.kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "sandbox", "cluster": {"server": self.url}}],
                    "users": [{"name": "sandbox", "user": {"token": "ignored"}}],
                    "contexts": [
                        {"name": "sandbox", "context": {"cluster": "sandbox", "user": "sandbox"}}
                    ],
                    "current-context": "sandbox",
                }
            )
        )
        self._wait_ready()
        self.api_client = config.new_client_from_config(config_file=str(self.kubeconfig))

    def _wait_ready(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as response:
                    if response.read() == b"ok":
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the API server did not become ready")

    def stop(self):
        os.kill(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=10)

    def request(self, method, path, body=None, content_type="application/json"):
        """Send a raw HTTP request; return (status code, decoded JSON body)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def kubectl(self, *args, check=True, stdin=None, timeout=20):
        """Run kubectl against this server; its discovery cache lives in the workdir."""
        result = subprocess.run(
            [
                "kubectl",
                "--kubeconfig",
                str(self.kubeconfig),
                "--cache-dir",
                str(self.workdir / "kube-cache"),
                *args,
            ],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("apiserver"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def kubelet_server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("apiserver-kubelet"), "--pods-from-kubelet")
    yield server
    server.stop()


@pytest.fixture
def core(server):
    return client.CoreV1Api(server.api_client)


@pytest.fixture
def apps(server):
    return client.AppsV1Api(server.api_client)


@pytest.fixture(scope="session")
def dynamic(server):
    cache = os.path.join(tempfile.mkdtemp(dir=server.workdir), "discovery.json")
    return DynamicClient(server.api_client, cache_file=cache)


@pytest.fixture
def namespace(server):
    """A fresh namespace for one test, deleted (with everything in it) afterwards."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(server.api_client).create_namespace({"metadata": {"name": name}})
    yield name
    client.CoreV1Api(server.api_client).delete_namespace(name)


def deployment(name, image="nginx:1.0", replicas=2, annotations=None):
    """A Deployment manifest with two containers, so patches can show what they keep."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}, "annotations": annotations or {}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {"name": "app", "image": image, "ports": [{"containerPort": 8080}]},
                        {"name": "sidecar", "image": "proxy:1.0"},
                    ]
                },
            },
        },
    }


def wait_for(predicate, timeout=5.0):
    """Poll until ``predicate()`` returns something truthy and return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def wait_status(apps, namespace, name, predicate, timeout=5.0):
    """Poll a Deployment until ``predicate(deployment)`` holds and return it."""

    def check():
        obj = apps.read_namespaced_deployment(name, namespace)
        return obj if predicate(obj) else None

    return wait_for(check, timeout)


@pytest.fixture
def run_playbook(server, tmp_path):
    """Run a one-play playbook of ``tasks`` (YAML text) against the server.

    The variables named in ``save`` (usually registered results) are written to a JSON
    file after the tasks and returned, so tests assert on exact module results rather
    than on output text.
    """

    def run(tasks, save=(), check=True):
        results = tmp_path / "results.json"
        playbook = tmp_path / "playbook.yml"
        names = json.dumps(list(save))
        playbook.write_text(
            "- hosts: localhost\n"
            "  connection: local\n"
            "  gather_facts: false\n"
            f"  vars:\n    ansible_python_interpreter: {sys.executable}\n"
            f"    saved_names: {names}\n"
            "  tasks:\n"
            + _indent(tasks)
            + _indent(
                "- name: Save results\n"
                "  ansible.builtin.copy:\n"
                f"    dest: {results}\n"
                "    content: \"{{ dict(saved_names | zip(query('vars', *saved_names))) "
                '| to_json }}"\n'
            )
        )
        env = dict(
            os.environ,
            K8S_AUTH_KUBECONFIG=str(server.kubeconfig),
            ANSIBLE_CONFIG=str(PROJECT_ROOT / "ansible.cfg"),
            ANSIBLE_LOCALHOST_WARNING="false",
        )
        result = subprocess.run(
            [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", str(playbook)],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(results.read_text()) if results.exists() else {}

    return run


def _indent(text):
    return "".join(f"    {line}\n" for line in text.strip("\n").splitlines())
