"""lambda_trace.testing: FakeContext, capture, and validators that really reject bad input."""

from __future__ import annotations

import time

import pytest

from lambda_trace import trace
from lambda_trace.testing import (
    FakeContext,
    capture,
    emf_problems,
    invoke,
    record_problems,
    validate_emf,
    validate_record,
)

GOOD_CALL = {
    "lambda_trace": 1,
    "type": "call",
    "request_id": "r-1",
    "function_name": "f",
    "timestamp": "2026-11-27T04:43:42.123Z",
    "name": "s3.GetObject",
    "kind": "aws",
    "start_ms": 1.5,
    "duration_ms": 20.25,
    "status": "ok",
}


def test_fake_context_memory_limit_is_a_string_like_the_real_runtime():
    assert FakeContext(memory_limit_in_mb=256).memory_limit_in_mb == "256"


def test_fake_context_counts_down():
    ctx = FakeContext(timeout_ms=1000)
    first = ctx.get_remaining_time_in_millis()
    time.sleep(0.02)
    assert 0 < ctx.get_remaining_time_in_millis() < first <= 1000


def test_invoke_captures_result_error_and_lines():
    @trace
    def handler(event, context):
        if event == "fail":
            raise ValueError("bad")
        return event

    ok = invoke(handler, "hello")
    assert ok.result == "hello" and ok.error is None and len(ok.invocations) == 1
    failed = invoke(handler, "fail")
    assert isinstance(failed.error, ValueError) and failed.invocations[0]["status"] == "error"


def test_capture_restores_the_previous_sink():
    from lambda_trace.sinks import get_default_sink, stdout_sink

    with capture():
        assert get_default_sink() is not stdout_sink
    assert get_default_sink() is stdout_sink


def test_a_good_record_passes():
    assert validate_record(dict(GOOD_CALL)) == GOOD_CALL


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"lambda_trace": "1"}, "schema version"),
        ({"type": "span"}, "unknown type"),
        ({"timestamp": "2026-11-27 04:43:42"}, "timestamp"),
        ({"kind": "database"}, "kind"),
        ({"status": "failed"}, "status"),
        ({"duration_ms": "20"}, "duration_ms"),
        ({"duration_ms": -1}, "negative"),
        ({"error_class": "oops"}, "error_class"),
        ({"http_status": 200.5}, "http_status"),
        ({"name": None}, "missing 'name'"),
    ],
)
def test_bad_records_are_rejected(change, problem):
    record = {**GOOD_CALL, **change}
    with pytest.raises(ValueError, match=problem):
        validate_record(record)


def test_missing_keys_are_reported():
    record = dict(GOOD_CALL)
    del record["request_id"]
    assert any("request_id" in p for p in record_problems(record))


def test_invocation_calls_entries_are_checked():
    record = {
        **GOOD_CALL,
        "type": "invocation",
        "cold_start": False,
        "duration_ms": 1.0,
        "self_ms": 1.0,
        "calls": {"x": {"count": "1", "total_ms": 1, "max_ms": 1, "errors": 0}},
        "dropped_calls": 0,
        "annotations": {},
    }
    assert record_problems(record) == ["calls['x'].count is not a int"]


def good_emf(now_ms: int) -> dict:
    return {
        "_aws": {
            "Timestamp": now_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": "N",
                    "Dimensions": [["service"]],
                    "Metrics": [{"Name": "Duration", "Unit": "Milliseconds"}],
                }
            ],
        },
        "service": "f",
        "Duration": 1.5,
    }


def test_a_good_emf_document_passes():
    doc = good_emf(int(time.time() * 1000))
    assert validate_emf(doc) is doc


@pytest.mark.parametrize(
    ("age_ms", "ok"),
    [
        (0, True),
        (14 * 86_400_000 - 1, True),  # 14 days old, just
        (14 * 86_400_000 + 1, False),
        (-2 * 3_600_000, True),  # 2 hours ahead, just
        (-2 * 3_600_000 - 1, False),
    ],
)
def test_the_emf_timestamp_window_is_judged_by_the_injected_clock(age_ms: int, ok: bool):
    """CloudWatch's window is [now - 14 days, now + 2 hours]; ``now_ms`` says when now is."""
    now = int(time.time() * 1000) + 400 * 86_400_000  # a clock a year ahead of this machine's
    doc = good_emf(now - age_ms)
    problems = emf_problems(doc, now_ms=now)
    assert ("Timestamp is more than 14 days in the past or 2 hours in the future" in problems) != ok
    if ok:
        assert validate_emf(doc, now_ms=now) is doc
    else:
        with pytest.raises(ValueError, match="14 days"):
            validate_emf(doc, now_ms=now)


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda d: d.pop("service"), "dimension 'service'"),
        (lambda d: d.update(Duration="1"), "finite number"),
        (lambda d: d.update(Duration=[1.0] * 101), "1..100"),
        (lambda d: d["_aws"].update(Timestamp=0), "14 days"),
        (lambda d: d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0].update(Unit="Furlongs"), "unit"),
        (
            lambda d: d["_aws"]["CloudWatchMetrics"][0].update(
                Metrics=[{"Name": f"M{i}"} for i in range(101)]
            ),
            "1 to 100 metrics",
        ),
        (
            lambda d: d["_aws"]["CloudWatchMetrics"][0].update(
                Dimensions=[[f"d{i}" for i in range(31)]]
            ),
            "1 to 30",
        ),
    ],
)
def test_bad_emf_documents_are_rejected(mutate, problem):
    doc = good_emf(int(time.time() * 1000))
    mutate(doc)
    assert any(problem in p for p in emf_problems(doc)), emf_problems(doc)


GOOD_V2_INVOCATION = {
    "lambda_trace": 2,
    "type": "invocation",
    "request_id": "r-1",
    "function_name": "f",
    "service": "orders",
    "timestamp": "2026-11-27T04:43:42.123Z",
    "cold_start": False,
    "duration_ms": 9.0,
    "self_ms": 1.0,
    "status": "ok",
    "status_code": 200,
    "calls": {"s3.GetObject": {"k": "aws", "n": 2, "ms": 8.0, "max": 5.0, "h": [55, 1, 81, 1]}},
}


def test_a_v2_invocation_leaves_out_what_holds_nothing() -> None:
    assert validate_record(dict(GOOD_V2_INVOCATION)) == GOOD_V2_INVOCATION


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"k": "aws", "n": 2, "ms": 8.0, "h": [55, 1]}, "counts 1 calls, n says 2"),
        ({"k": "aws", "n": 2, "ms": 8.0, "h": [81, 1, 55, 1]}, "ascending"),
        ({"k": "aws", "n": 1, "ms": 8.0, "h": [55]}, "integer pairs"),
        ({"k": "aws", "n": 1, "ms": 8.0}, "missing 'h'"),
        ({"count": 1, "total_ms": 1.0, "max_ms": 1.0, "errors": 0}, "missing 'k'"),
    ],
)
def test_v2_summary_entries_are_checked(entry: dict, problem: str) -> None:
    record = {**GOOD_V2_INVOCATION, "calls": {"x": entry}}
    with pytest.raises(ValueError, match=problem):
        validate_record(record)


def test_a_v2_call_line_names_neither_function_nor_time_a_v1_line_must() -> None:
    lean = {k: v for k, v in GOOD_CALL.items() if k not in ("function_name", "timestamp")}
    assert validate_record({**lean, "lambda_trace": 2, "service": "orders"})
    assert any("timestamp" in p for p in record_problems(lean))
