"""The hand-written Prometheus exposition must parse as the real format."""

from sandbox import promtext


def test_counter_renders_help_type_and_sorted_samples():
    counter = promtext.Counter("demo_total", "Demo.", ("code",))
    counter.inc(code="500")
    counter.inc(2, code="200")
    assert counter.expose() == [
        "# HELP demo_total Demo.",
        "# TYPE demo_total counter",
        'demo_total{code="200"} 2',
        'demo_total{code="500"} 1',
    ]


def test_label_values_are_escaped():
    counter = promtext.Counter("demo_total", "Demo.", ("path",))
    counter.inc(path='a"b\\c\nd')
    assert counter.expose()[-1] == 'demo_total{path="a\\"b\\\\c\\nd"} 1'


def test_gauge_without_labels_is_replaced_by_set():
    gauge = promtext.Gauge("demo_weight", "Weight.")
    gauge.set(5)
    gauge.set(20)
    assert gauge.expose()[-1] == "demo_weight 20"


def test_histogram_buckets_are_cumulative_with_inf_sum_and_count():
    histogram = promtext.Histogram("demo_seconds", "Latency.", ("track",), buckets=(0.1, 1, 2.5))
    for value in (0.05, 0.1, 0.7, 3.0, 20.0):
        histogram.observe(value, track="canary")
    lines = histogram.expose()[2:]
    assert lines == [
        'demo_seconds_bucket{track="canary",le="0.1"} 2',
        'demo_seconds_bucket{track="canary",le="1"} 3',
        'demo_seconds_bucket{track="canary",le="2.5"} 3',
        'demo_seconds_bucket{track="canary",le="+Inf"} 5',
        'demo_seconds_sum{track="canary"} 23.85',
        'demo_seconds_count{track="canary"} 5',
    ]


def test_default_buckets_cover_the_release_thresholds():
    for bound in (0.005, 1, 1.5, 2, 2.5, 5, 10):
        assert bound in promtext.LATENCY_BUCKETS


def test_registry_renders_all_metrics_as_one_text_ending_in_newline():
    registry = promtext.Registry()
    registry.register(promtext.Counter("a_total", "A.")).inc()
    registry.register(promtext.Gauge("b", "B.")).set(1.5)
    text = registry.render().decode()
    assert text.endswith("\n")
    assert "a_total 1\n" in text
    assert "b 1.5\n" in text
