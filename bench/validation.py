"""Wall time of the validation at one stage: validate.yml against a prepared canary.

That is what a stage spends before it takes its weight: the full suite of the sandbox
inventory plus its load test (sandbox.releases.spec_with_load_test): the health check,
the YYC3 journey on canary and stable, 150 logins at concurrency 10 on each track, the
security headers and the resource checks. Median of a few runs, with the suite's own
share (the module's run, from the task's timing) beside the playbook's.
"""

import os
import statistics
import tempfile
import time

import yaml

from bench.common import playbook, row
from sandbox.releases import HEALTHY_IMAGE, spec_with_load_test

RUNS = 3


def measure(sandbox):
    from ansible.module_utils.spec import validate_release
    from ansible.module_utils.validation import suite

    print(f"\nValidation per stage (validate.yml, median of {RUNS})", flush=True)
    release = sandbox.release
    release.reset()
    spec = spec_with_load_test("10s")
    completed, errors = validate_release(spec)
    if errors:
        raise RuntimeError(f"the benchmark's spec is invalid: {errors}")
    playbook_times, suite_times = [], []
    with tempfile.TemporaryDirectory() as tmp:
        spec_path = os.path.join(tmp, "spec.yml")
        with open(spec_path, "w") as handle:
            yaml.safe_dump({"canary": spec}, handle)
        with open(os.path.join(tmp, "prepare.log"), "w") as log:
            if playbook("prepare.yml", "-e", f"canary_image={HEALTHY_IMAGE}", log=log).returncode:
                raise RuntimeError("prepare.yml failed")
        for index in range(RUNS):
            with open(os.path.join(tmp, f"validate-{index}.log"), "w") as log:
                started = time.monotonic()
                code = playbook("validate.yml", "-e", f"@{spec_path}", log=log).returncode
                playbook_times.append(time.monotonic() - started)
            if code:
                with open(log.name) as handle:
                    raise RuntimeError(f"validate.yml failed:\n{handle.read()[-3000:]}")
            started = time.monotonic()
            outcome = suite.run(completed["validation"], completed["analysis"])
            suite_times.append(time.monotonic() - started)
            if not outcome["passed"]:
                raise RuntimeError(f"the suite failed: {outcome['failures']}")
    release.reset()
    figures = {}
    for label, times in (("validate.yml, whole run", playbook_times), ("suite alone", suite_times)):
        median = statistics.median(times)
        row(label, f"{median:.2f} s")
        figures[label] = {"seconds": [round(t, 2) for t in times], "median": round(median, 2)}
    return figures
