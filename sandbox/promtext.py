"""Prometheus text exposition (format 0.0.4) for counters, gauges and histograms.

The demo app runs as many processes, so it must stay lean: this tiny stdlib helper
replaces prometheus_client. Metrics are thread-safe; label values are escaped as the
format requires.
"""

import bisect
import threading

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds. Covers the thresholds the release spec uses (1 s, 1.5 s, 2 s, 2.5 s, 5 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 5, 10)


def _escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names, values, extra=()):
    pairs = [f'{n}="{_escape(v)}"' for n, v in (*zip(names, values, strict=True), *extra)]
    return "{" + ",".join(pairs) + "}" if pairs else ""


def _number(value):
    """Integers without a decimal point, floats in their shortest exact form."""
    if isinstance(value, float) and not value.is_integer():
        return repr(value)
    return str(int(value))


class _Metric:
    kind = ""

    def __init__(self, name, help_text, labelnames=()):
        self.name = name
        self.help = help_text
        self.labelnames = tuple(labelnames)
        self._values = {}
        self._lock = threading.Lock()

    def _key(self, labels):
        return tuple(str(labels[n]) for n in self.labelnames)

    def header(self):
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]


class Counter(_Metric):
    """A monotonically increasing count per label set."""

    kind = "counter"

    def inc(self, amount=1, **labels):
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0) + amount

    def expose(self):
        with self._lock:
            items = sorted(self._values.items())
        lines = self.header()
        lines += [f"{self.name}{_labels(self.labelnames, k)} {_number(v)}" for k, v in items]
        return lines


class Gauge(Counter):
    """A value that can go up and down; ``set`` replaces it."""

    kind = "gauge"

    def set(self, value, **labels):
        key = self._key(labels)
        with self._lock:
            self._values[key] = value


class Histogram(_Metric):
    """Cumulative buckets plus ``_sum`` and ``_count`` per label set."""

    kind = "histogram"

    def __init__(self, name, help_text, labelnames=(), buckets=LATENCY_BUCKETS):
        super().__init__(name, help_text, labelnames)
        self.buckets = tuple(sorted(buckets))

    def observe(self, value, **labels):
        key = self._key(labels)
        with self._lock:
            # One slot per bucket plus a last one for values above the largest bound.
            counts, total = self._values.get(key, ([0] * (len(self.buckets) + 1), 0.0))
            counts[bisect.bisect_left(self.buckets, value)] += 1
            self._values[key] = (counts, total + value)

    def expose(self):
        with self._lock:
            items = sorted((k, (list(c), s)) for k, (c, s) in self._values.items())
        lines = self.header()
        for key, (counts, total) in items:
            cumulative = 0
            for bound, count in zip(self.buckets, counts, strict=False):
                cumulative += count
                le = _labels(self.labelnames, key, [("le", _number(bound))])
                lines.append(f"{self.name}_bucket{le} {cumulative}")
            observed = sum(counts)
            inf = _labels(self.labelnames, key, [("le", "+Inf")])
            plain = _labels(self.labelnames, key)
            lines.append(f"{self.name}_bucket{inf} {observed}")
            lines.append(f"{self.name}_sum{plain} {_number(total)}")
            lines.append(f"{self.name}_count{plain} {observed}")
        return lines


class Registry:
    """An ordered set of metrics rendered together."""

    def __init__(self):
        self.metrics = []

    def register(self, metric):
        self.metrics.append(metric)
        return metric

    def render(self):
        lines = []
        for metric in self.metrics:
            lines += metric.expose()
        return ("\n".join(lines) + "\n").encode("utf-8")
