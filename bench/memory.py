"""Peak resident memory of all sandbox processes together, sampled in the background."""

import threading

from bench.common import row

PAGE_INTERVAL = 0.5


def rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


class PeakSampler:
    """Samples the summed RSS of ``pids()`` until stopped; keeps the peak."""

    def __init__(self, pids):
        self.pids = pids
        self.peak = 0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(PAGE_INTERVAL):
            pids = self.pids()
            total = sum(rss_bytes(pid) for pid in pids)
            if total > self.peak:
                self.peak, self.peak_processes = total, len(pids)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def report(self):
        print("\nPeak memory of the sandbox", flush=True)
        row(
            "peak RSS, all sandbox processes",
            f"{self.peak / 2**20:.0f} MiB ({self.peak_processes} processes)",
        )
        return {"peak_rss_mib": round(self.peak / 2**20, 1), "processes": self.peak_processes}
