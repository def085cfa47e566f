"""The sandbox's Kubernetes control plane: etcd, kube-apiserver, controller-manager, scheduler.

The real binaries (``binaries.py``), each a detached process with a PID file and a log
under the state dir, all on 127.0.0.1:

- etcd, client port over TLS with client certificates, one member, no fsync (a test
  cluster's data is thrown away with it);
- kube-apiserver over TLS, authorization ``Node,RBAC``, the default admission plugins
  plus ``NodeRestriction`` (as kubeadm enables it), ServiceAccount tokens signed with
  the sandbox's key, no endpoint reconciler for the ``kubernetes`` Service (its address
  would be 127.0.0.1, which no EndpointSlice may carry);
- kube-controller-manager with a ServiceAccount per controller, and kube-scheduler,
  each authenticating with a client certificate of its kubeadm identity and serving
  its health on a loopback port with a certificate of the sandbox CA.

Files under the state dir: ``pki/`` (CA, certificates, the token signing key),
``etcd/`` (data), ``admin.kubeconfig`` (``system:masters``), ``kubeconfigs/`` (one per
component and for the node agent).
"""

import os
import time

import requests
import yaml

from sandbox import procs
from sandbox.kube import binaries, pki

SERVICE_CIDR = "10.96.0.0/16"
# The first address of the range: the ClusterIP of the `kubernetes` Service.
API_SERVICE_IP = "10.96.0.1"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
NODE_NAME = "sandbox"
# name -> (Common Name, Organizations) of the client certificate it authenticates with
IDENTITIES = {
    "admin": ("canary-sandbox-admin", ("system:masters",)),
    "kube-controller-manager": ("system:kube-controller-manager", ()),
    "kube-scheduler": ("system:kube-scheduler", ()),
    "node": (f"system:node:{NODE_NAME}", ("system:nodes",)),
}
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")


class ControlPlaneError(Exception):
    """A component did not start or become healthy; the message names it and its log."""


def kubeconfig(server, ca_path, user, namespace=None):
    """A kubeconfig for one user: ``user`` is a kubeconfig ``user`` mapping."""
    context = {"cluster": "sandbox", "user": "sandbox"}
    if namespace:
        context["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "sandbox", "cluster": {"server": server, "certificate-authority": ca_path}}
        ],
        "users": [{"name": "sandbox", "user": user}],
        "contexts": [{"name": "sandbox", "context": context}],
        "current-context": "sandbox",
    }


def write_yaml(path, data, mode=0o600):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w") as handle:
        yaml.safe_dump(data, handle, sort_keys=False)


class ControlPlane:
    """Starts, checks and stops the control plane of one sandbox state dir.

    ``ports``: ``api_port``, ``etcd_port``, ``etcd_peer_port``,
    ``controller_manager_port`` and ``scheduler_port``.
    """

    def __init__(self, state_dir, ports, environ=None):
        self.state_dir = state_dir
        self.ports = ports
        self.environ = dict(os.environ if environ is None else environ)
        self.server = f"https://127.0.0.1:{ports['api_port']}"
        self.ca_path = self.path("pki", "ca.crt")

    def path(self, *parts):
        return os.path.join(self.state_dir, *parts)

    def marker(self, name):
        """A string only this state dir's instance of a component has on its command line."""
        return {
            "etcd": self.path("etcd"),
            "kube-apiserver": self.path("pki", "apiserver.crt"),
            "kube-controller-manager": self.path("kubeconfigs", "kube-controller-manager"),
            "kube-scheduler": self.path("kubeconfigs", "kube-scheduler"),
        }[name]

    def pid(self, name):
        return procs.read_pid(self.path("pids", name + ".pid"))

    def running(self, name):
        return procs.running(self.pid(name), self.marker(name))

    def client_cert(self, identity):
        return self.path("pki", identity + ".crt"), self.path("pki", identity + ".key")

    # -- start ----------------------------------------------------------------------

    def prepare(self):
        """Certificates, keys and kubeconfigs; kept across restarts of the same state dir."""
        for sub in ("pki", "kubeconfigs", "logs", "pids"):
            os.makedirs(self.path(sub), mode=0o700, exist_ok=True)
        ca = pki.Authority(self.path("pki"))
        ca.issue(
            "apiserver",
            "kube-apiserver",
            server_names=pki.API_SERVER_NAMES,
            server_ips=("127.0.0.1", API_SERVICE_IP),
        )
        ca.issue("etcd-server", "etcd", server_names=("localhost",), server_ips=("127.0.0.1",))
        ca.issue("apiserver-etcd-client", "kube-apiserver-etcd-client")
        for name in ("kube-controller-manager", "kube-scheduler"):
            ca.issue(
                name + "-serving", name, server_names=("localhost",), server_ips=("127.0.0.1",)
            )
        for identity, (common_name, groups) in IDENTITIES.items():
            ca.issue(identity, common_name, groups)
            cert, key = self.client_cert(identity)
            target = (
                self.path("admin.kubeconfig")
                if identity == "admin"
                else self.path("kubeconfigs", identity)
            )
            write_yaml(
                target,
                kubeconfig(
                    self.server, self.ca_path, {"client-certificate": cert, "client-key": key}
                ),
            )
        pki.signing_key_pair(self.path("pki"))

    def commands(self, found):
        """{component: argv}, in start order."""
        pki_dir = self.path("pki")
        ports = self.ports
        etcd_url = f"https://127.0.0.1:{ports['etcd_port']}"
        peer_url = f"http://127.0.0.1:{ports['etcd_peer_port']}"

        def component_flags(name, port):
            config = self.path("kubeconfigs", name)
            return [
                f"--kubeconfig={config}",
                f"--authentication-kubeconfig={config}",
                f"--authorization-kubeconfig={config}",
                "--bind-address=127.0.0.1",
                f"--secure-port={port}",
                f"--tls-cert-file={pki_dir}/{name}-serving.crt",
                f"--tls-private-key-file={pki_dir}/{name}-serving.key",
                f"--client-ca-file={self.ca_path}",
                "--leader-elect=false",
            ]

        return {
            "etcd": [
                found["etcd"],
                "--name=sandbox",
                f"--data-dir={self.path('etcd')}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=sandbox={peer_url}",
                f"--cert-file={pki_dir}/etcd-server.crt",
                f"--key-file={pki_dir}/etcd-server.key",
                f"--trusted-ca-file={self.ca_path}",
                "--client-cert-auth=true",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
            "kube-apiserver": [
                found["kube-apiserver"],
                f"--etcd-servers={etcd_url}",
                f"--etcd-cafile={self.ca_path}",
                f"--etcd-certfile={pki_dir}/apiserver-etcd-client.crt",
                f"--etcd-keyfile={pki_dir}/apiserver-etcd-client.key",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={ports['api_port']}",
                f"--tls-cert-file={pki_dir}/apiserver.crt",
                f"--tls-private-key-file={pki_dir}/apiserver.key",
                f"--client-ca-file={self.ca_path}",
                "--authorization-mode=Node,RBAC",
                "--enable-admission-plugins=NodeRestriction",
                "--allow-privileged=true",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
                f"--service-account-key-file={pki_dir}/sa.pub",
                f"--service-account-signing-key-file={pki_dir}/sa.key",
                "--endpoint-reconciler-type=none",
                "--profiling=false",
            ],
            "kube-controller-manager": [
                found["kube-controller-manager"],
                *component_flags("kube-controller-manager", ports["controller_manager_port"]),
                "--use-service-account-credentials=true",
                f"--service-account-private-key-file={pki_dir}/sa.key",
                f"--root-ca-file={self.ca_path}",
                f"--cluster-signing-cert-file={self.ca_path}",
                f"--cluster-signing-key-file={pki_dir}/ca.key",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--controllers=*,bootstrapsigner,tokencleaner",
            ],
            "kube-scheduler": [
                found["kube-scheduler"],
                *component_flags("kube-scheduler", ports["scheduler_port"]),
            ],
        }

    def start(self, timeout=60.0, log=print, components=COMPONENTS):
        """Start the components that are not running and wait until each is healthy.

        ``components`` may stop at ``kube-apiserver``: an API server alone, as envtest
        runs one, for tests of API behaviour that need no controllers.
        """
        found = binaries.ensure(components, self.environ, log)
        self.prepare()
        deadline = time.monotonic() + timeout
        for name, argv in self.commands({**dict.fromkeys(COMPONENTS, ""), **found}).items():
            if name not in components:
                continue
            process = None
            if not self.running(name):
                process = procs.start(
                    argv,
                    self.path("logs", name + ".log"),
                    self.path("pids", name + ".pid"),
                    self.state_dir,
                    self.environ,
                )
            self.wait_healthy(name, deadline, process)

    def health_url(self, name):
        port = {
            "etcd": self.ports["etcd_port"],
            "kube-apiserver": self.ports["api_port"],
            "kube-controller-manager": self.ports["controller_manager_port"],
            "kube-scheduler": self.ports["scheduler_port"],
        }[name]
        path = (
            "/health" if name == "etcd" else "/readyz" if name == "kube-apiserver" else "/healthz"
        )
        return f"https://127.0.0.1:{port}{path}"

    def healthy(self, name):
        """(healthy, what the endpoint said)."""
        try:
            response = requests.get(
                self.health_url(name),
                cert=self.client_cert("admin")
                if name != "etcd"
                else (
                    self.path("pki", "apiserver-etcd-client.crt"),
                    self.path("pki", "apiserver-etcd-client.key"),
                ),
                verify=self.ca_path,
                timeout=2,
            )
        except requests.RequestException as error:
            return False, str(error)
        return response.status_code == 200, f"HTTP {response.status_code}: {response.text[:200]}"

    def wait_healthy(self, name, deadline, process=None):
        """Wait for ``/healthz`` (``/readyz``, ``/health``); fail when the process exits.

        A process started here is watched through its handle: its ``/proc`` command line
        may still be empty in the instant after it started.
        """
        said = ""
        while time.monotonic() < deadline:
            exited = process.poll() is not None if process else not self.running(name)
            if exited:
                raise ControlPlaneError(
                    f"{name} exited; see {self.path('logs', name + '.log')}:\n{procs.tail(self.path('logs', name + '.log'))}"
                )
            ok, said = self.healthy(name)
            if ok:
                return
            time.sleep(0.2)
        raise ControlPlaneError(
            f"{name} did not become healthy ({said}); see {self.path('logs', name + '.log')}"
        )

    # -- stop -----------------------------------------------------------------------

    def stop(self):
        """Stop the components that run, newest first; return their names."""
        stopped = []
        for name in reversed(COMPONENTS):
            pid_file = self.path("pids", name + ".pid")
            if self.running(name):
                procs.stop([(self.pid(name), self.marker(name))], grace=10.0)
                stopped.append(name)
            if os.path.exists(pid_file):
                os.unlink(pid_file)
        return stopped
