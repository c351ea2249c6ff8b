"""Findings about where time goes: slow dependencies, N+1 calls, throttling, retries and
cold starts."""


from __future__ import annotations

import pytest
from findings_support import aggregate, approx_evidence, only
from join_builders import T0, call, invocation

from lambda_trace.analyzer.findings import (
    find_all,
)


def test_slow_dependency_is_the_call_with_the_largest_share_of_time() -> None:
    """10 x (60 ms S3 + 10 ms DynamoDB) in 100 ms invocations: S3 has 60% of the time."""
    events = []
    for i in range(10):
        events += invocation(f"r{i}", t0=T0 + i * 1000, duration=100,
                             calls=[("s3.GetObject", 0, 60.0), ("dynamodb.GetItem", 61, 10.0)])
    f = only(find_all(aggregate(events)), "slow_dependency")
    # 60% of the time, but 60 ms per invocation: medium, not high (under 100 ms per invocation)
    assert (f.subject, f.severity) == ("s3.GetObject", "medium")
    approx_evidence(f.evidence, {
        "name": "s3.GetObject", "kind": "aws", "share": 0.6, "calls": 10,
        "calls_per_invocation": 1.0, "total_ms": 600.0, "p50_ms": 60.0, "p95_ms": 60.0,
        "p99_ms": 60.0, "max_ms": 60.0, "errors": 0, "ms_per_invocation": 60.0,
    })
    assert "60.0% of invocation time" in f.advice


@pytest.mark.parametrize(("scale", "severity"), [(0.1, "low"), (1.0, "medium"), (5.0, "high")])
def test_slow_dependency_severity_needs_time_per_invocation(scale: float, severity: str) -> None:
    """The same 60% share is low at 6 ms per invocation and high at 300 ms."""
    events = []
    for i in range(10):
        events += invocation(f"r{i}", t0=T0 + i * 1000, duration=100 * scale,
                             calls=[("s3.GetObject", 0, 60.0 * scale)])
    assert only(find_all(aggregate(events)), "slow_dependency").severity == severity


def test_a_dependency_whose_every_call_failed_is_not_the_slow_one() -> None:
    """The denied PutObject of every invocation is a permission problem, not where time goes."""
    events = []
    for i in range(10):
        rid = f"r{i}"
        events += invocation(rid, t0=T0 + i * 1000, duration=100, extra=[
            call(rid, "s3.PutObject", 0, 70.0, status="error"),
            call(rid, "s3.GetObject", 71, 20.0)])
    f = only(find_all(aggregate(events)), "slow_dependency")
    assert f.subject == "s3.GetObject"


def test_n_plus_one_names_the_operation_and_the_batch_alternative() -> None:
    """8 sequential GetItem calls in 1 of 2 invocations is N+1, with BatchGetItem as the fix."""
    loop = [("dynamodb.GetItem", i * 5.0, 4.0) for i in range(8)]
    events = invocation("loop", duration=50, calls=loop) + invocation("one", t0=T0 + 1000)
    f = only(find_all(aggregate(events)), "n_plus_one")
    assert f.subject == "dynamodb.GetItem"
    assert f.evidence == {
        "name": "dynamodb.GetItem", "invocations": 1, "share_of_invocations": 0.5,
        "max_sequential_calls": 8, "max_calls": 8, "total_ms": 32.0,
        "example_request_id": "loop", "source": "call records",
    }
    assert "BatchGetItem" in f.advice and "one after another" in f.advice


def test_cold_start_share_init_percentiles_and_billed_share() -> None:
    """1 cold start of 4 with 400 ms init: 25% of invocations, 400/804 of billed time."""
    events = invocation("cold", duration=100, init=400.0, billed=501)
    for i in range(3):
        events += invocation(f"w{i}", t0=T0 + (i + 1) * 1000, duration=100, billed=101)
    f = only(find_all(aggregate(events)), "cold_start")
    approx_evidence(f.evidence, {"cold_starts": 1, "invocations": 4, "share": 0.25,
                                 "init_p50_ms": 400.0, "init_p95_ms": 400.0,
                                 "init_share_of_billed_time": 0.4975})
    assert f.severity == "medium"
    assert "25.0% of invocations started cold" in f.advice


def test_throttling_and_retries_per_dependency() -> None:
    """Throttled calls and retries each produce a finding about that dependency."""
    throttled = call("a", "dynamodb.Query", 0, 80, status="error", error_class="throttled",
                     retries=2)
    findings = find_all(aggregate(invocation("a", extra=[throttled])))
    t = only(findings, "throttling")
    assert t.evidence == {"name": "dynamodb.Query", "throttled_calls": 1, "calls": 1,
                          "rate": 1.0, "retries": 2}
    r = only(findings, "retries")
    assert (r.evidence["calls_retried"], r.evidence["retries"]) == (1, 2)
    assert "backoff" in t.advice
