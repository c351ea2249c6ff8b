"""Specification of the aggregator: invocations counted by outcome, errors, memory sizes."""

from __future__ import annotations

import pytest
from findings_support import aggregate
from join_builders import STREAM, T0, error, invocation

from lambda_trace.analyzer.aggregate import aggregate_events
from lambda_trace.analyzer.model import make_event


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
