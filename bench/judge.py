"""Baseline judge speed: one ``classify`` of a canary window against a baseline window.

The judge runs inside an Ansible module once per metric and bake interval, so a
1,000 x 1,000 window (about 16 hours of 1-minute samples per side) has to judge in
well under a second. 100 and 10,000 samples per side put that figure in context.
Samples are seeded and the canary is shifted, so every run does the same full work:
U test, Hodges-Lehmann estimate and both interval bounds. No sandbox needed.
"""

import random
import statistics
import time

from bench.common import row

SIZES = (100, 1_000, 10_000)


def window(seed, size, mean):
    rng = random.Random(seed)
    return [max(0.0, rng.gauss(mean, mean / 4)) for _ in range(size)]


def measure(runs=5):
    # bench.common (imported above) has put the project's module_utils on the path.
    from ansible.module_utils.analysis.baseline import classify

    print(f"\nBaseline judge speed (median of {runs} runs)", flush=True)
    figures = {"runs": runs}
    for size in SIZES:
        canary, baseline = window(1, size, 0.012), window(2, size, 0.010)
        seconds = []
        for _ in range(runs):
            start = time.perf_counter()
            classify("error_rate", canary, baseline)
            seconds.append(time.perf_counter() - start)
        median = statistics.median(seconds)
        row(f"judge {size}x{size}", f"{median:.3f} s (median of {runs})")
        figures[f"{size}x{size}"] = round(median, 4)
    return figures
