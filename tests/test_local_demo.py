"""The demo's plans plant each sample's problem, and its check reads a function's report."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from clocks import ShiftedTime

from lambda_trace.analyzer.cli import main
from lambda_trace.local import demo, runner

SAMPLES = Path(__file__).resolve().parent.parent / "sample_functions"


def plans() -> dict[str, demo.Plan]:
    return {plan.function: plan for plan in demo.plans(SAMPLES, 24)}


def test_every_sample_gets_the_requested_number_of_events():
    """One plan per sample function, each with N events built from its event.json."""
    built = plans()
    assert set(built) == set(demo.SAMPLES) == set(demo.PLANTED)
    assert {len(plan.events) for plan in built.values()} == {24}


def test_the_planted_problems_are_in_the_events():
    """Slow SKUs, huge exports, empty invoices and growing customers appear on schedule."""
    built = plans()
    skus = [e["pathParameters"]["sku"] for e in built["PriceQuote"].events]
    assert sum(sku.startswith("slow-") for sku in skus) == 4
    rows = [e["rows"] for e in built["ReportExport"].events]
    assert rows.count(600_000) == 4 and max(r for r in rows if r != 600_000) < 50_000
    bodies = [json.loads(e["body"]) for e in built["InvoiceTotals"].events]
    assert sum(not b["lines"] for b in bodies) == 6
    customers = Counter(e["pathParameters"]["customerId"] for e in built["OrdersApi"].events)
    assert len(customers) > 10  # many customers, with 2 to 40 orders each
    keys = {e["Records"][0]["s3"]["object"]["key"] for e in built["Thumbnail"].events}
    assert keys == {
        "photos/bridge.jpg",
        "photos/garden.jpg",
        "photos/harbour.jpg",
        "photos/market.jpg",
    }


def test_check_finds_the_planted_kind_in_a_report():
    """check() is true when the function's report has a finding of its planted kind."""
    report = {"findings": [{"kind": "n_plus_one", "subject": "dynamodb.GetItem"}]}
    assert demo.check("OrdersApi", report) == (True, "n_plus_one — dynamodb.GetItem")
    named, line = demo.check("PriceQuote", report)
    assert not named and line == "expected timeout; the report has: n_plus_one"


def test_the_demo_exits_3_when_cloudwatch_refuses_its_logs(tmp_path: Path, capsys, monkeypatch):
    """Every event stamped 20 days ago is refused: the sink's line, the demo's, and exit 3."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setattr(runner, "time", ShiftedTime(-20 * 86_400))  # 20 days behind
    status = main(["demo", "-t", str(SAMPLES.parent / "template.yaml"), "-n", "1",
                   "--out", str(tmp_path)])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 3, err[-2000:]
    (sink_line,) = [line for line in err.splitlines() if "did not store" in line]
    lost = int(sink_line.split("did not store ")[1].split(" of ")[0])
    assert lost > 0 and f"{lost} of {lost} log events: {lost} older than 14 days" in sink_line
    assert f"demo: {lost} log events did not reach CloudWatch Logs" in err


def test_without_postgresql_the_demo_skips_orders_pg_in_one_line(tmp_path: Path, capsys,
                                                                 monkeypatch):
    """No initdb anywhere: OrdersPg is left out with one line; the rest runs and exits 0."""
    from lambda_trace.local import postgres

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setattr(postgres, "find_initdb", lambda search=postgres.DEBIAN_BIN: None)
    status = main(["demo", "-t", str(SAMPLES.parent / "template.yaml"), "-n", "1",
                   "--out", str(tmp_path)])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 0, err[-2000:]
    assert ("demo: OrdersPg skipped: PostgreSQL is not installed "
            "(scripts/ensure-db-servers installs it)") in err.splitlines()
    reported = {p.stem for p in (tmp_path / "functions").iterdir()}
    checked = {line.split()[2] for line in err.splitlines()
               if line.startswith(("demo: ok ", "demo: MISSING "))}
    assert "OrdersApi" in reported and "OrdersApi" in checked  # the others ran
    assert "OrdersPg" not in reported | checked


def test_the_orders_pg_events_walk_the_customers():
    """OrdersPg asks for schema.sql's customers c-1..c-20 (2 to 40 orders each)."""
    customers = {e["pathParameters"]["customerId"] for e in plans()["OrdersPg"].events}
    assert customers == {f"c-{n}" for n in range(1, 21)}
