"""Our own records and EMF documents (records.py)."""

from __future__ import annotations

import json

from lambda_trace.analyzer.model import EVENT_KEYS
from lambda_trace.analyzer.records import (
    decode_object,
    emf_event,
    is_emf,
    is_our_record,
    record_event,
    salvage_emf,
)
from lambda_trace.schema import CallRecord, is_record


def test_record_event_keeps_the_record_keys_and_sets_the_common_ones() -> None:
    """A record's own keys pass through untouched; timestamp_ms and log_stream are added."""
    record = CallRecord(request_id="r-1", function_name="fn", timestamp="2026-11-27T04:43:42.123Z",
                        name="dynamodb.GetItem", kind="aws", duration_ms=12.5, status="error",
                        error_class="permission_denied", action="dynamodb:GetItem").to_dict()
    obj = decode_object(json.dumps(record))
    assert isinstance(obj, dict) and is_our_record(obj) and is_record(obj)
    stream = "2026/11/27/[$LATEST]abc"
    event = record_event(obj, 1795754622123, stream)
    assert {k: v for k, v in event.items() if k not in ("timestamp_ms", "log_stream")} == record
    assert (event["type"], event["request_id"]) == ("call", "r-1")
    assert (event["timestamp_ms"], event["log_stream"]) == (1795754622123, stream)


def test_record_without_request_id_takes_the_one_around_it() -> None:
    """A record logged through a wrapper that knows the request id gets that id."""
    obj = {"lambda_trace": 1, "type": "invocation", "duration_ms": 3.0}
    assert record_event(obj, None, None, request_id="from-prefix")["request_id"] == "from-prefix"
    own = {"lambda_trace": 1, "type": "call", "request_id": "own"}
    assert record_event(own, None, None, request_id="from-prefix")["request_id"] == "own"


def test_only_known_record_types_with_the_marker_are_records() -> None:
    assert not is_our_record({"type": "call"})
    assert not is_our_record({"lambda_trace": 1, "type": "something-else"})


def test_emf_event_normalises_namespace_metrics_dimensions_and_values() -> None:
    """Two directives, dimension sets, a list value; the request id from the document."""
    doc = {
        "_aws": {"Timestamp": 1764218622000, "CloudWatchMetrics": [
            {"Namespace": "shop", "Dimensions": [["service"], ["service", "route"]],
             "Metrics": [{"Name": "latency", "Unit": "Milliseconds"}, {"Name": "count"}]},
            {"Namespace": "shop", "Dimensions": [[]], "Metrics": [{"Name": "count"}]},
        ]},
        "service": "cart", "route": "/add", "latency": [1.5, 2.5], "count": 2,
        "function_request_id": "req-9",
    }
    assert is_emf(doc)
    event = emf_event(doc, 5, "s")
    assert event == {
        "type": "emf", "request_id": "req-9", "timestamp_ms": 5, "log_stream": "s",
        "namespace": "shop", "metrics": ["latency", "count"],
        "dimensions": {"service": "cart", "route": "/add"},
        "values": {"latency": [1.5, 2.5], "count": 2},
        "dimension_sets": [["service"], ["service", "route"], []], "truncated": False,
    }
    assert list(event)[4:] == list(EVENT_KEYS["emf"])


def test_emf_with_malformed_directives_does_not_raise() -> None:
    doc = {"_aws": {"CloudWatchMetrics": ["x", {"Metrics": [None, {"Name": 3}],
                                                "Dimensions": "bad"}]}}
    event = emf_event(doc, None, None)
    assert (event["namespace"], event["metrics"], event["dimensions"]) == (None, [], {})


def test_salvage_emf_keeps_only_complete_names() -> None:
    """A document cut mid-name keeps the namespace and the names that closed."""
    cut = ('{"_aws": {"Timestamp": 1785618058389, "CloudWatchMetrics": [{"Namespace": '
           '"JustHodl/LLM", "Dimensions": [[]], "Metrics": [{"Name": "ProvidersUp", "Unit": '
           '"Count"}, {"Name": "Billin')
    event = salvage_emf(cut, None, None)
    assert event is not None
    assert (event["namespace"], event["metrics"], event["timestamp_ms"], event["truncated"]) == (
        "JustHodl/LLM", ["ProvidersUp"], 1785618058389, True)
    assert salvage_emf('{"level": "INFO"', None, None) is None


def test_decode_object_returns_none_for_invalid_json() -> None:
    assert decode_object('{"a": 1') is None
    assert decode_object("[" * 100000) is None
    assert decode_object('{"a": 1}') == {"a": 1}
