"""Wires store, registry, controller and HTTP handler into one server object."""

import threading
from http.server import ThreadingHTTPServer

from sandbox.apiserver.controller import DeploymentController
from sandbox.apiserver.handler import ApiHandler
from sandbox.apiserver.registry import Registry
from sandbox.apiserver.resources import NAMESPACES
from sandbox.apiserver.store import Store

# The namespaces every cluster starts with; kubectl's default namespace is "default".
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class ApiServer:
    """The API server; ``start()`` returns once it accepts connections."""

    def __init__(
        self,
        host="127.0.0.1",
        port=16443,
        rollout_delay=0.5,
        pods_from_kubelet=False,
        verbose=False,
    ):
        self.store = Store()
        self.registry = Registry(self.store)
        for name in INITIAL_NAMESPACES:
            self.registry.create(NAMESPACES, None, {"metadata": {"name": name}})
        self.controller = DeploymentController(self.registry, rollout_delay, pods_from_kubelet)
        handler = type("Handler", (ApiHandler,), {"registry": self.registry, "verbose": verbose})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="http", daemon=True)

    @property
    def address(self):
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self.controller.start()
        self._thread.start()

    def stop(self):
        """Stop accepting, end open watches, stop the controller."""
        self.httpd.shutdown()
        self.store.close()
        self.controller.stop()
        self.httpd.server_close()
