"""Where a sandbox keeps its state, and the clients that read it.

The state dir is ``--state-dir``, else ``$SANDBOX_STATE_DIR``, else ``.sandbox``, relative
to the project root unless absolute. ``python -m sandbox up`` writes there the
kubeconfig the runbooks use (``kubeconfig``, the ``canary-runbooks`` ServiceAccount's
token) and the admin's (``admin.kubeconfig``, ``system:masters``), which the sandbox's
own tooling, the tests' resets and the benchmarks use.
"""

import os

from sandbox.kubeapi import Client

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNBOOKS_KUBECONFIG = "kubeconfig"
ADMIN_KUBECONFIG = "admin.kubeconfig"


def state_dir(path=None):
    chosen = path or os.environ.get("SANDBOX_STATE_DIR") or ".sandbox"
    return os.path.abspath(os.path.join(PROJECT_ROOT, chosen))


def admin_client(path=None, timeout=10.0):
    """The sandbox cluster as its admin; FileNotFoundError when no sandbox was started."""
    return Client.from_kubeconfig(os.path.join(state_dir(path), ADMIN_KUBECONFIG), timeout)
