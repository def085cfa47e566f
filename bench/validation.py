"""Wall time of the validation at one stage: validate.yml against a prepared canary.

That is what a stage spends before it takes its weight: the health request, the
functional request and the sandbox inventory's suite (the YYC3 journey on canary and
stable, 150 logins at concurrency 10, the security headers). Median of a few runs.
"""

import os
import statistics
import tempfile
import time

from bench.common import playbook, row
from sandbox.releases import HEALTHY_IMAGE

RUNS = 3


def measure(sandbox):
    print(f"\nValidation per stage (validate.yml, median of {RUNS})", flush=True)
    release = sandbox.release
    release.reset()
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "prepare.log"), "w") as log:
            if playbook("prepare.yml", "-e", f"canary_image={HEALTHY_IMAGE}", log=log).returncode:
                raise RuntimeError("prepare.yml failed")
        for index in range(RUNS):
            with open(os.path.join(tmp, f"validate-{index}.log"), "w") as log:
                started = time.monotonic()
                code = playbook("validate.yml", log=log).returncode
                times.append(time.monotonic() - started)
            if code:
                raise RuntimeError("validate.yml failed")
    release.reset()
    median = statistics.median(times)
    row("validate.yml, whole run", f"{median:.2f} s")
    return {"seconds": [round(t, 2) for t in times], "median": round(median, 2)}
