"""The demo's invocations: each sample function, many times, with its planted problem.

Events are built from each sample's ``event.json`` and vary deterministically, so every run
plants the same problems: customers with more and more orders (N+1), some slow price lookups
(timeouts), some huge exports (out of memory), empty invoices (code error), and receipts the
archiver is not allowed to write (permission denied).
"""

from __future__ import annotations

import copy
import json
import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from lambda_trace.local.logsink import LogSink
from lambda_trace.local.runner import InvokeResult
from lambda_trace.local.seed import CUSTOMERS, PHOTOS, RECEIPTS, customer_id
from lambda_trace.local.world import LocalWorld


@dataclass(frozen=True)
class Plan:
    """The invocations of one sample function and what the report should say about them."""

    function: str
    sample: str
    events: list[Any]
    expected: str


#: logical id -> the finding kind its own report must contain (the planted problem)
PLANTED = {
    "Thumbnail": "cold_start",
    "OrdersApi": "n_plus_one",
    "OrdersPg": "n_plus_one",
    "PriceQuote": "timeout",
    "ReportExport": "out_of_memory",
    "ReceiptArchiver": "permission_denied",
    "InvoiceTotals": "code_error",
}

#: logical id -> (sample directory, what the report should name)
SAMPLES = {
    "Thumbnail": ("thumbnail", "cold_start (Pillow and boto3 at init); resize segment dominates"),
    "OrdersApi": ("orders_api", "n_plus_one: sequential dynamodb.GetItem, latency rising"),
    "OrdersPg": ("orders_pg", "n_plus_one: a SELECT order_items per order; the slow order_lines "
                              "total (PostgreSQL)"),
    "PriceQuote": ("slow_dependency", "timeout with the http GET 127.0.0.1/ call in flight"),
    "ReportExport": ("memory_hog", "out_of_memory (Runtime.OutOfMemory at 128 MB)"),
    "ReceiptArchiver": ("permission_denied", "permission_denied: s3:PutObject on the archive"),
    "InvoiceTotals": ("code_error", "code_error: ZeroDivisionError in average_line_value"),
}


#: samples that need a PostgreSQL server (the demo skips them, saying so, without one)
NEEDS_POSTGRES = frozenset({"OrdersPg"})
#: OrdersPg's database on the demo's server, made from the sample's schema.sql
ORDERS_PG_DATABASE = "orders"


def plans(samples_dir: Path, invocations: int, skip: frozenset[str] = frozenset()) -> list[Plan]:
    """One plan per sample but ``skip``, ``invocations`` events each (PriceQuote's timeouts
    cost 3 s each)."""
    builders: dict[str, Callable[[Any, int], Any]] = {
        "Thumbnail": _photo_event,
        "OrdersApi": _orders_event,
        "OrdersPg": _orders_pg_event,
        "PriceQuote": _quote_event,
        "ReportExport": _export_event,
        "ReceiptArchiver": _receipt_event,
        "InvoiceTotals": _invoice_event,
    }
    out = []
    for function, (sample, expected) in SAMPLES.items():
        if function in skip:
            continue
        base = json.loads((samples_dir / sample / "event.json").read_text(encoding="utf-8"))
        events = [builders[function](copy.deepcopy(base), i) for i in range(invocations)]
        out.append(Plan(function, sample, events, expected))
    return out


def _photo_event(event: Any, i: int) -> Any:
    keys = sorted(PHOTOS)
    event["Records"][0]["s3"]["object"]["key"] = keys[i % len(keys)]
    return event


def _orders_event(event: Any, i: int) -> Any:
    # Customers with more and more orders: the N+1 loop's latency grows with them.
    customer = customer_id(2 + (i * 3) % (CUSTOMERS - 1))
    event["pathParameters"]["customerId"] = customer
    event["path"] = f"/customers/{customer}/orders"
    return event


def _orders_pg_event(event: Any, i: int) -> Any:
    # schema.sql's customers c-1..c-20 have 2..40 orders: one items query per order.
    customer = f"c-{1 + (i * 7) % 20}"
    event["pathParameters"]["customerId"] = customer
    event["path"] = f"/customers/{customer}/orders-pg"
    return event


def _quote_event(event: Any, i: int) -> Any:
    # Every sixth SKU hits the price service's slow path (5 s, past the 3 s timeout).
    sku = f"slow-{1000 + i}" if i % 6 == 5 else f"sku-{1000 + i}"
    event["pathParameters"]["sku"] = sku
    event["path"] = f"/quotes/{sku}"
    return event


def _export_event(event: Any, i: int) -> Any:
    # Every sixth export is far larger than 128 MB can hold; the rest fit.
    event["rows"] = 600_000 if i % 6 == 5 else 5_000 + (i * 7_919) % 40_000
    return event


def _receipt_event(event: Any, i: int) -> Any:
    event["Records"][0]["s3"]["object"]["key"] = f"receipts/r-{i % RECEIPTS + 1:04d}.json"
    return event


def _invoice_event(event: Any, i: int) -> Any:
    # Every fourth invoice has no lines: ZeroDivisionError.
    lines = (
        []
        if i % 4 == 3
        else [
            {"sku": f"sku-{n}", "quantity": n % 3 + 1, "unit_price": 4.5 + n}
            for n in range(1 + i % 5)
        ]
    )
    event["body"] = json.dumps({"invoiceId": f"inv-{i:04d}", "lines": lines})
    return event


def run(
    world: LocalWorld,
    plan_list: Sequence[Plan],
    sinks: Sequence[LogSink],
    *,
    workers: int = 3,
    progress: Optional[Callable[[str, int, InvokeResult], None]] = None,
) -> dict[str, Counter[str]]:
    """Run every plan (functions in parallel, each one's invocations in order); count outcomes."""
    outcomes: dict[str, Counter[str]] = {plan.function: Counter() for plan in plan_list}
    lock = threading.Lock()

    def run_plan(plan: Plan) -> None:
        with world.runner(plan.function, sinks=sinks) as runner:
            for i, event in enumerate(plan.events, 1):
                result = runner.invoke(event)
                with lock:
                    outcomes[plan.function][result.outcome] += 1
                    if progress is not None:
                        progress(plan.function, i, result)

    # The slowest plans first, so they overlap with the quick ones.
    order = sorted(plan_list, key=lambda p: p.function not in ("PriceQuote", "ReportExport"))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="demo") as pool:
        for future in [pool.submit(run_plan, plan) for plan in order]:
            future.result()
    return outcomes


def check(function: str, report: dict[str, Any]) -> tuple[bool, str]:
    """Whether a function's own report names its planted problem, and the finding's line."""
    kind = PLANTED[function]
    for finding in report.get("findings") or []:
        if finding.get("kind") == kind:
            return True, f"{kind} — {finding.get('subject')}"
    found = ", ".join(sorted({str(f.get("kind")) for f in report.get("findings") or []}))
    return False, f"expected {kind}; the report has: {found or 'no findings'}"
