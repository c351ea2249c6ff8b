"""Specification of the findings: each kind's trigger, hand-computed evidence, and advice."""

from __future__ import annotations

from typing import Any

import pytest
from join_builders import STREAM, T0, call, error, invocation

from lambda_trace.analyzer.aggregate import Aggregator, aggregate_events
from lambda_trace.analyzer.findings import (
    KINDS,
    SEVERITIES,
    Baseline,
    Finding,
    find_all,
    role_name,
)
from lambda_trace.analyzer.model import Event, make_event
from lambda_trace.analyzer.render.json_report import build_report


def aggregate(events: list[Event]) -> Aggregator:
    return aggregate_events(events)[0]


def only(findings: list[Finding], kind: str) -> Finding:
    hits = [f for f in findings if f.kind == kind]
    assert len(hits) == 1, [f.kind for f in findings]
    return hits[0]


def kinds(findings: list[Finding]) -> set[str]:
    return {f.kind for f in findings}


def approx_evidence(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """Sketch percentiles are within 1%; everything else is exact."""
    assert set(actual) == set(expected), set(actual) ^ set(expected)
    for key, value in expected.items():
        if isinstance(value, float):
            assert actual[key] == pytest.approx(value, rel=0.011), key
        else:
            assert actual[key] == value, key


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


def timeout_warning(rid: str, names: list[str]) -> Event:
    return make_event(
        "timeout_warning", request_id=rid, log_stream=STREAM, lambda_trace=1,
        elapsed_ms=2800.0, remaining_ms=200.0, timeout_ms=3000.0,
        in_flight=[{"name": n, "kind": "http", "running_ms": 2700.0} for n in names],
    )


def test_timeout_with_the_same_dependency_in_flight_every_time() -> None:
    """Two of three timeouts have a warning, both waiting on the same host: it is named."""
    api = "http GET api.example.com"
    events = (
        invocation("t1", duration=3000, status="timeout", timeout_s=3.0,
                   extra=[timeout_warning("t1", [api])])
        + invocation("t2", t0=T0 + 5000, duration=3000, status="timeout", timeout_s=3.0,
                     extra=[timeout_warning("t2", [api])])
        + invocation("t3", t0=T0 + 9000, duration=3000, timeout_s=3.0)
        + invocation("ok", t0=T0 + 13000)
    )
    f = only(find_all(aggregate(events)), "timeout")
    assert (f.subject, f.severity) == (api, "high")
    assert f.evidence == {
        "timeouts": 3, "invocations": 4, "rate": 0.75, "timeout_seconds": 3,
        "timeout_limits_seen": [3],
        "with_in_flight_calls": 2,
        "in_flight": [{"calls": api, "timeouts": 2, "example_request_id": "t1"}],
        "always_same_dependency": True,
    }
    assert "Every timeout" in f.advice and api in f.advice


def test_timeout_with_different_dependencies_names_the_most_frequent() -> None:
    """When in-flight calls differ, the most frequent is the subject and it is not 'always'."""
    events = []
    for i, name in enumerate(["s3.GetObject", "s3.GetObject", "sqs.SendMessage"]):
        rid = f"t{i}"
        events += invocation(rid, t0=T0 + i * 5000, duration=3000, timeout_s=3.0,
                             extra=[timeout_warning(rid, [name])])
    f = only(find_all(aggregate(events)), "timeout")
    assert f.subject == "s3.GetObject"
    assert f.evidence["always_same_dependency"] is False
    assert [r["timeouts"] for r in f.evidence["in_flight"]] == [2, 1]


def test_timeouts_from_platform_lines_alone() -> None:
    """Without our records the finding still counts timeouts and gives the limit."""
    events = invocation("t", duration=6000, timeout_s=6.0)
    f = only(find_all(aggregate(events)), "timeout")
    assert f.subject == "function"
    assert (f.evidence["timeouts"], f.evidence["timeout_seconds"]) == (1, 6)


def test_out_of_memory_without_a_measurement_steps_up_and_says_so() -> None:
    """A kill at 128 MB with Max Memory Used = Memory Size and nothing measured: 256 MB."""
    exit_ = make_event("runtime_exit", request_id="a", log_stream=STREAM, oom=True,
                       reason="signal: killed", signal="killed")
    events = invocation("a", memory=128, used=128, extra=[exit_]) + invocation("b", t0=T0 + 999)
    findings = find_all(aggregate(events))
    f = only(findings, "out_of_memory")
    assert f.evidence["memory_size_mb"] == [128] and f.evidence["out_of_memory"] == 1
    assert f.evidence["recommended_memory_mb"] == 256
    assert f.evidence["recommendation_basis"] == "headroom"
    assert "256 MB" in f.advice and "no growth was measured" in f.advice
    assert "memory_pressure" not in kinds(findings)
    assert "runtime_crash" not in kinds(findings)


def test_out_of_memory_size_comes_from_the_measured_growth() -> None:
    """The memory warning at 1 s and 230 MB, the kill at 256 MB at 1.5 s: 52 MB/s; a typical
    invocation lasts 4 s, so ~360 MB are needed, 448 MB with headroom (not 512 = 2 x 256)."""
    warning = make_event("memory_warning", request_id="oom", log_stream=STREAM, lambda_trace=1,
                         rss_mb=230.0, limit_mb=256, elapsed_ms=1000.0,
                         in_flight=[{"name": "s3.GetObject", "kind": "aws",
                                     "running_ms": 800.0}])
    exit_ = make_event("runtime_exit", request_id="oom", log_stream=STREAM, oom=True,
                       reason="signal: killed", signal="killed")
    events = []
    for i in range(6):
        events += invocation(f"ok{i}", t0=T0 + i * 10_000, memory=256, used=200, duration=4000)
    events += invocation("oom", t0=T0 + 99_000, memory=256, used=256, duration=1500,
                         extra=[warning, exit_])
    f = only(find_all(aggregate(events)), "out_of_memory")
    assert f.evidence["recommendation_basis"] == "growth"
    assert f.evidence["growth_mb_per_s"] == 52.0
    # 230 MB + 52 MB/s x 3 s (from the warning to the end of a 4 s invocation) = 386 MB,
    # x 1.3 headroom = 502 -> 512 MB.
    assert f.evidence["recommended_memory_mb"] == 512
    assert f.evidence["memory_warning"]["in_flight"]["name"] == "s3.GetObject"
    assert "s3.GetObject" in f.advice and "memory growth measured" in f.advice


def test_memory_pressure_on_failures_near_the_limit() -> None:
    """A timeout at 980 of 1024 MB is memory pressure; 1536 MB is recommended."""
    events = invocation("a", duration=3000, timeout_s=3.0, memory=1024, used=980)
    f = only(find_all(aggregate(events)), "memory_pressure")
    assert f.evidence == {"failures_near_limit": 1, "peak_max_mb": 980.0,
                          "memory_size_mb": 1024, "recommended_memory_mb": 1536}


def test_permission_denied_suggests_a_policy_for_the_execution_role() -> None:
    """Two denials of PutItem on one table by one role give one Allow statement for that role."""
    principal = "arn:aws:sts::123456789012:assumed-role/orders-role/orders-fn"
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"

    def denied(rid: str) -> Event:
        return make_event("access_denied", request_id=rid, log_stream=STREAM,
                          code="AccessDeniedException", principal=principal,
                          action="dynamodb:PutItem", resource=table)

    events = (invocation("a", extra=[denied("a")])
              + invocation("b", t0=T0 + 1000, extra=[denied("b")]))
    f = only(find_all(aggregate(events)), "permission_denied")
    assert (f.subject, f.severity) == ("orders-role", "high")
    assert f.evidence == {
        "principal": principal,
        "role": "orders-role",
        "denied": [{"action": "dynamodb:PutItem", "resource": table, "count": 2,
                    "operation": None, "example_request_id": "a"}],
        "count": 2,
        "suggested_policy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table}]},
    }
    assert "orders-role" in f.advice


def test_permission_denied_from_call_records_with_unknown_resource_uses_a_wildcard() -> None:
    """A denied call record without a resource gives ``Resource: "*"`` and says to narrow it."""
    denied = call("a", "sqs.SendMessage", 0, 5, status="error",
                  error_class="permission_denied", action="sqs:SendMessage")
    f = only(find_all(aggregate(invocation("a", extra=[denied]))), "permission_denied")
    assert f.evidence["suggested_policy"]["Statement"] == [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]
    assert "narrow it" in f.advice


def test_code_errors_are_grouped_with_an_example_request() -> None:
    """Two KeyErrors at the same frame in 4 invocations: one group, count 2, severity high."""
    stack = ['  File "/var/task/app.py", line 12, in handler\n']
    events = (invocation("a", extra=[error(None, "KeyError", "'id'", stack=stack)])
              + invocation("b", t0=T0 + 1000, extra=[error(None, "KeyError", "'id'", stack=stack)])
              + invocation("c", t0=T0 + 2000) + invocation("d", t0=T0 + 3000))
    f = only(find_all(aggregate(events)), "code_error")
    assert (f.subject, f.severity) == ("KeyError at app.py:12 in handler", "high")
    assert f.evidence == {"error_type": "KeyError", "top_frame": "app.py:12 in handler",
                          "count": 2, "invocations": 4, "example_request_id": "a",
                          "message": "'id'"}
    assert "request a" in f.advice


def test_import_errors_are_init_failures_with_packaging_advice() -> None:
    """Runtime.ImportModuleError is the platform failing to load the handler, not a code bug."""
    events = [error(None, "Runtime.ImportModuleError", "No module named 'requests'")]
    events += invocation("a")
    findings = find_all(aggregate(events))
    f = only(findings, "init_failure")
    assert f.evidence["error_type"] == "Runtime.ImportModuleError"
    assert "deployment package" in f.advice
    assert "code_error" not in kinds(findings)


def test_init_timeouts_are_reported() -> None:
    """An INIT_REPORT with a timeout status is an init failure with the 10-second advice."""
    init = make_event("init_report", log_stream=STREAM, duration_ms=10000.5, phase="init",
                      status="timeout")
    events = [init, *invocation("a")]
    f = only(find_all(aggregate(events)), "init_failure")
    assert f.evidence == {"phases": ["init"], "status": "timeout", "error_type": None,
                          "init_reports": 1, "init_duration_ms": 10000.5}
    assert "10 s" in f.advice


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


def test_overprovisioned_memory_recommends_a_smaller_size() -> None:
    """20 invocations peaking at 119 of 1024 MB: recommend 192 MB (119 x 1.3, up to 64 MB)."""
    events = []
    for i in range(20):
        events += invocation(f"r{i}", t0=T0 + i * 1000, memory=1024, used=100 + i)
    findings = find_all(aggregate(events))
    f = only(findings, "overprovisioned_memory")
    assert f.evidence["recommended_memory_mb"] == 192
    assert f.evidence["peak_max_mb"] == 119.0
    assert f.evidence["invocations"] == 20
    assert f.evidence["peak_p50_mb"] == pytest.approx(109.0, rel=0.011)
    assert "CPU" in f.advice


def test_overprovisioned_memory_needs_enough_samples() -> None:
    """A handful of invocations is not enough to recommend a memory size."""
    events = invocation("a", memory=1024, used=100)
    assert "overprovisioned_memory" not in kinds(find_all(aggregate(events)))


def test_memory_cost_compares_sizes_seen_in_the_logs() -> None:
    """512 MB x 200 ms costs more GB-s than 1024 MB x 90 ms; 1024 MB is cheapest and fastest."""
    events = []
    for i in range(20):
        events += invocation(f"s{i}", t0=T0 + i * 1000, memory=512, used=200, duration=200,
                             billed=200)
        events += invocation(f"l{i}", t0=T0 + i * 1000 + 500, memory=1024, used=200,
                             duration=90, billed=90, stream="other-stream")
    f = only(find_all(aggregate(events)), "memory_cost")
    rows = {r["memory_size_mb"]: r for r in f.evidence["sizes"]}
    assert rows[512]["gb_seconds_per_1000"] == 100.0  # 0.2 s x 0.5 GB x 1000
    assert rows[1024]["gb_seconds_per_1000"] == 90.0  # 0.09 s x 1 GB x 1000
    assert rows[512]["usd_per_million"] == 1.67
    assert (f.evidence["cheapest_mb"], f.evidence["fastest_mb"]) == (1024, 1024)
    assert "1024 MB was both the fastest" in f.advice


def test_latency_regression_against_a_baseline() -> None:
    """A dependency p95 going from 50 ms to 100 ms (+100%) is a high-severity regression."""
    events = []
    for i in range(20):
        events += invocation(f"r{i}", t0=T0 + i * 1000, duration=120,
                             calls=[("s3.GetObject", 0, 100.0), ("sqs.SendMessage", 101, 5.0)])
    baseline = Baseline(invocations=20, duration_p95_ms=118.0,
                        dependencies={"s3.GetObject": (50.0, 20), "sqs.SendMessage": (5.0, 20)})
    findings = find_all(aggregate(events), baseline)
    f = only(findings, "latency_regression")
    assert (f.subject, f.severity) == ("s3.GetObject", "high")
    assert f.evidence["baseline_p95_ms"] == 50.0
    assert f.evidence["p95_ms"] == pytest.approx(100.0, rel=0.011)
    assert f.evidence["change_pct"] == pytest.approx(100.0, abs=1.5)
    assert "latency_regression" not in kinds(find_all(aggregate(events)))


def test_baseline_from_a_saved_json_report() -> None:
    """A ``--format json`` report read back gives the same p95 per dependency."""
    events = invocation("a", calls=[("s3.GetObject", 0, 40.0)])
    agg = aggregate(events)
    report = build_report(agg, find_all(agg))
    baseline = Baseline.from_report(report)
    assert baseline.dependencies["s3.GetObject"][0] == pytest.approx(40.0, rel=0.011)
    assert baseline.invocations == 1
    with pytest.raises(ValueError):
        Baseline.from_report({"invocations": 1})


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


def test_no_invocations_points_at_trigger_and_log_permissions() -> None:
    """Empty logs say to check the trigger and the role's permission to write logs."""
    f = only(find_all(Aggregator()), "no_invocations")
    assert f.severity == "high"
    assert "trigger" in f.advice and "logs:PutLogEvents" in f.advice
    assert "monitoring-cloudwatchlogs" in f.advice


def test_platform_lines_alone_give_findings_without_dependencies() -> None:
    """Logs of any Python function (no records) still produce timeout and error findings."""
    events = (invocation("a", duration=3000, timeout_s=3.0)
              + invocation("b", t0=T0 + 5000, extra=[error(None, "ValueError", "bad")]))
    found = kinds(find_all(aggregate(events)))
    assert {"timeout", "code_error"} <= found
    assert not found & {"slow_dependency", "n_plus_one"}


def test_findings_are_ordered_by_severity_then_kind() -> None:
    """Most severe first; every finding has a known kind, a severity and advice."""
    events = (invocation("cold", init=300.0)
              + invocation("a", t0=T0 + 1000, duration=3000, timeout_s=3.0)
              + invocation("b", t0=T0 + 5000, extra=[error(None, "ValueError", "bad")]))
    findings = find_all(aggregate(events))
    ranks = [(SEVERITIES.index(f.severity), KINDS.index(f.kind)) for f in findings]
    assert ranks == sorted(ranks) and len(findings) >= 3
    assert all(f.advice for f in findings)


def test_role_name_from_assumed_role_and_role_arns() -> None:
    """The execution role's name is read from either ARN form."""
    assert role_name("arn:aws:sts::1:assumed-role/my-role/my-fn") == "my-role"
    assert role_name("arn:aws:iam::1:role/service-role/my-role") == "my-role"
    assert role_name("arn:aws:iam::1:user/alice") is None and role_name(None) is None


def test_permission_denied_without_an_iam_action_writes_no_bad_statement() -> None:
    """S3's bare "Access Denied" gives no invalid "Action": "PutObject" statement, and says why."""
    denied = make_event("access_denied", request_id="a", log_stream=STREAM, code="AccessDenied",
                        action=None, operation="PutObject",
                        message="An error occurred (AccessDenied) when calling the PutObject "
                        "operation: Access Denied")
    f = only(find_all(aggregate(invocation("a", extra=[denied]))), "permission_denied")
    assert f.evidence["denied"] == [{"action": None, "resource": None, "count": 1,
                                     "operation": "PutObject", "example_request_id": "a"}]
    assert "suggested_policy" not in f.evidence
    assert "the PutObject call" in f.advice and "s3:PutObject" in f.advice
