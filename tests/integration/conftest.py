"""The one sandbox the integration tests share (``runbooks/`` and ``cluster/``).

The sandbox inventory and ``sandbox.releases`` take the sandbox's ports from the
environment (``$SANDBOX_API_PORT``, ...) as ``python -m sandbox up`` does, else its
defaults. A sandbox that already answers from the state dir (``make sandbox-up``) is
reused and left running; otherwise one is started for the session and stopped at the
end, with the load generator only when a selected test measures the canary under
load (the runbooks tests: their analysis needs requests to judge).
"""

import pathlib
import subprocess
import sys

import pytest

from sandbox.product import PROJECT_ROOT
from sandbox.releases import Release

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
