"""Every key the runtime writes is declared in the record contract (``lambda_trace.schema``).

The records come from a real traced handler (``lambda_trace.testing``) that calls AWS (a moto
server on 127.0.0.1), HTTP (a loopback server), SQLite and user segments, annotates and fails.
The runtime's caps (200 call names, 50 annotations) keep such a record under CloudWatch's
256 KB event limit, so the keys written when one is too big anyway come from the runtime's own
line bounding (``_records.bounded``), given an oversized record.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import urllib.error
import urllib.request
from typing import Any

import pytest

import lambda_trace
from lambda_trace import schema, testing
from tests.conftest import LoopbackHTTP, MotoServer


def _declared(record_type: str) -> set[str]:
    cls = schema.RECORD_CLASSES[record_type]
    names = {f.name for f in dataclasses.fields(cls)} - {"version", "extra"}
    return names | {schema.MARKER, "type"}


def _written(moto: MotoServer, http_server: LoopbackHTTP) -> list[dict[str, Any]]:
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")

    @lambda_trace.trace
    def handler(event: Any, context: Any) -> None:
        s3.create_bucket(Bucket="contract-bucket")
        s3.put_object(Bucket="contract-bucket", Key="k", Body=b"x")
        with contextlib.suppress(Exception):
            s3.get_object(Bucket="contract-bucket", Key="missing")
        urllib.request.urlopen(http_server.url + "/orders/123").read()
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(http_server.url + "/status/503").read()
        db = sqlite3.connect(":memory:")
        db.execute("create table t (x int)")
        db.execute("insert into t values (1)")
        db.close()
        with lambda_trace.segment("outer"), lambda_trace.segment("inner"):
            pass
        lambda_trace.annotate(order="o-1", items=3)
        raise ValueError("contract test failure")

    return testing.invoke(handler, {}).records


@pytest.mark.usefixtures("fresh_warnings")
def test_every_key_the_runtime_writes_is_declared(
    moto: MotoServer, http_server: LoopbackHTTP
) -> None:
    records = _written(moto, http_server)
    kinds = {r.get("kind") for r in records if r.get("type") == "call"}
    assert {"aws", "http", "segment"} <= kinds, kinds  # the handler exercised each client
    invocation = next(r for r in records if r.get("type") == "invocation")
    assert invocation["status"] == "error"
    undeclared = {
        (r["type"], key) for r in records for key in r if key not in _declared(r["type"])
    }
    assert not undeclared, f"keys written but not declared in lambda_trace/schema.py: {undeclared}"


def test_the_keys_of_a_shortened_record_are_declared() -> None:
    import json

    from lambda_trace._records import bounded

    record: dict[str, Any] = {
        schema.MARKER: schema.SCHEMA_VERSION, "type": "invocation", "request_id": "r-1",
        "status": "ok", "duration_ms": 1.0,
        "calls": {f"step-{i:06d}-" + "x" * 200: {"k": "segment", "n": 1, "ms": float(i)}
                  for i in range(3000)},
        "annotations": {f"note_{i}": "v" * 2000 for i in range(200)},
    }
    line = json.loads(bounded(record))
    assert line["calls_truncated"] > 0 and line["annotations_truncated"] is True
    undeclared = set(line) - _declared("invocation")
    assert not undeclared, f"keys written but not declared in lambda_trace/schema.py: {undeclared}"
