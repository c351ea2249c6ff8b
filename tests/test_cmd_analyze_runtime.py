"""End to end: records written by the real ``@trace`` runtime, analysed by ``lambda-trace analyze``.

The handler talks to a moto server and a loopback HTTP server over real sockets; its records are
framed with the START/END/REPORT lines Lambda would write, and the file goes through the CLI.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from lambda_trace.analyzer.cli import main

REQUEST_IDS = [f"5e1f0c2a-0000-4000-8000-00000000000{i}" for i in range(3)]


def test_dependency_table_from_real_runtime_records(
    moto: Any, http_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Six sequential GetItem calls and one HTTP call per invocation show up as measured."""
    import boto3
    import requests

    from lambda_trace import trace
    from lambda_trace.testing import FakeContext, invoke

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(
        TableName="orders", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )
    session = requests.Session()

    @trace
    def handler(event: dict, context: Any) -> dict:
        for item in range(6):
            ddb.get_item(TableName="orders", Key={"id": {"S": str(item)}})
        session.get(f"{http_server.url}/sleep/20", timeout=5)
        return {"ok": True}

    lines: list[str] = []
    for rid in REQUEST_IDS:
        captured = invoke(handler, {}, FakeContext(aws_request_id=rid, memory_limit_in_mb="256"))
        assert captured.error is None
        record = captured.invocations[0]
        duration = record["duration_ms"]
        lines.append(f"START RequestId: {rid} Version: $LATEST")
        lines.extend(captured.lines)
        lines.append(f"END RequestId: {rid}")
        lines.append(
            f"REPORT RequestId: {rid}\tDuration: {duration:.2f} ms\t"
            f"Billed Duration: {math.ceil(duration)} ms\tMemory Size: 256 MB\t"
            f"Max Memory Used: {math.ceil(record['memory_peak_mb'] or 80)} MB\t"
        )
    log = tmp_path / "function.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")

    code = main(["analyze", "--no-progress", "--format", "json", str(log)])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["invocations"] == 3 and report["errors"] == 0
    deps = {d["name"]: d for d in report["dependencies"]}
    get_item = deps["dynamodb.GetItem"]
    assert get_item["calls"] == 18 and get_item["kind"] == "aws" and get_item["errors"] == 0
    assert 0 < get_item["p50_ms"] <= get_item["p95_ms"] <= get_item["max_ms"]
    http = [d for d in report["dependencies"] if d["kind"] == "http"]
    assert len(http) == 1 and http[0]["calls"] == 3
    assert http[0]["p50_ms"] >= 20  # the loopback server sleeps 20 ms
    n_plus_one = [f for f in report["findings"] if f["kind"] == "n_plus_one"]
    assert n_plus_one and n_plus_one[0]["subject"] == "dynamodb.GetItem"
    assert n_plus_one[0]["evidence"]["max_sequential_calls"] == 6
    assert n_plus_one[0]["evidence"]["source"] == "call records"
    assert report["input"]["emf_documents"] >= 3
