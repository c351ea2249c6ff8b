"""The record contract is the code's contract: every key the runtime writes is declared.

Real handlers exercise every kind of call (AWS over HTTP to moto, HTTP, SQLite, segments),
failures, annotations, a timeout warning and a memory warning under ``@trace``; every key of
every record they write must be a field of its ``lambda_trace.schema`` record class, every
``calls`` entry's key a key of ``CallStats.to_dict()``, every ``in_flight`` entry's key a field
of ``InFlight``. A key written but not declared (as ``calls_truncated`` once was) fails here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from lambda_trace import annotate, metric, segment, trace
from lambda_trace._contract import MARKER
from lambda_trace.schema import RECORD_CLASSES, CallStats, InFlight
from lambda_trace.testing import FakeContext, capture


def declared(record_type: str) -> set[str]:
    cls = RECORD_CLASSES[record_type]
    return {f.name for f in dataclasses.fields(cls)} - {"version", "extra"} | {MARKER, "type"}


def summary_keys() -> set[str]:
    full = CallStats(count=2, total_ms=3.0, max_ms=2.0, errors=1, kind="aws", seq=2,
                     hist={1: 2})
    return set(full.to_dict())


IN_FLIGHT_KEYS = {f.name for f in dataclasses.fields(InFlight)}


def written_records(moto_server: Any, http_server: Any) -> list[dict[str, Any]]:
    s3 = moto_server.client("s3")
    s3.create_bucket(Bucket="contract-bucket")
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE orders (id INTEGER)")

    @trace(call_lines="all", timeout_margin_ms=700, memory_warning_ratio=0.01,
           memory_poll_ms=5)
    def handler(event: Any, context: Any) -> Any:
        annotate(tenant="acme")
        metric("ItemsRendered", 3)
        with segment("render"):
            s3.put_object(Bucket="contract-bucket", Key="a.txt", Body=b"x")
            with contextlib.suppress(Exception):
                s3.get_object(Bucket="contract-bucket", Key="missing.txt")
            urllib.request.urlopen(f"{http_server.url}/items/7?token=x").read()
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(f"{http_server.url}/status/503").read()
            db.execute("INSERT INTO orders VALUES (1)")
            db.execute("SELECT id FROM orders").fetchall()
        if event.get("slow"):
            time.sleep(0.45)  # past the timeout warning at 300 ms
        if event.get("fail"):
            raise ValueError("the order total is negative")
        return {"statusCode": 200}

    with capture() as cap:
        handler({"slow": True}, FakeContext(timeout_ms=1000, memory_limit_in_mb="128"))
        with pytest.raises(ValueError):
            handler({"fail": True}, FakeContext(timeout_ms=60000, memory_limit_in_mb="128"))
    return cap.records


def test_every_key_the_runtime_writes_is_declared(moto_server: Any, http_server: Any) -> None:
    records = written_records(moto_server, http_server)
    seen_types = {r["type"] for r in records}
    assert seen_types == {"call", "invocation", "timeout_warning", "memory_warning"}
    kinds = {r["kind"] for r in records if r["type"] == "call"}
    assert kinds == {"aws", "http", "db", "segment"}
    stats_keys, flight_keys = summary_keys(), IN_FLIGHT_KEYS
    undeclared: set[str] = set()
    for record in records:
        undeclared |= {f"{record['type']}.{k}" for k in record if k not in declared(record["type"])}
        for stats in (record.get("calls") or {}).values():
            undeclared |= {f"{record['type']}.calls[].{k}" for k in stats if k not in stats_keys}
        for entry in record.get("in_flight") or []:
            undeclared |= {f"{record['type']}.in_flight[].{k}" for k in entry
                           if k not in flight_keys}
    assert not undeclared, sorted(undeclared)


def test_what_an_oversized_record_says_is_declared() -> None:
    """Over 256 KB the summary is cut (``bounded``): the keys saying so are declared too."""
    import json

    from lambda_trace._records import bounded

    record = {MARKER: 2, "type": "invocation", "request_id": "r", "duration_ms": 1.0,
              "calls": {f"dynamodb.Op{i}": {"k": "aws", "n": 1, "ms": float(i), "h": [1] * 3000}
                        for i in range(100)},
              "annotations": {"note": "x" * 300_000}}
    written = json.loads(bounded(record))
    assert written["calls_truncated"] > 0 and written["annotations_truncated"] is True
    assert set(written) <= declared("invocation"), sorted(set(written) - declared("invocation"))


def test_the_analyzer_reads_only_declared_record_keys() -> None:
    """The keys ``analyzer/records.py`` takes from a record are all declared for some type."""
    import ast
    from pathlib import Path

    import lambda_trace.analyzer.records as records_module

    every = set().union(*(declared(t) for t in RECORD_CLASSES)) | summary_keys() | IN_FLIGHT_KEYS
    # v1 names the analyzer still reads (schema.CallStats.from_dict's other layout)
    every |= {"count", "total_ms", "max_ms", "errors"}
    # EMF documents are read there too: their metadata keys are the EMF specification's
    # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)
    every |= {"_aws", "Timestamp", "CloudWatchMetrics", "Namespace", "Dimensions", "Metrics",
              "Name", "Unit", "StorageResolution"}
    tree = ast.parse(Path(records_module.__file__).read_text(encoding="utf-8"))
    read = {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get" and node.args
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)}
    assert read, "no record key read found: the check would prove nothing"
    assert read <= every, sorted(read - every)


def test_the_runtime_declaration_and_the_schema_declare_the_same_keys() -> None:
    """``_contract`` (what the runtime builds its fragments from) and ``schema`` (what readers
    use) are one declaration: every record type, summary entry and in-flight entry agrees."""
    from lambda_trace import _contract

    for record_type in RECORD_CLASSES:
        assert set(_contract.RECORD_KEYS[record_type]) == declared(record_type), record_type
    assert set(_contract.RECORD_KEYS) == set(RECORD_CLASSES)
    assert set(_contract.SUMMARY_KEYS) == summary_keys()
    assert set(_contract.IN_FLIGHT_KEYS) == IN_FLIGHT_KEYS


def test_an_undeclared_key_cannot_be_encoded() -> None:
    from lambda_trace._contract import field, key

    assert field("call", "target") == ',"target":'
    assert key("summary", "h") == '"h":'
    with pytest.raises(KeyError):
        field("call", "payload")
    with pytest.raises(KeyError):
        key("invocation", "target")
