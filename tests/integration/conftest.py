"""The one sandbox the integration tests share (``runbooks/`` and ``cluster/``).

The sandbox inventory and ``sandbox.releases`` take the sandbox's ports from the
environment (``$SANDBOX_API_PORT``, ...) as ``python -m sandbox up`` does, else its
defaults. A sandbox that already answers from the state dir (``make sandbox-up``) is
reused and left running; otherwise one is started for the session and stopped at the
end, with the load generator only when a selected test measures the canary under
load (the runbooks tests: their analysis needs requests to judge).

Under pytest-xdist every worker has a sandbox of its own, as a second ``sandbox up``
beside the first would: worker ``gwN`` (N > 0) gets its own state dir, every port
1000 N above the default and a pod network of its own, set in the environment before
the sandbox's modules read it; ``gw0`` keeps the defaults, so that it reuses a
``make sandbox-up``.
"""

import os
import pathlib
import subprocess
import sys

import pytest


def _worker_sandbox_environment():
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    if worker == 0:
        return
    from sandbox.ctl import PORTS

    for _, env_name, default, _ in PORTS.values():
        os.environ.setdefault(env_name, str(default + 1000 * worker))
    os.environ.setdefault("SANDBOX_STATE_DIR", f".sandbox-gw{worker}")
    # Chosen, not found free: workers starting at once would all find the same /24.
    os.environ.setdefault("SANDBOX_POD_CIDR", f"10.244.{100 + worker}.0/24")


_worker_sandbox_environment()

from sandbox.product import PROJECT_ROOT  # noqa: E402  (after the worker's environment)
from sandbox.releases import Release  # noqa: E402

# The tests whose releases are analysed under the load generator's traffic.
UNDER_LOAD = pathlib.Path(__file__).resolve().parent / "runbooks"


def _sandbox(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def sandbox(request):
    release = Release()
    started = False
    if not release.answers():
        load = any(item.path.is_relative_to(UNDER_LOAD) for item in request.session.items)
        result = _sandbox("up", *(() if load else ("--no-load",)))
        assert result.returncode == 0, result.stdout + result.stderr
        started = True
    yield release
    if started:
        _sandbox("down")
