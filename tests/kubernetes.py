"""A real Kubernetes API server for tests that need one but no controllers or nodes.

etcd and kube-apiserver of the sandbox's pinned release (``sandbox.kube``), as envtest
runs them: free ports of 127.0.0.1, TLS, ``Node,RBAC`` authorization, the upstream CRDs
of every traffic provider and of prometheus-operator installed. ``kubeconfig`` is the
admin's (``system:masters``); tests isolate themselves in namespaces of their own.
Stopped by PID.
"""

import socket

from sandbox import kubeapi
from sandbox.kube import crds
from sandbox.kube.controlplane import ControlPlane


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RealApiServer:
    def __init__(self, workdir):
        ports = {
            name: free_port()
            for name in (
                "api_port",
                "etcd_port",
                "etcd_peer_port",
                "controller_manager_port",
                "scheduler_port",
            )
        }
        self.control_plane = ControlPlane(str(workdir), ports)
        self.url = self.control_plane.server
        self.kubeconfig = workdir / "admin.kubeconfig"
        try:
            self.control_plane.start(components=("etcd", "kube-apiserver"), log=lambda _: None)
            self.client = kubeapi.Client.from_kubeconfig(str(self.kubeconfig), timeout=10)
            crds.install(self.client, crds.definitions())
        except BaseException:
            self.stop()
            raise

    def stop(self):
        self.control_plane.stop()
