"""Stage overhead: a stage's wall time minus its bake time, read from the ledger."""

from bench.common import STAND_IN, parse_time, playbook, row, spread
from sandbox.releases import HEALTHY_IMAGE

TARGET_SECONDS = 4.0
BAKE = "12s"
BAKE_SECONDS = 12.0


def measure(sandbox):
    print("\nStage overhead (healthy release, bake 12 s per stage)", flush=True)
    sandbox.release.reset()
    result = playbook(
        "release.yml", "-e", f"canary_image={HEALTHY_IMAGE}", "-e", f"canary_sandbox_bake={BAKE}"
    )
    history = sandbox.release.ledger()["history"]
    if result.returncode != 0:
        raise RuntimeError("the healthy release failed; see `make demo`")
    previous_end = None
    overheads = []
    for entry in history:
        if entry["event"] == "canary_prepared":
            previous_end = parse_time(entry["at"])
        elif entry["event"] == "stage_passed":
            end = parse_time(entry["at"])
            overhead = end - previous_end - BAKE_SECONDS
            overheads.append(round(overhead, 2))
            row(
                f"stage {entry['stage']} ({entry['weight']}%) wall - bake",
                f"{overhead:.2f} s",
                f"<= {TARGET_SECONDS} s",
                overhead <= TARGET_SECONDS,
            )
            previous_end = end
    row("real control plane", spread(overheads))
    row("stand-in API server (before)", spread(STAND_IN["stage_overhead_seconds"]))
    return {
        "bake_seconds": BAKE_SECONDS,
        "overhead_seconds": overheads,
        "target_seconds": TARGET_SECONDS,
    }
