"""The report's tables as headers and text cells, shared by the terminal, Markdown and HTML.

Each function returns ``(headers, rows, numeric)``; cells are already formatted (units,
percentages) and cleaned of control characters, but not escaped for any markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Optional

from lambda_trace.analyzer.render import metrics_section
from lambda_trace.analyzer.render.common import MISSING, clean, fmt_count, fmt_ms, fmt_pct

Table = tuple[list[str], list[list[str]], list[bool]]

SUMMARY_HEADERS = ["invocations", "cold starts", "errors", "timeouts", "out of memory",
                   "p50", "p95", "p99", "max"]


def share(count: Any, n: Any) -> str:
    count = int(count or 0)
    return f"{count:,} ({fmt_pct(count / n)})" if n and count else f"{count:,}"


def summary_cells(summary: Mapping[str, Any]) -> list[str]:
    """The summary row of a report (or of one function's summary, the same shape)."""
    n = summary.get("invocations") or 0
    d = summary.get("duration_ms") or {}
    return [
        fmt_count(n), share(summary.get("cold_starts"), n), share(summary.get("errors"), n),
        share(summary.get("timeouts"), n), share(summary.get("out_of_memory"), n),
        fmt_ms(d.get("p50")), fmt_ms(d.get("p95")), fmt_ms(d.get("p99")), fmt_ms(d.get("max")),
    ]


def summary_table(report: Mapping[str, Any]) -> Table:
    return SUMMARY_HEADERS, [summary_cells(report)], [True] * len(SUMMARY_HEADERS)


def functions_table(report: Mapping[str, Any]) -> Optional[Table]:
    """One summary row per function, when the report covers more than one."""
    functions = report.get("functions")
    if not isinstance(functions, dict) or len(functions) < 2:
        return None
    rows = [
        [clean(name, 140), *summary_cells((entry or {}).get("summary") or {})]
        for name, entry in functions.items()
    ]
    return ["function", *SUMMARY_HEADERS], rows, [False] + [True] * len(SUMMARY_HEADERS)


DEPENDENCY_HEADERS = ["name", "kind", "calls", "total", "share", "p50", "p95", "p99", "max",
                      "errors"]


def dependencies_table(deps: Sequence[Mapping[str, Any]]) -> Table:
    rows = [
        [clean(d.get("name"), 200), clean(d.get("kind") or ""), fmt_count(d.get("calls")),
         fmt_ms(d.get("total_ms")), fmt_pct(d.get("share")), fmt_ms(d.get("p50_ms")),
         fmt_ms(d.get("p95_ms")), fmt_ms(d.get("p99_ms")), fmt_ms(d.get("max_ms")),
         fmt_count(d.get("errors"))]
        for d in deps
    ]
    return DEPENDENCY_HEADERS, rows, [False, False] + [True] * 8


def error_groups_table(groups: Sequence[Mapping[str, Any]]) -> Table:
    headers = ["count", "error type", "top frame", "example request id", "message"]
    rows = [
        [fmt_count(g.get("count")), clean(g.get("error_type"), 160),
         clean(g.get("top_frame") or "", 160), clean(g.get("example_request_id") or "", 80),
         clean(g.get("message") or "", 300)]
        for g in groups
    ]
    return headers, rows, [True, False, False, False, False]

#: the column that heads a stacked row of the error table
ERROR_GROUPS_HEADING = 1


def slowest_call(row: Mapping[str, Any]) -> str:
    """The call that made an invocation slow: the one in flight at a timeout, else the longest."""
    in_flight = row.get("in_flight")
    if isinstance(in_flight, dict) and in_flight.get("name"):
        running = in_flight.get("running_ms")
        text = f"{clean(in_flight['name'], 160)} (in flight"
        return text + (f", {fmt_ms(running)} so far)" if running is not None else ")")
    calls = [c for c in row.get("calls") or [] if c.get("duration_ms") is not None]
    if not calls:
        return ""
    slow = max(calls, key=lambda c: c["duration_ms"])
    return f"{clean(slow.get('name'), 160)} {fmt_ms(slow['duration_ms'])}"


def slowest_table(rows: Sequence[Mapping[str, Any]], with_function: bool = False) -> Table:
    headers = ["request id", "start", "duration", "status", "calls", "slowest call"]
    numeric = [False, False, True, False, True, False]
    if with_function:
        headers.insert(1, "function")
        numeric.insert(1, False)
    body = []
    for row in rows:
        calls = len(row.get("calls") or []) + int(row.get("calls_not_shown") or 0)
        cells = [clean(row.get("request_id") or MISSING, 80), clean(row.get("start") or MISSING),
                 fmt_ms(row.get("duration_ms")), clean(row.get("status") or MISSING),
                 fmt_count(calls), slowest_call(row)]
        if with_function:
            cells.insert(1, clean(row.get("function") or MISSING, 140))
        body.append(cells)
    return headers, body, numeric


def metrics_table(report: Mapping[str, Any]) -> Optional[Table]:
    """CloudWatch metrics per function (the ``metrics`` section), or None when absent: the
    columns some function has values for, the last a sparkline of invocations per period."""
    table_rows = metrics_section.rows(report)
    if not table_rows:
        return None
    keep = metrics_section.shown_columns(table_rows)
    last = len(metrics_section.COLUMNS) - 1
    headers = [metrics_section.COLUMNS[i] for i in keep]
    return headers, [[row[i] for i in keep] for row in table_rows], [0 < i < last for i in keep]


