"""``lambda-trace demo`` (what ``make demo`` runs) names every planted problem, from CloudWatch.

One real run as a user starts it: a subprocess with an embedded moto server, the genuine runtime,
the logs written into moto's CloudWatch Logs and read back by ``lambda-trace analyze``.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FAILURES = {"timeout", "out_of_memory", "permission_denied", "code_error", "init_failure"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Run the demo once per test session, even when pytest-xdist splits these tests."""
    # Under pytest-xdist each worker's basetemp sits in the session's directory, which all the
    # workers share; without xdist the basetemp itself is the session's (its parent is shared by
    # every past session, and would hand back an old run).
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = shared / "demo"
    with open(shared / "demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "stderr.txt").exists():
            env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
            done = subprocess.run(
                [sys.executable, "-m", "lambda_trace", "demo", "--out", str(out)],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert done.returncode == 0, done.stderr[-3000:]
            (out / "stderr.txt").write_text(done.stderr)
    return out, (out / "stderr.txt").read_text()


def report(out: Path, function: str) -> dict[str, Any]:
    return json.loads((out / "functions" / f"{function}.json").read_text())


def findings(out: Path, function: str, kind: str) -> list[dict[str, Any]]:
    return [f for f in report(out, function)["findings"] if f["kind"] == kind]


def kinds(out: Path, function: str) -> set[str]:
    return {f["kind"] for f in report(out, function)["findings"]}


def test_orders_api_is_reported_as_n_plus_one(demo_run):
    """OrdersApi: N+1 on dynamodb.GetItem, dozens of sequential calls, and no failure."""
    out, _ = demo_run
    (finding,) = findings(out, "OrdersApi", "n_plus_one")
    assert finding["subject"] == "dynamodb.GetItem"
    assert finding["evidence"]["max_sequential_calls"] >= 30
    assert not kinds(out, "OrdersApi") & FAILURES


def test_orders_pg_names_its_n_plus_one_and_its_slow_query(demo_run):
    """OrdersPg on the demo's own PostgreSQL: one SELECT order_items per order (N+1) and the
    unindexed order_lines total as the slowest dependency; no failure."""
    out, err = demo_run
    assert "PostgreSQL at 127.0.0.1:" in err
    (n_plus_one,) = findings(out, "OrdersPg", "n_plus_one")
    assert n_plus_one["subject"] == "postgresql SELECT order_items"
    assert n_plus_one["evidence"]["max_sequential_calls"] >= 30
    (slow,) = findings(out, "OrdersPg", "slow_dependency")
    assert slow["subject"] == "postgresql SELECT order_lines"
    assert slow["evidence"]["kind"] == "db"
    assert not kinds(out, "OrdersPg") & FAILURES


def test_price_quote_times_out_with_the_http_call_in_flight(demo_run):
    """PriceQuote: every timeout happened during the GET to the (loopback) price service."""
    out, _ = demo_run
    (finding,) = findings(out, "PriceQuote", "timeout")
    evidence = finding["evidence"]
    assert evidence["timeouts"] == 4 and evidence["with_in_flight_calls"] == 4
    assert [c["calls"] for c in evidence["in_flight"]] == ["http GET 127.0.0.1/"]
    assert kinds(out, "PriceQuote") & FAILURES == {"timeout"}


def test_report_export_runs_out_of_memory(demo_run):
    """ReportExport: out_of_memory at 128 MB, four times."""
    out, _ = demo_run
    (finding,) = findings(out, "ReportExport", "out_of_memory")
    assert finding["evidence"]["out_of_memory"] == 4
    assert finding["evidence"]["memory_size_mb"] == [128]


def test_receipt_archiver_is_denied_s3_put_object(demo_run):
    """ReceiptArchiver: permission_denied naming the action s3:PutObject."""
    out, _ = demo_run
    (finding,) = findings(out, "ReceiptArchiver", "permission_denied")
    denied = finding["evidence"]["denied"]
    # one denial: the log's bare "Access Denied" and the call record are the same call
    assert [d["action"] for d in denied] == ["s3:PutObject"]
    resource = denied[0]["resource"]
    assert resource.startswith("arn:aws:s3:::") and resource.endswith("/*")
    statement = finding["evidence"]["suggested_policy"]["Statement"]
    assert [s["Action"] for s in statement] == ["s3:PutObject"]
    assert not findings(out, "ReceiptArchiver", "code_error")


def test_invoice_totals_has_a_code_error(demo_run):
    """InvoiceTotals: code_error ZeroDivisionError in average_line_value, 6 of 24 invocations."""
    out, _ = demo_run
    (finding,) = findings(out, "InvoiceTotals", "code_error")
    assert finding["evidence"]["error_type"] == "ZeroDivisionError"
    assert "average_line_value" in finding["evidence"]["top_frame"]
    assert finding["evidence"]["count"] == 6


def test_thumbnail_shows_its_cold_start_and_no_failure(demo_run):
    """Thumbnail: the heavy init (Pillow, boto3) is a cold_start finding; nothing failed."""
    out, _ = demo_run
    assert "cold_start" in kinds(out, "Thumbnail")
    assert not kinds(out, "Thumbnail") & FAILURES
    dependencies = report(out, "Thumbnail")["dependencies"]
    assert {d["name"] for d in dependencies} >= {"resize", "s3.GetObject", "s3.PutObject"}


def test_the_combined_report_html_and_logs_are_written(demo_run):
    """report.json covers all 168 invocations; report.html and logs.jsonl exist; all named."""
    out, stderr = demo_run
    combined = json.loads((out / "report.json").read_text())
    assert combined["invocations"] == 168  # 7 functions x 24 (the unwired one is never run)
    assert (combined["timeouts"], combined["out_of_memory"]) == (4, 4)
    assert "<html" in (out / "report.html").read_text()[:2000].lower()
    events = (out / "logs.jsonl").read_text().splitlines()
    assert len(events) > 1000
    assert "demo: MISSING" not in stderr
    assert stderr.count("demo: ok ") == 8
    # every function's Lambda metrics, from the same run
    assert {name: m["Invocations"]["sum"] for name, m in combined["metrics"].items()} == {
        **{f"lambda-trace-{n}": 24.0 for n in ("thumbnail", "orders-api", "orders-pg",
                                                "price-quote", "report-export",
                                                "receipt-archiver", "invoice-totals")},
        "lambda-trace-thumbnail-unwired": 0.0,
    }


def test_the_unwired_thumbnail_names_its_missing_invoke_permission(demo_run):
    """The seed's scenario: the bucket notifies the variant, its resource policy lets no S3 in."""
    out, stderr = demo_run
    data = report(out, "ThumbnailUnwired")
    (finding,) = [f for f in data["findings"] if f["kind"] == "not_invoked"]
    bucket = "lambda-trace-uploads-123456789012"
    assert finding["function"] == "lambda-trace-thumbnail-unwired"
    assert finding["subject"] == f"s3://{bucket} → lambda-trace-thumbnail-unwired"
    assert finding["evidence"]["prefix"] == "incoming/"
    assert finding["evidence"]["command"] == (
        "aws lambda add-permission --function-name lambda-trace-thumbnail-unwired "
        f"--statement-id s3-{bucket} --action lambda:InvokeFunction "
        f"--principal s3.amazonaws.com --source-arn arn:aws:s3:::{bucket} "
        "--source-account 123456789012"
    )
    assert data["metrics"]["lambda-trace-thumbnail-unwired"]["Invocations"] == {"sum": 0.0}
    assert data["input"]["sources"]["missing_log_groups"] == [
        "/aws/lambda/lambda-trace-thumbnail-unwired"]
    assert "demo: ok      ThumbnailUnwired not_invoked" in stderr
    # the wired Thumbnail on the same bucket has its permission (SAM's, SourceAccount only)
    assert not findings(out, "Thumbnail", "not_invoked")
