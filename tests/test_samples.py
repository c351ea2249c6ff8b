"""Each sample function runs under the local runner against moto and shows its planted problem.

The functions run with their template roles' credentials and IAM enforced, through the genuine
runtime, with lambda-trace's @trace active (its records appear in the logs).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_trace.local.runner import InvokeResult
from lambda_trace.local.world import LocalWorld

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_functions"


@pytest.fixture(scope="module")
def world(moto_server) -> Iterator[LocalWorld]:
    """The sample template provisioned and seeded in the session's moto server."""
    moto_server.reset()
    with LocalWorld(
        ROOT / "template.yaml", endpoint_url=moto_server.endpoint, provision=True
    ) as local:
        yield local
    moto_server.reset()


def event(sample: str, **changes: Any) -> Any:
    data = json.loads((SAMPLES / sample / "event.json").read_text())
    data.update(changes)
    return data


def records(result: InvokeResult, type_: str) -> list[dict[str, Any]]:
    """lambda-trace's own records of one type among the invocation's log lines."""
    out = []
    for log in result.logs:
        if log.message.startswith('{"lambda_trace"'):
            record = json.loads(log.message)
            if record["type"] == type_:
                out.append(record)
    return out


def invoke(world: LocalWorld, function: str, *events: Any) -> list[InvokeResult]:
    """Each event in turn; every call gets its line (the default writes them only for the
    invocations that matter, and these tests read the calls of ordinary ones)."""
    with world.runner(function, extra_env={"LAMBDA_TRACE_CALL_LINES": "all"}) as runner:
        return [runner.invoke(e) for e in events]


def test_thumbnail_resizes_an_uploaded_photo(world: LocalWorld):
    """Thumbnail reads the photo, resizes it in a traced segment and writes a half-size JPEG."""
    from PIL import Image

    (result,) = invoke(world, "Thumbnail", event("thumbnail"))
    assert result.outcome == "success", result.payload
    assert result.response() == {"thumbnails": ["thumbnails/harbour.jpg"]}
    body = (
        world.client("s3")
        .get_object(Bucket="lambda-trace-thumbnails-123456789012", Key="thumbnails/harbour.jpg")[
            "Body"
        ]
        .read()
    )
    assert Image.open(io.BytesIO(body)).size == (1200, 800)
    names = [c["name"] for c in records(result, "call")]
    assert names == ["s3.GetObject", "resize", "s3.PutObject"]
    (summary,) = records(result, "invocation")
    assert summary["cold_start"] is True


def test_orders_api_reads_each_order_with_its_own_get_item(world: LocalWorld):
    """OrdersApi makes one Query and then one GetItem per order: N+1."""
    (result,) = invoke(world, "OrdersApi", event("orders_api"))
    assert result.outcome == "success", result.payload
    body = json.loads(result.response()["body"])
    assert body["customerId"] == "c-0012" and len(body["orders"]) == 12
    names = [c["name"] for c in records(result, "call")]
    assert names == ["dynamodb.Query"] + ["dynamodb.GetItem"] * 12
    platform = [
        json.loads(m.message)["type"] for m in result.logs if m.message.startswith('{"time"')
    ]
    assert "platform.report" in platform  # OrdersApi logs in JSON format


def test_price_quote_times_out_with_the_http_call_in_flight(world: LocalWorld):
    """A fast quote succeeds; a slow one is killed at 3 s while the GET is still running."""
    assert world.price_service is not None
    fast, slow = invoke(
        world,
        "PriceQuote",
        event("slow_dependency"),
        event("slow_dependency", pathParameters={"sku": "slow-1"}),
    )
    assert fast.outcome == "success", fast.payload
    assert json.loads(fast.response()["body"])["quote"]["sku"] == "sku-1001"
    assert slow.outcome == "timeout"
    (warning,) = records(slow, "timeout_warning")
    assert [f["name"] for f in warning["in_flight"]] == ["http GET 127.0.0.1/"]
    assert slow.logs[-1].message.endswith("Task timed out after 3.00 seconds\n")


def test_report_export_runs_out_of_memory_on_a_large_export(world: LocalWorld):
    """A small export fits in 128 MB; the sample event's 600,000 rows do not."""
    small, large = invoke(world, "ReportExport", {"rows": 1000}, event("memory_hog"))
    assert small.outcome == "success" and small.response()["rows"] == 1000
    assert large.outcome == "out_of_memory" and large.max_memory_used_mb == 128
    report = json.loads(large.logs[-1].message)
    assert report["record"]["errorType"] == "Runtime.OutOfMemory"


def test_receipt_archiver_is_denied_the_put_object(world: LocalWorld):
    """The role can read the receipt but not write the archive: a real AccessDenied."""
    (result,) = invoke(world, "ReceiptArchiver", event("permission_denied"))
    assert result.outcome == "error" and result.error_type == "AccessDenied"
    calls = {c["name"]: c for c in records(result, "call")}
    assert calls["s3.GetObject"]["status"] == "ok"
    assert calls["s3.PutObject"]["status"] == "error"
    assert calls["s3.PutObject"]["error_class"] == "permission_denied"
    archived = world.client("s3").list_objects_v2(Bucket="lambda-trace-archive-123456789012")
    assert archived.get("KeyCount", 0) == 0


def test_invoice_totals_fails_on_an_empty_invoice(world: LocalWorld):
    """A valid invoice is totalled; the sample event (no lines) raises ZeroDivisionError."""
    good = event(
        "code_error",
        body=json.dumps({"invoiceId": "inv-1", "lines": [{"quantity": 2, "unit_price": 5.0}]}),
    )
    ok, failed = invoke(world, "InvoiceTotals", good, event("code_error"))
    assert json.loads(ok.response()["body"])["subtotal"] == 10.0
    assert failed.outcome == "error" and failed.error_type == "ZeroDivisionError"
    assert "in average_line_value" in failed.response()["stackTrace"][-1]
    (summary,) = records(failed, "invocation")
    assert summary["status"] == "error" and summary["error_type"] == "ZeroDivisionError"
