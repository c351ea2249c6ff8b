"""Calls folded into per-dependency statistics and N+1 patterns."""

from __future__ import annotations

from findings_support import aggregate
from join_builders import T0, call, invocation

from lambda_trace.analyzer.aggregate import Aggregator
from lambda_trace.analyzer.call_stats import MAX_NAMES, OTHER, longest_sequential_run


def test_sequential_run_counts_calls_that_start_after_the_previous_ended() -> None:
    """Back-to-back calls chain; concurrent calls break the chain."""
    assert longest_sequential_run([(0, 10), (10, 10), (21, 5), (30, 1)]) == 4
    assert longest_sequential_run([(0, 10), (1, 10), (2, 10), (3, 10)]) == 1
    assert longest_sequential_run([(0, 10), (1, 10), (12, 3), (16, 3)]) == 3
    assert longest_sequential_run([]) == 0


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


def test_dependency_table_is_bounded() -> None:
    """Past MAX_NAMES distinct call names, the rest fold into one '(other)' row."""
    agg = Aggregator()
    for i in range(MAX_NAMES + 50):
        agg.add_call(call("a", f"http GET host-{i}", 0, 1.0))
    assert len(agg.dependencies) == MAX_NAMES + 1
    assert agg.dependencies[OTHER].sketch.count == 50


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
