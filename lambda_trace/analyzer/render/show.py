"""One invocation (``lambda-trace show``) for a terminal, never wider than it."""

from __future__ import annotations

from typing import Any, Optional, TextIO

from rich.cells import cell_len

from lambda_trace.analyzer.render.common import MISSING, clean, fmt_ms
from lambda_trace.analyzer.render.layout import pack, wrap
from lambda_trace.analyzer.render.terminal import Lines, lines_text, terminal_width, wants_color

#: the offset column, then the kind column, then the text
OFFSET_WIDTH = 10
KIND_WIDTH = 8

_KIND_STYLES = {"error": "bold red", "timeout": "bold red", "exit": "bold red",
                "denied": "bold red", "warning": "yellow", "log": "dim"}


def render_invocation(
    detail: dict[str, Any], file: TextIO, *, width: Optional[int] = None,
    color: Optional[bool] = None,
) -> None:
    lines = Lines(width or terminal_width(file))
    invocation_lines(lines, detail)
    file.write(lines_text(lines, wants_color(file) if color is None else color))


def invocation_lines(lines: Lines, detail: dict[str, Any]) -> None:
    width = lines.width
    lines.title("Invocation " + clean(detail.get("request_id"), 80))
    facts = [f"status: {clean(detail.get('status'))}"]
    if detail.get("start"):
        facts.append(f"start: {detail['start']}")
    if detail.get("log_stream"):
        facts.append(f"log stream: {clean(detail['log_stream'], 200)}")
    report = detail.get("report") or {}
    if report:
        facts.append(f"duration: {fmt_ms(report.get('duration_ms'))}")
        if report.get("billed_duration_ms") is not None:
            facts.append(f"billed: {fmt_ms(report['billed_duration_ms'])}")
        if report.get("max_memory_used_mb") is not None:
            facts.append(f"memory: {report['max_memory_used_mb']:g} of "
                         f"{report.get('memory_size_mb') or MISSING} MB")
        if report.get("init_duration_ms") is not None:
            facts.append(f"init: {fmt_ms(report['init_duration_ms'])} (cold start)")
        if report.get("xray_trace_id"):
            facts.append(f"X-Ray: {clean(report['xray_trace_id'], 80)}")
    else:
        facts.append("no REPORT line in the input")
    lines.many(pack(facts, width, 2))
    lines.blank()
    lines.title("Timeline (ms since START)")
    timeline = detail.get("timeline") or []
    if not timeline:
        lines.text("  nothing but the request id was found")
    for entry in timeline:
        _timeline_line(lines, entry)
    if detail.get("log_lines_not_shown"):
        lines.text(f"  … and {detail['log_lines_not_shown']:,} more log lines", "dim")
    for error in detail.get("errors") or []:
        lines.blank()
        lines.title("Error")
        lines.many(wrap(f"{clean(error.get('error_type'))}: {clean(error.get('message'), 1000)}",
                        width, 4, first_indent=2), "red")
        for frame in error.get("stack") or []:
            text = clean(frame, 400)
            # "File ..." lines at 4, the source line under each at 6 (however the log indented)
            depth = 4 if text[:1] != " " or len(text) - len(text.lstrip()) <= 2 else 6
            lines.many(wrap(text.strip(), width, depth + 2, first_indent=depth))
    lines.blank()


def _timeline_line(lines: Lines, entry: dict[str, Any]) -> None:
    offset = entry.get("offset_ms")
    at = MISSING if offset is None else f"{offset:,.1f}"
    kind = str(entry.get("type"))
    call = entry.get("call")
    if call:
        depth = int(call.get("depth") or 0)
        text = "  " * depth + clean(call.get("name"), 200)
        if call.get("kind"):
            text += f" ({clean(call['kind'])})"
        text += f"  {fmt_ms(call.get('duration_ms'))}"
        if call.get("status") and call["status"] != "ok":
            text += f"  {clean(call['status'])}"
            if call.get("error_class"):
                text += f" {clean(call['error_class'])}"
        if call.get("retries"):
            text += f"  {call['retries']} retries"
        style = "red" if call.get("status") == "error" else ""
    else:
        text = clean(entry.get("text"), 400)
        style = _KIND_STYLES.get(kind, "")
    lead = f"{at:>{OFFSET_WIDTH}}  {kind:<{KIND_WIDTH}}"
    body_indent = cell_len(lead) + 1
    first, *rest = wrap(lead + " " + text, lines.width, body_indent, first_indent=0)
    lines.text(first, style)
    lines.many(rest, style)
