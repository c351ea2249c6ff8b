"""Invocation and warning records stay under CloudWatch's 256 KB event limit."""

from __future__ import annotations

import json

from lambda_trace import _records
from lambda_trace.schema import MAX_LINE_BYTES, from_dict
from lambda_trace.testing import validate_record


def huge_invocation() -> dict:
    return {
        "lambda_trace": 2,
        "type": "invocation",
        "request_id": "r",
        "function_name": "f",
        "timestamp": "2026-11-27T04:43:42.123Z",
        "cold_start": False,
        "duration_ms": 1.0,
        "self_ms": 1.0,
        "status": "error",
        "error_type": "E" * 1000,
        "error_message": "m" * 300,
        "calls": {
            f"http GET host-{i:05d}.example.com/{'p' * 100}": {
                "k": "http",
                "n": 1,
                "ms": float(i),
                "h": [i, 1],
            }
            for i in range(5000)
        },
        "dropped_calls": 0,
        "annotations": {"a": "x"},
    }


def test_an_oversized_summary_keeps_the_slowest_names_and_says_how_many_went():
    record = huge_invocation()
    line = _records.bounded(record)
    assert len(line.encode()) < MAX_LINE_BYTES
    decoded = validate_record(line)
    kept = decoded["calls"]
    assert decoded["calls_truncated"] == 5000 - len(kept) > 0
    assert min(s["ms"] for s in kept.values()) > 5000 - len(kept) - 1  # slowest kept
    assert from_dict(decoded).calls_truncated == decoded["calls_truncated"]  # a declared field


def test_a_small_record_is_written_as_is():
    record = huge_invocation()
    record["calls"] = {"a": {"k": "segment", "n": 1, "ms": 1.0, "h": [0, 1]}}
    assert json.loads(_records.bounded(record)) == record


def test_non_finite_numbers_never_reach_a_line():
    record = {"lambda_trace": 1, "type": "x", "value": float("nan"), "nested": [float("inf")]}
    assert json.loads(_records.bounded(record)) == {
        "lambda_trace": 1,
        "type": "x",
        "value": None,
        "nested": [None],
    }


def test_records_round_trip_through_the_schema_reader():
    """What the runtime writes, the analyzer's reader takes without loss of the known keys."""
    line = _records.bounded(huge_invocation() | {"calls": {}})
    parsed = from_dict(json.loads(line))
    assert parsed.to_dict()["status"] == "error" and parsed.extra == {}


def test_hand_encoded_invocation_line_equals_the_dict_path(monkeypatch):
    """The fast encoder and the json.dumps fallback write the same record."""
    import time

    from lambda_trace._config import Settings
    from lambda_trace._invocation import Invocation

    inv = Invocation(Settings(), lambda line: None, 'req"1', "fn\u00e9", 1234.5, 256)
    for name, error in (("s3.GetObject", False), ("s3.GetObject", True), ('odd "name"\n', False)):
        token, t0 = inv.begin(name, "aws")
        inv.end(token, name, "aws", t0, error)
    inv.annotate({"tenant": "acme", "ratio": 0.5})
    inv.timed_out = True
    kwargs = dict(
        cold_start=True,
        init_type="on-demand",
        init_ms=12.5,
        remaining_ms=100.25,
        memory_peak_mb=42.1,
        error={"error_type": "KeyError", "error_message": "'x'", "error_class": None},
    )
    end = time.perf_counter_ns()
    fast = _records.invocation_line(inv, end, **kwargs)
    real_fits, calls = _records.fits, []

    def fits_once_false(line):  # only the fast line "does not fit": take the dict path
        calls.append(line)
        return len(calls) > 1 and real_fits(line)

    monkeypatch.setattr(_records, "fits", fits_once_false)
    slow = _records.invocation_line(inv, end, **kwargs)
    assert json.loads(fast) == json.loads(slow)
    validate_record(fast)
