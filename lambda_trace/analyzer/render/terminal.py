"""The report for a terminal: rich tables, colour only on a TTY and never when NO_COLOR is set."""

from __future__ import annotations

import io
import json
import os
import shutil
from typing import Any, Optional, TextIO

from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from lambda_trace.analyzer.render import metrics_section
from lambda_trace.analyzer.render.common import (
    SEVERITY_LABELS,
    clean,
    evidence_items,
    fmt_count,
    fmt_ms,
    fmt_pct,
    footer_lines,
)

SEVERITY_STYLES = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}


def wants_color(file: TextIO) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return not os.environ.get("NO_COLOR") and _isatty(file)


def _isatty(file: TextIO) -> bool:
    isatty = getattr(file, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed file
        return False


def render_terminal(
    report: dict[str, Any], file: TextIO, *, color: Optional[bool] = None,
    width: Optional[int] = None, top: int = 15,
) -> None:
    if color is None:
        color = wants_color(file)
    if width is None:
        width = shutil.get_terminal_size((120, 40)).columns if _isatty(file) else 120
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        width=width,
        highlight=False,
        emoji=False,
        markup=False,
    )
    _print_report(console, report, top)
    text = buffer.getvalue()
    if not color:
        # rich pads every line to the width; piped output is better without the blanks.
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    file.write(text)


def _print_report(console: Console, report: dict[str, Any], top: int) -> None:
    tr = report.get("time_range") or {}
    title = Text("lambda-trace report", style="bold")
    if tr.get("start"):
        title.append(f"   {tr['start']} → {tr.get('end')}", style="dim")
    console.print(title)
    console.print(_summary(report))
    metrics_section.print_terminal(console, report)
    if report.get("dependencies"):
        console.print(_dependencies(report["dependencies"][:top]))
    console.print(Text("Findings", style="bold"))
    if not report.get("findings"):
        console.print(Padding(Text("Nothing to report."), (0, 0, 0, 2), expand=False))
    for finding in report.get("findings", []):
        _finding(console, finding)
    if report.get("error_groups"):
        console.print(_error_groups(report["error_groups"][:top]))
    if report.get("slowest_invocations"):
        console.print(_slowest(report["slowest_invocations"][:5]))
    for line in footer_lines(report):
        console.print(Text(line, style="dim"))


def _summary(report: dict[str, Any]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title="Invocations", title_justify="left",
                  title_style="bold")
    n = report.get("invocations") or 0
    d = report.get("duration_ms") or {}
    for header in ("invocations", "cold starts", "errors", "timeouts", "out of memory",
                   "p50", "p95", "p99", "max"):
        table.add_column(header, justify="right")

    def with_share(count: int) -> str:
        return f"{count:,} ({fmt_pct(count / n)})" if n and count else f"{count:,}"

    table.add_row(
        fmt_count(n), with_share(report.get("cold_starts", 0)),
        with_share(report.get("errors", 0)), with_share(report.get("timeouts", 0)),
        with_share(report.get("out_of_memory", 0)),
        fmt_ms(d.get("p50")), fmt_ms(d.get("p95")), fmt_ms(d.get("p99")), fmt_ms(d.get("max")),
    )
    return table


def _dependencies(deps: list[dict[str, Any]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title="Dependencies (by total time)",
                  title_justify="left", title_style="bold")
    table.add_column("name", overflow="fold")
    table.add_column("kind")
    for header in ("calls", "total", "share", "p50", "p95", "p99", "max", "errors"):
        table.add_column(header, justify="right")
    for dep in deps:
        table.add_row(
            Text(clean(dep["name"], 120)), Text(clean(dep.get("kind") or "")),
            fmt_count(dep["calls"]), fmt_ms(dep["total_ms"]), fmt_pct(dep.get("share")),
            fmt_ms(dep["p50_ms"]), fmt_ms(dep["p95_ms"]), fmt_ms(dep["p99_ms"]),
            fmt_ms(dep["max_ms"]), fmt_count(dep["errors"]),
        )
    return table


def _finding(console: Console, finding: dict[str, Any]) -> None:
    severity = finding.get("severity", "info")
    header = Text("  ")
    header.append(f"{SEVERITY_LABELS.get(severity, severity.upper()):<6}",
                  style=SEVERITY_STYLES.get(severity, ""))
    header.append(" ")
    header.append(finding["kind"], style="bold")
    header.append(" — " + clean(finding.get("subject"), 160))
    if finding.get("function"):
        header.append(" · function " + clean(finding["function"], 80))
    console.print(header)
    items = evidence_items(finding.get("evidence") or {})
    if items:
        line = "  ·  ".join(f"{key}: {text}" for key, text in items)
        console.print(Padding(Text(line, style="dim"), (0, 0, 0, 9), expand=False))
    policy = (finding.get("evidence") or {}).get("suggested_policy")
    if policy:
        # ensure_ascii escapes every control and non-ASCII character: safe on a terminal.
        body = json.dumps(policy, indent=2, ensure_ascii=True)
        console.print(Padding(Text("suggested IAM policy:\n" + body), (0, 0, 0, 9), expand=False))
    advice = Text("→ " + clean(finding.get("advice"), 4000))
    console.print(Padding(advice, (0, 0, 1, 9), expand=False))


def _error_groups(groups: list[dict[str, Any]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title="Errors", title_justify="left", title_style="bold")
    table.add_column("count", justify="right")
    table.add_column("error type", overflow="fold")
    table.add_column("top frame", overflow="fold")
    table.add_column("example request id", overflow="fold")
    table.add_column("message", overflow="fold")
    for g in groups:
        table.add_row(fmt_count(g["count"]), Text(clean(g["error_type"], 100)),
                      Text(clean(g.get("top_frame") or "", 100)),
                      Text(clean(g.get("example_request_id") or "", 60)),
                      Text(clean(g.get("message") or "", 160)))
    return table


def _slowest(rows: list[dict[str, Any]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title="Slowest invocations", title_justify="left",
                  title_style="bold")
    table.add_column("request id", no_wrap=True)
    table.add_column("start", no_wrap=True)
    table.add_column("duration", justify="right")
    table.add_column("status")
    table.add_column("calls", justify="right")
    table.add_column("slowest call", overflow="fold")
    for row in rows:
        calls = row.get("calls") or []
        slow = max(calls, key=lambda c: c["duration_ms"]) if calls else None
        slow_text = f"{clean(slow['name'], 80)} {fmt_ms(slow['duration_ms'])}" if slow else ""
        table.add_row(Text(clean(row.get("request_id"), 60)), row.get("start") or "",
                      fmt_ms(row.get("duration_ms")), row.get("status") or "",
                      fmt_count(len(calls) + (row.get("calls_not_shown") or 0)), Text(slow_text))
    return table
