"""Failure causes that are not a bug in the function's code (issue 11, section 3)."""

from __future__ import annotations

from typing import Any

from findings_support import aggregate
from join_builders import STREAM, T0, call, error, invocation

from lambda_trace.analyzer.aggregate import aggregate_events
from lambda_trace.analyzer.findings import Finding, find_all
from lambda_trace.analyzer.model import Event, make_event


def findings_of(events: list[Event]) -> tuple[Any, list[Finding]]:
    agg, _ = aggregate_events(events)
    return agg, find_all(agg)


def kinds(found: list[Finding]) -> list[str]:
    return [f.kind for f in found]


def only(found: list[Finding], kind: str) -> Finding:
    hits = [f for f in found if f.kind == kind]
    assert len(hits) == 1, kinds(found)
    return hits[0]


def raised(rid: str, error_type: str, message: str) -> Event:
    event = error(rid, error_type, message,
                  stack=['  File "/var/task/app.py", line 74, in handler'])
    event["unhandled"] = True
    return event


def failed_call(rid: str, name: str, error_class: str, start: float = 10.0) -> Event:
    return call(rid, name, start, 25.0, status="error", error_class=error_class, kind="http",
                ts=T0 + 40)


def test_a_raised_503_after_the_call_returned_503_is_a_dependency_error() -> None:
    failure = [failed_call("a", "http POST api.pay.example", "server"),
               raised("a", "requests.exceptions.HTTPError",
                      "503 Server Error: Service Unavailable for url: https://api.pay.example/v1")]
    agg, found = findings_of(invocation("a", extra=failure) + invocation("b", t0=T0 + 999))
    f = only(found, "dependency_error")
    assert f.subject == "http POST api.pay.example"
    assert f.evidence["error_class"] == "server" and f.evidence["count"] == 1
    assert "retr" in f.advice and "timeout" in f.advice and "fallback" in f.advice
    assert "code_error" not in kinds(found)
    assert agg.errors == 1  # still a failed invocation


def test_an_unrelated_exception_after_a_failed_call_is_the_codes() -> None:
    failure = [failed_call("a", "http GET api.example", "not_found"),
               raised("a", "KeyError", "'order_id'")]
    _, found = findings_of(invocation("a", extra=failure))
    assert only(found, "code_error").evidence["error_type"] == "KeyError"
    assert "dependency_error" not in kinds(found)


def test_a_failed_call_the_code_recovered_from_is_not_the_cause() -> None:
    failure = [failed_call("a", "dynamodb.GetItem", "throttled", start=5.0),
               call("a", "dynamodb.GetItem", 40.0, 5.0, ts=T0 + 50),
               raised("a", "ValueError", "bad total")]
    _, found = findings_of(invocation("a", extra=failure))
    assert "dependency_error" not in kinds(found)
    assert only(found, "code_error").evidence["error_type"] == "ValueError"


def record(rid: str, **fields: Any) -> Event:
    return make_event("invocation", request_id=rid, timestamp_ms=T0 + 50, log_stream=STREAM,
                      lambda_trace=1, duration_ms=50.0, status="ok", **fields)


def test_a_returned_5xx_is_a_failed_invocation() -> None:
    events = (invocation("a", extra=[record("a", status_code=502)])
              + invocation("b", t0=T0 + 999, extra=[record("b", status_code=200)]))
    agg, found = findings_of(events)
    assert agg.errors == 1 and agg.returned_5xx == 1
    f = only(found, "code_error")
    assert f.evidence["error_type"] == "HTTP 502" and f.evidence["example_request_id"] == "a"
    assert "without raising" in f.advice


def test_a_4xx_or_a_non_int_status_code_is_not_a_failure() -> None:
    events = (invocation("a", extra=[record("a", status_code=404)])
              + invocation("b", t0=T0 + 999, extra=[record("b", status_code="500")]))
    agg, found = findings_of(events)
    assert agg.errors == 0 and "code_error" not in kinds(found)


def test_an_exception_caught_and_logged_does_not_fail_the_invocation() -> None:
    logged = error("a", "botocore.exceptions.ClientError", "Failed to read the object")
    logged["unhandled"] = False
    agg, found = findings_of(invocation("a", extra=[logged]))
    assert agg.errors == 0
    assert "code_error" not in kinds(found)


def test_extension_crash_in_report_is_an_extension_failure() -> None:
    events = invocation("a", status="error", error_type="Extension.Crash")
    agg, found = findings_of(events)
    f = only(found, "extension_failure")
    assert f.evidence["error_type"] == "Extension.Crash" and f.evidence["failed_invocations"] == 1
    assert "layer" in f.advice
    assert agg.errors == 1
    assert not {"code_error", "runtime_crash", "init_failure"} & set(kinds(found))


def test_invalid_entrypoint_in_report_is_an_init_failure_not_nothing() -> None:
    """REPORT Status: error, Error Type: Runtime.InvalidEntrypoint (contactform-api#29)."""
    init = make_event("init_report", log_stream=STREAM, duration_ms=0.44, phase="init",
                      status="error", error_type="Runtime.InvalidEntrypoint")
    again = make_event("init_report", log_stream=STREAM, duration_ms=0.49, phase="invoke",
                       status="error", error_type="Runtime.InvalidEntrypoint")
    events = [init, again, *invocation("a", status="error",
                                       error_type="Runtime.InvalidEntrypoint")]
    _, found = findings_of(events)
    f = only(found, "init_failure")
    assert f.evidence["phases"] == ["init", "invoke"] and f.evidence["init_reports"] == 2
    assert f.evidence["failed_invocations"] == 1
    assert "architecture" in f.advice


def test_a_bare_signal_killed_is_a_crash_not_out_of_memory() -> None:
    """No REPORT, so no Max Memory Used: nothing says it was memory."""
    exit_ = make_event("runtime_exit", request_id="a", log_stream=STREAM, oom=True,
                       signal="killed", reason="signal: killed", error_type="Runtime.ExitError")
    start = make_event("start", request_id="a", timestamp_ms=T0, log_stream=STREAM)
    agg, found = findings_of([start, exit_])
    f = only(found, "runtime_crash")
    assert f.evidence["reason"] == "signal: killed"
    assert "memory limit" in f.advice
    assert "out_of_memory" not in kinds(found) and agg.errors == 1


def test_a_crash_explained_by_the_codes_exception_is_the_codes() -> None:
    exit_ = make_event("runtime_exit", request_id="a", log_stream=STREAM,
                       reason="exit status 1", error_type="Runtime.ExitError")
    events = invocation("a", extra=[raised("a", "ZeroDivisionError", "division by zero"), exit_])
    _, found = findings_of(events)
    assert only(found, "code_error").evidence["error_type"] == "ZeroDivisionError"
    assert "runtime_crash" not in kinds(found)


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
