"""Specification of the streaming statistics: sketches, top-k, time series and the aggregator."""

from __future__ import annotations

import math
import random

import pytest
from join_builders import STREAM, T0, call, error, invocation

from lambda_trace.analyzer.aggregate import (
    MAX_NAMES,
    OTHER,
    Aggregator,
    QuantileSketch,
    Slowest,
    SpaceSaving,
    TimeSeries,
    aggregate_events,
    longest_sequential_run,
    top_frame,
)
from lambda_trace.analyzer.model import Event, make_event

QUANTILES = (0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999)


def exact(sorted_values: list[float], q: float) -> float:
    return sorted_values[math.floor(q * (len(sorted_values) - 1))]


def aggregate(events: list[Event]) -> Aggregator:
    return aggregate_events(events)[0]


# -- QuantileSketch ----------------------------------------------------------------------------


@pytest.mark.parametrize("distribution", ["lognormal", "uniform", "bimodal"])
def test_sketch_quantiles_are_within_one_percent_of_exact_on_100k_values(distribution: str) -> None:
    """Every quantile of 100,000 values is within the 1% relative accuracy of the exact one."""
    rng = random.Random(7)
    if distribution == "lognormal":
        values = [rng.lognormvariate(3.0, 1.2) for _ in range(100_000)]
    elif distribution == "uniform":
        values = [rng.uniform(0.5, 30_000) for _ in range(100_000)]
    else:
        values = [rng.gauss(20, 2) if rng.random() < 0.9 else rng.gauss(900, 50)
                  for _ in range(100_000)]
    sketch = QuantileSketch(relative_accuracy=0.01)
    for v in values:
        sketch.add(v)
    values.sort()
    for q, estimate in zip(QUANTILES, sketch.quantiles(QUANTILES)):
        truth = exact(values, q)
        assert estimate is not None
        assert abs(estimate - truth) <= 0.01 * truth, (q, estimate, truth)
    assert sketch.count == 100_000
    assert sketch.min == values[0] and sketch.max == values[-1]
    assert sketch.mean == pytest.approx(sum(values) / len(values))


def test_sketch_bucket_count_is_bounded_and_high_quantiles_stay_accurate() -> None:
    """With ``max_bins`` buckets only the lowest quantiles coarsen; the tail stays exact to 1%."""
    sketch = QuantileSketch(max_bins=64)
    values = [1.1**k for k in range(400)]  # spans ~16 orders of magnitude
    for v in values:
        sketch.add(v)
    assert len(sketch) <= 64
    for q in (0.9, 0.95, 0.99):
        truth = exact(values, q)
        assert sketch.quantile(q) == pytest.approx(truth, rel=0.01)


def test_merged_sketches_equal_one_sketch_of_all_values() -> None:
    """Merging is exact: two halves merged answer like one sketch of everything."""
    rng = random.Random(3)
    values = [rng.expovariate(1 / 50) for _ in range(20_000)]
    whole, a, b = QuantileSketch(), QuantileSketch(), QuantileSketch()
    for i, v in enumerate(values):
        whole.add(v)
        (a if i % 2 else b).add(v)
    a.merge(b)
    assert a.quantiles(QUANTILES) == whole.quantiles(QUANTILES)
    assert a.count == whole.count and a.max == whole.max


def test_sketch_counts_zero_and_tiny_values_and_is_empty_safe() -> None:
    """Zeros count toward ranks; an empty sketch answers None."""
    empty = QuantileSketch()
    assert empty.quantile(0.5) is None and empty.mean is None
    sketch = QuantileSketch()
    for v in [0.0] * 60 + [100.0] * 40:
        sketch.add(v)
    assert sketch.quantile(0.5) == 0.0
    assert sketch.quantile(0.9) == pytest.approx(100.0, rel=0.01)
    assert sketch.quantile(0) == 0.0 and sketch.quantile(1) == 100.0


def test_adding_many_values_at_once_equals_adding_them_one_by_one() -> None:
    """``add_many`` is a faster ``add`` with the same result, zeros included."""
    rng = random.Random(11)
    values = [0.0] * 5 + [rng.expovariate(1 / 30) for _ in range(5000)]
    one, many = QuantileSketch(), QuantileSketch()
    for v in values:
        one.add(v)
    many.add_many(values[:2000])
    many.add_many(values[2000:])
    assert many.quantiles(QUANTILES) == one.quantiles(QUANTILES)
    assert (many.count, many.min, many.max) == (one.count, one.min, one.max)
    assert many.sum == pytest.approx(one.sum)


def test_sketches_of_different_accuracy_refuse_to_merge() -> None:
    """Merging needs the same bucket boundaries."""
    with pytest.raises(ValueError):
        QuantileSketch(0.01).merge(QuantileSketch(0.02))


# -- top-k, slowest, time series ---------------------------------------------------------------


def test_space_saving_keeps_the_heavy_hitters_within_capacity() -> None:
    """Keys far above total/capacity survive a long tail of one-off keys, with their counts."""
    top = SpaceSaving(capacity=10)
    for i in range(10_000):
        top.add("hot" if i % 3 == 0 else f"cold-{i}", example=i)
        if i % 5 == 0:
            top.add("warm")
    assert len(top) <= 10
    rows = {key: (count, err) for key, count, err, _ in top.items()}
    assert rows["hot"][0] - rows["hot"][1] <= 3334 <= rows["hot"][0]
    assert rows["warm"][0] - rows["warm"][1] <= 2000 <= rows["warm"][0]
    assert top.items()[0][0] == "hot"


def test_space_saving_is_exact_while_keys_fit() -> None:
    """Below capacity, counts are exact and the first example is kept."""
    top = SpaceSaving(capacity=5)
    for key in "abacabad":
        top.add(key, example=f"first {key}")
    assert [(k, c, e, x) for k, c, e, x in top.items()][:2] == [
        ("a", 4, 0, "first a"), ("b", 2, 0, "first b")]


def test_slowest_keeps_the_n_largest_largest_first() -> None:
    """Only the top ``n`` scores are kept."""
    slow = Slowest(3)
    for score in [5, 1, 9, 7, 3, 8]:
        slow.add(score, f"item {score}")
    assert slow.items() == ["item 9", "item 8", "item 7"]
    assert not slow.would_keep(6) and slow.would_keep(10)


def test_time_series_stays_under_max_points_and_keeps_totals() -> None:
    """Re-bucketing coarser keeps the count, the maximum duration and the memory peak."""
    series = TimeSeries(max_points=50, bucket_ms=1000)
    for i in range(10_000):
        series.add(T0 + i * 997, duration_ms=float(i % 100), peak_mb=100 + (i == 5000) * 400,
                   size_mb=512)
    points = series.points()
    assert len(points) <= 50
    assert sum(p["invocations"] for p in points) == 10_000
    assert max(p["duration_max_ms"] for p in points) == 99.0
    assert max(p["max_memory_used_mb"] for p in points) == 500
    assert [p["start_ms"] for p in points] == sorted(p["start_ms"] for p in points)


# -- helpers -----------------------------------------------------------------------------------


def test_sequential_run_counts_calls_that_start_after_the_previous_ended() -> None:
    """Back-to-back calls chain; concurrent calls break the chain."""
    assert longest_sequential_run([(0, 10), (10, 10), (21, 5), (30, 1)]) == 4
    assert longest_sequential_run([(0, 10), (1, 10), (2, 10), (3, 10)]) == 1
    assert longest_sequential_run([(0, 10), (1, 10), (12, 3), (16, 3)]) == 3
    assert longest_sequential_run([]) == 0


def test_top_frame_is_the_innermost_python_frame_or_first_node_frame() -> None:
    """Tracebacks in lists or text, with NBSP indents, give ``file:line in func``."""
    python = [
        '  File "/var/runtime/bootstrap.py", line 60, in run\n',
        '\u00a0\u00a0File "/var/task/app.py", line 12, in handler\n    x = e["id"]\n',
    ]
    assert top_frame(python) == "app.py:12 in handler"
    text = 'Traceback (most recent call last):\r  File "/var/task/lib/db.py", line 3, in get\r'
    assert top_frame(text) == "db.py:3 in get"
    node = "TypeError: x\n    at handler (/var/task/index.js:5:11)\n    at Runtime (x.js:1:1)"
    assert top_frame(node) == "handler (/var/task/index.js:5:11)"
    assert top_frame(None) is None and top_frame(["no frames here"]) is None


# -- Aggregator --------------------------------------------------------------------------------


def test_top_frame_skips_library_frames_for_the_functions_own() -> None:
    """A ClientError raised in botocore is located at the handler line that made the call."""
    stack = [
        '  File "/var/task/app.py", line 30, in handler\n    archive(key)\n',
        '  File "/var/task/app.py", line 18, in archive\n    s3.put_object(...)\n',
        '  File "/var/lang/lib/python3.12/site-packages/botocore/client.py", line 1094, '
        "in _make_api_call\n",
    ]
    assert top_frame(stack) == "app.py:18 in archive"
    only_library = ['  File "/opt/python/lib/python3.12/site-packages/x/y.py", line 2, in f\n']
    assert top_frame(only_library) == "y.py:2 in f"


def test_an_access_denied_error_is_reported_as_permission_not_as_code_error() -> None:
    """The [ERROR] AccessDenied of a denied call is not counted again as a code error."""
    denied = make_event("access_denied", request_id="a", log_stream=STREAM, code="AccessDenied",
                        operation="PutObject")
    raised = error("a", "ClientError", "An error occurred (AccessDenied) when calling the "
                   "PutObject operation: Access Denied")
    other = error("b", "KeyError", "'id'")
    agg = aggregate(invocation("a", extra=[denied, raised])
                    + invocation("b", t0=T0 + 1000, extra=[other]))
    assert [key for key, *_ in agg.error_groups.items()] == [("KeyError", None)]
    assert [key for key, *_ in agg.access_denied.items()] == [(None, None, None)]


def test_counts_invocations_by_outcome() -> None:
    """Cold starts, errors, timeouts and out-of-memory crashes are counted once each."""
    oom_exit = make_event("runtime_exit", request_id="oom1", log_stream=STREAM,
                          reason="signal: killed", oom=True)
    events = (
        invocation("cold", init=250.0, billed=351.0, duration=100)
        + invocation("ok", t0=T0 + 1000)
        + invocation("err", t0=T0 + 2000, extra=[error(None, "KeyError", "'id'")])
        + invocation("to", t0=T0 + 3000, duration=3000, status="timeout", timeout_s=3.0)
        + invocation("oom1", t0=T0 + 7000, memory=128, used=128, extra=[oom_exit])
        + invocation("oom2", t0=T0 + 8000, memory=128, used=128, status="error",
                     error_type="Runtime.OutOfMemory")
    )
    agg = aggregate(events)
    assert agg.invocations == 6
    assert agg.cold_starts == 1
    assert agg.timeouts == 1
    assert agg.errors == 3  # err, oom1, oom2
    assert agg.out_of_memory == 2
    assert agg.failure_rate == pytest.approx(4 / 6)
    assert agg.init_duration.count == 1
    assert agg.init_billed_ms == 250.0


def test_memory_pressure_is_a_failure_near_the_limit_without_oom() -> None:
    """A timeout at 95% of Memory Size is memory pressure; a success at 95% is not."""
    events = (invocation("to", duration=3000, status="timeout", memory=1024, used=980)
              + invocation("fine", t0=T0 + 5000, memory=1024, used=980))
    agg = aggregate(events)
    assert agg.memory_pressure == 1 and agg.out_of_memory == 0
    assert [k for k, _, _, _ in agg.pressure_sizes.items()] == [1024]


def test_invocation_summary_wins_over_call_records_for_totals() -> None:
    """The invocation record counts dropped calls too, so totals come from it."""
    events = invocation("a", calls=[("s3.GetObject", 0, 10), ("s3.GetObject", 12, 30)],
                        record=True)
    record = next(e for e in events if e["type"] == "invocation")
    record["calls"]["s3.GetObject"] = {"count": 5, "total_ms": 100.0, "max_ms": 30.0, "errors": 1}
    agg = aggregate(events)
    dep = agg.dependencies["s3.GetObject"]
    assert (dep.calls, dep.total_ms, dep.max_ms, dep.errors) == (5, 100.0, 30.0, 1)
    assert dep.sketch.count == 2  # only the two calls seen one by one
    assert dep.invocations == 1


def test_call_records_alone_give_dependency_totals() -> None:
    """Without an invocation record the call records are the totals."""
    events = invocation("a", calls=[("s3.GetObject", 0, 10), ("s3.GetObject", 12, 30)])
    dep = aggregate(events).dependencies["s3.GetObject"]
    assert (dep.calls, dep.total_ms, dep.max_ms) == (2, 40.0, 30.0)


def test_throttles_and_retries_are_counted_per_dependency() -> None:
    """Throttled call records and their retries add up per name."""
    throttled = call("a", "dynamodb.Query", 0, 80, status="error", error_class="throttled",
                     retries=3)
    retried = call("a", "dynamodb.Query", 90, 20, retries=1)
    dep = aggregate(invocation("a", extra=[throttled, retried])).dependencies["dynamodb.Query"]
    assert (dep.throttled, dep.retries, dep.calls_retried, dep.errors) == (1, 4, 2, 1)
    assert dep.error_classes == {"throttled": 1}


def test_n_plus_one_needs_sequential_calls_of_one_operation() -> None:
    """Six GetItem calls one after another are N+1; six concurrent ones are not."""
    sequential = [("dynamodb.GetItem", i * 10.0, 9.0) for i in range(6)]
    concurrent = [("dynamodb.GetItem", float(i), 9.0) for i in range(6)]
    agg = aggregate(invocation("seq", calls=sequential)
                    + invocation("par", t0=T0 + 1000, calls=concurrent))
    entry = agg.n_plus_one["dynamodb.GetItem"]
    assert entry.invocations == 1 and entry.max_sequential == 6
    assert entry.example_request_id == "seq" and entry.from_records


def test_n_plus_one_from_counts_only_when_calls_fit_in_the_duration() -> None:
    """Counts without call records flag N+1 only if the calls could have run one by one."""
    events = invocation("a", duration=100, record=True)
    record = next(e for e in events if e["type"] == "invocation")
    record["calls"] = {"ssm.GetParameter": {"count": 8, "total_ms": 80.0, "max_ms": 12.0}}
    too_much = invocation("b", t0=T0 + 1000, duration=100, record=True)
    record_b = next(e for e in too_much if e["type"] == "invocation")
    record_b["calls"] = {"ssm.GetParameter": {"count": 8, "total_ms": 400.0, "max_ms": 60.0}}
    entry = aggregate(events + too_much).n_plus_one["ssm.GetParameter"]
    assert entry.invocations == 1 and not entry.from_records


def test_errors_are_grouped_by_type_and_top_frame_with_an_example() -> None:
    """Same type and frame group together; a different frame is its own group."""
    stack_a = ['  File "/var/task/app.py", line 12, in handler\n']
    stack_b = ['  File "/var/task/app.py", line 40, in save\n']
    events = (invocation("a", extra=[error(None, "KeyError", "'id'", stack=stack_a)])
              + invocation("b", t0=T0 + 1000, extra=[error("b", "KeyError", "'x'", stack=stack_a)])
              + invocation("c", t0=T0 + 2000, extra=[error("c", "KeyError", "'y'", stack=stack_b)]))
    groups = aggregate(events).error_groups.items()
    assert [(k, n, x) for k, n, _, x in groups] == [
        (("KeyError", "app.py:12 in handler"), 2, ("a", "'id'")),
        (("KeyError", "app.py:40 in save"), 1, ("c", "'y'")),
    ]


def test_orphan_errors_are_still_counted() -> None:
    """An error no invocation could take is grouped all the same; an init error is a fault."""
    stray = error(None, "KeyError", "'x'")
    init_error = error(None, "Runtime.ImportModuleError", "No module named 'x'")
    agg = aggregate([stray, init_error, *invocation("a")])
    assert agg.orphan_events == 2
    assert [key for key, *_ in agg.error_groups.items()] == [("KeyError", None)]
    fault = agg.faults[("init", "Runtime.ImportModuleError")]
    assert fault.invocations == 1 and fault.reason == "No module named 'x'"


def test_dependency_table_is_bounded() -> None:
    """Past MAX_NAMES distinct call names, the rest fold into one '(other)' row."""
    agg = Aggregator()
    for i in range(MAX_NAMES + 50):
        agg.add_call(call("a", f"http GET host-{i}", 0, 1.0))
    assert len(agg.dependencies) == MAX_NAMES + 1
    assert agg.dependencies[OTHER].sketch.count == 50


def test_memory_sizes_keep_duration_peak_and_billing_apart() -> None:
    """Each Memory Size has its own duration and peak distribution and billed total."""
    events = (invocation("a", memory=512, used=100, duration=200, billed=201)
              + invocation("b", t0=T0 + 1000, memory=1024, used=120, duration=100, billed=101))
    agg = aggregate(events)
    assert sorted(agg.memory_sizes) == [512, 1024]
    small = agg.memory_sizes[512]
    assert (small.invocations, small.billed_ms, small.peak.max) == (1, 201.0, 100)
    assert agg.billed_total_ms == 302.0
    assert agg.first_ts == T0 and agg.last_ts == T0 + 1000 + 100


def test_pipeline_keeps_open_invocations_bounded_and_counts_every_one() -> None:
    """3,000 overlapping requests with room for 100 open: memory stays bounded, all counted.

    The REPORTs of evicted requests arrive after them and are counted as late, not as new
    invocations.
    """
    starts = [make_event("start", request_id=f"r{i}", timestamp_ms=T0 + i, log_stream=f"s{i}")
              for i in range(3000)]
    reports = [make_event("report", request_id=f"r{i}", timestamp_ms=T0 + 5000 + i,
                          log_stream=f"s{i}", duration_ms=10.0, memory_size_mb=128,
                          max_memory_used_mb=60) for i in range(3000)]
    agg, stats = aggregate_events(starts + reports, max_open=100, grace_events=10)
    assert stats.max_open <= 101
    assert stats.evicted == 2900 and stats.late == 2900
    assert agg.invocations == 3000
    assert agg.duration.count == 100


def test_extend_buffers_unchecked_values_and_drops_junk_when_folding_them_in() -> None:
    """``extend`` gives the same sketch as ``add_many`` of the clean values; None, strings that
    are not numbers, NaN and infinity are dropped, numeric strings are read as numbers."""
    rng = random.Random(5)
    clean = [rng.expovariate(1 / 20) for _ in range(1000)]
    junk: list[object] = [None, "n/a", math.nan, math.inf, "12.5"]
    buffered, reference = QuantileSketch(), QuantileSketch()
    expected: list[float] = []
    for i in range(0, len(clean), 3):
        chunk: list[object] = list(clean[i:i + 3])
        expected.extend(clean[i:i + 3])
        if i % 7 == 0:
            chunk.append(junk[i % len(junk)])
            if junk[i % len(junk)] == "12.5":
                expected.append(12.5)
        buffered.extend(chunk)
    reference.add_many(expected)
    assert buffered.count == reference.count
    assert buffered.quantiles(QUANTILES) == reference.quantiles(QUANTILES)
    assert (buffered.min, buffered.max) == (reference.min, reference.max)
    assert buffered.sum == pytest.approx(reference.sum)


def test_dependency_totals_come_from_the_record_summary_and_latencies_from_call_records() -> None:
    """Counts and totals of a name come from the invocation record's summary (it counts dropped
    calls too); durations of the call records still feed the latency sketch; a name only in the
    summary still becomes a dependency."""
    events = invocation("a", calls=[("s3.GetObject", 1.0, 20.0), ("s3.GetObject", 30.0, 40.0)],
                        record=True)
    record = next(e for e in events if e["type"] == "invocation")
    record["calls"]["s3.GetObject"] = {"count": 5, "total_ms": 150.0, "max_ms": 60.0,
                                       "errors": 1}
    record["calls"]["sqs.SendMessage"] = {"count": 2, "total_ms": 8.0, "max_ms": 5.0,
                                          "errors": 0}
    agg = aggregate(events)
    s3, sqs = agg.dependencies["s3.GetObject"], agg.dependencies["sqs.SendMessage"]
    assert (s3.calls, s3.total_ms, s3.max_ms, s3.errors, s3.invocations) == (5, 150.0, 60.0, 1, 1)
    assert s3.sketch.count == 2 and s3.sketch.max == 40.0
    assert (sqs.calls, sqs.total_ms, sqs.invocations, sqs.sketch.count) == (2, 8.0, 1, 0)


def test_call_records_without_a_summary_count_errors_retries_and_junk_durations() -> None:
    """Without an invocation record the call records are the totals: a junk duration is left
    out of count, total and sketch, errors and retries are counted per dependency."""
    extra = [
        call("a", "dynamodb.GetItem", 5.0, 10.0, status="error", error_class="throttled",
             retries=2),
        call("a", "dynamodb.GetItem", 20.0, "slow", status="ok"),  # type: ignore[arg-type]
    ]
    agg = aggregate(invocation("a", calls=[("dynamodb.GetItem", 1.0, 3.0)], extra=extra))
    dep = agg.dependencies["dynamodb.GetItem"]
    assert (dep.calls, dep.total_ms, dep.max_ms, dep.errors) == (2, 13.0, 10.0, 1)
    assert (dep.throttled, dep.retries, dep.calls_retried) == (1, 2, 1)
    assert dep.error_classes == {"throttled": 1}
    assert dep.sketch.count == 2
