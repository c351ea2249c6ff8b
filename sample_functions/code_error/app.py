"""InvoiceTotals: totals an invoice posted through API Gateway.

The planted problem: an invoice without lines divides by zero in ``average_line_value``: a plain
code error with a stack trace, on some requests only.
"""

from __future__ import annotations

import json
from typing import Any

from lambda_trace import annotate, trace


@trace
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    invoice = json.loads(event["body"]) if isinstance(event.get("body"), str) else event
    summary = summarize(invoice)
    annotate(lines=summary["lines"])
    return {"statusCode": 200, "body": json.dumps(summary)}


def summarize(invoice: dict[str, Any]) -> dict[str, Any]:
    lines = invoice.get("lines", [])
    subtotal = sum(line["quantity"] * line["unit_price"] for line in lines)
    return {
        "invoiceId": invoice.get("invoiceId"),
        "lines": len(lines),
        "subtotal": round(subtotal, 2),
        "averageLine": round(average_line_value(subtotal, lines), 2),
    }


def average_line_value(subtotal: float, lines: list[dict[str, Any]]) -> float:
    return subtotal / len(lines)  # the bug: an empty invoice raises ZeroDivisionError
