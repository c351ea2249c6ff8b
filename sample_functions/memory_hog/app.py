"""ReportExport: builds a CSV export of N rows entirely in memory before returning it.

Memory grows with the row count; a large export passes the function's 128 MB and Lambda kills
the runtime (Runtime.OutOfMemory). The fix: stream the rows (to S3 multipart, or in pages)
instead of holding the whole export, or give the function more memory.
"""

from __future__ import annotations

from typing import Any

from lambda_trace import annotate, metric, segment, trace

COLUMNS = ("order_id", "customer_id", "sku", "quantity", "unit_price", "status", "notes")


@trace
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    rows = int(event.get("rows", 1000))
    annotate(rows=rows)
    with segment("build_export"):
        lines = [",".join(COLUMNS)]
        for i in range(rows):
            lines.append(
                f"o-{i:08d},c-{i % 997:04d},sku-{i % 5003:05d},{i % 7 + 1},{(i % 1000) / 10:.2f},"
                f"shipped,{'gift wrap please; leave at the door if nobody answers ' * 2}"
            )
        export = "\n".join(lines)
    metric("ExportRows", rows)
    return {"rows": rows, "bytes": len(export)}
