"""``make bench``: measure the release machinery on the sandbox and print the figures.

1. Rollback reaction: a healthy canary is baking at 5%; its pods start failing half
   of their requests at a known instant (FAULT_START_AT); the time until the traffic
   weight is back at 0 is measured. Target: 1.25 x (interval x failure_limit) + 3 s.
2. Stage overhead: for each stage of a healthy release, its wall time (from the end of
   the previous step to the stage's end, from the ledger) minus its bake time.
   Target: at most 4 s.
3. Split accuracy: at 5%, 20%, 50% and 100%, one request per user for 10,000
   distinct users through the router; the share of users the router sent to the
   canary, and whether every canary user stayed a canary user at the later stages.
   Target: within 1 percentage point; stickiness 100%.
4. Fault to verdict per severity: the time from a fault's start to the first
   measurement that judged the tier's check, and what the stage became (critical:
   failed and rolled back; important: held; general: recorded, passed).
5. Analysis round cost: one measurement with 1, 5 and 20 checks against the live
   Prometheus (median wall time, queries sent).
6. Baseline judge speed: Mann-Whitney classification of 100, 1,000 and 10,000 samples
   per side.
7. Validation per stage: validate.yml's wall time against a prepared canary (health,
   the journeys, a load test on both tracks, the security headers, the resource
   checks), and the suite's own share.
8. Load generator ceiling: the built-in load test against one app process and a static
   nginx, next to ab, hey and wrk on the same targets.
9. Peak memory (RSS) of every sandbox process, sampled throughout.
10. Traffic providers: the canary's share overall and per segment at each stage for every
    provider, and the time from canary_traffic returning to the router applying the weight.

Figures only: nothing here asserts a time. Results also go to bench/results/.
``python -m bench NAME...`` measures only those (``stage_overhead rollback_reaction``, ...).
"""

import json
import os
import sys
import time

from bench import (
    judge,
    loadtest,
    memory,
    providers,
    reaction,
    rounds,
    severities,
    split,
    stages,
    validation,
)
from bench.common import RESULTS_DIR, Sandbox

# In the order they run; the first ones share the sandbox and its peak memory.
ON_THE_SANDBOX = {
    "stage_overhead": stages.measure,
    "rollback_reaction": lambda sandbox: reaction.measure(sandbox, runs=3),
    "split_accuracy": lambda sandbox: split.measure(sandbox, users=10_000),
    "traffic_providers": providers.measure,
    "fault_to_verdict": severities.measure,
    "analysis_round": rounds.measure,
    "validation_per_stage": validation.measure,
}
ON_THEIR_OWN = {"baseline_judge": judge.measure, "load_generator": loadtest.measure}


def main(names):
    unknown = sorted(set(names) - set(ON_THE_SANDBOX) - set(ON_THEIR_OWN))
    if unknown:
        known = ", ".join([*ON_THE_SANDBOX, *ON_THEIR_OWN])
        print(f"python -m bench: unknown {', '.join(unknown)}; choose from {known}")
        return 2
    chosen = set(names or [*ON_THE_SANDBOX, *ON_THEIR_OWN])
    results = {}
    if chosen & set(ON_THE_SANDBOX):
        with Sandbox() as sandbox, memory.PeakSampler(sandbox.pids) as sampler:
            for name, measure in ON_THE_SANDBOX.items():
                if name in chosen:
                    results[name] = measure(sandbox)
            results["peak_memory"] = sampler.report()
    for name, measure in ON_THEIR_OWN.items():
        if name in chosen:
            results[name] = measure()
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, time.strftime("bench-%Y%m%d-%H%M%S.json"))
    with open(path, "w") as handle:
        json.dump(results, handle, indent=2)
    print(f"\nresults written to {os.path.relpath(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
