"""The report for a terminal: never wider than it, colour only on a TTY and never with NO_COLOR.

Tables are drawn as columns when they fit the width and as stacked ``key: value`` rows when they
do not (:mod:`layout`); request ids and ARNs are never split across lines.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Optional, TextIO

from rich.console import Console
from rich.text import Text

from lambda_trace.analyzer.render import metrics_section, tables
from lambda_trace.analyzer.render.common import SEVERITY_LABELS, clean, footer_lines
from lambda_trace.analyzer.render.evidence import describe
from lambda_trace.analyzer.render.layout import grid, pack, wrap

if TYPE_CHECKING:
    from lambda_trace.analyzer.report import Report

SEVERITY_STYLES = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
#: when the width is unknown (not a terminal and no COLUMNS)
DEFAULT_WIDTH = 120
#: narrower than this and nothing is readable; the layout assumes at least this much
MIN_WIDTH = 40
#: findings' text starts here, under the severity label
BODY_INDENT = 9


def wants_color(file: TextIO) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return not os.environ.get("NO_COLOR") and _isatty(file)


def _isatty(file: TextIO) -> bool:
    isatty = getattr(file, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed file
        return False


def terminal_width(file: TextIO) -> int:
    """The terminal's width; ``COLUMNS`` when it is not a terminal (or says so), else 120."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), MIN_WIDTH)
    if _isatty(file):
        return max(shutil.get_terminal_size((DEFAULT_WIDTH, 40)).columns, MIN_WIDTH)
    return DEFAULT_WIDTH


class Lines:
    """The report as lines of styled text, each at most ``width`` cells wide."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.items: list[Text] = []

    def text(self, line: str, style: str = "") -> None:
        self.items.append(Text(line, style=style))

    def styled(self, text: Text) -> None:
        self.items.append(text)

    def many(self, lines: Sequence[str], style: str = "") -> None:
        for line in lines:
            self.text(line, style)

    def blank(self) -> None:
        if self.items and self.items[-1].plain:
            self.items.append(Text(""))

    def title(self, title: str) -> None:
        self.text(title, "bold")

    def table(self, table: tables.Table, indent: int = 2, heading: Optional[int] = 0) -> None:
        headers, rows, numeric = table
        self.many(grid(headers, rows, numeric, self.width, indent=indent, heading=heading))


def render_terminal(
    report: Report, *, color: bool = False, width: int = DEFAULT_WIDTH, top: int = 15,
) -> str:
    """The report as lines at most ``width`` wide; ANSI colours only with ``color`` (the caller
    decides for its file: :func:`wants_color`, :func:`terminal_width`)."""
    lines = Lines(max(width, MIN_WIDTH))
    report_lines(lines, report.document, top)
    return lines_text(lines, color)


def lines_text(lines: Lines, color: bool) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=color, no_color=not color,
        color_system="standard" if color else None, width=lines.width, highlight=False,
        emoji=False, markup=False,
    )
    for text in lines.items:
        # The lines are already laid out to the width: rich must neither wrap nor pad them.
        console.print(text, soft_wrap=True)
    return buffer.getvalue()


def report_lines(lines: Lines, report: Mapping[str, Any], top: int) -> None:
    tr = report.get("time_range") or {}
    head = Text("lambda-trace report", style="bold")
    if tr.get("start"):
        span = f"{tr['start']} → {tr.get('end')}"
        if len(head.plain) + 3 + len(span) <= lines.width:
            head.append("   " + span, style="dim")
            lines.styled(head)
        else:
            lines.styled(head)
            lines.text(span, "dim")
    else:
        lines.styled(head)
    lines.blank()
    lines.title("Invocations")
    lines.table(tables.summary_table(report), heading=None)
    by_function = tables.functions_table(report)
    if by_function:
        lines.blank()
        lines.title("By function")
        lines.table(by_function)
    render_metrics(lines, report)
    if report.get("dependencies"):
        lines.blank()
        lines.title("Dependencies (by total time)")
        lines.table(tables.dependencies_table(report["dependencies"][:top]))
    lines.blank()
    lines.title("Findings")
    findings = report.get("findings") or []
    if not findings:
        lines.text("  Nothing to report.")
    for finding in findings:
        finding_lines(lines, finding)
    if report.get("error_groups"):
        lines.blank()
        lines.title("Errors")
        lines.table(tables.error_groups_table(report["error_groups"][:top]),
                    heading=tables.ERROR_GROUPS_HEADING)
    slowest = report.get("slowest_invocations") or []
    if slowest:
        lines.blank()
        lines.title("Slowest invocations")
        with_function = any(row.get("function") for row in slowest)
        lines.table(tables.slowest_table(slowest[:5], with_function))
    footer = footer_lines(report)
    if footer:
        lines.blank()
    for line in footer:
        lines.many(wrap(line, lines.width, 2, first_indent=0), "dim")


def render_metrics(lines: Lines, report: Mapping[str, Any]) -> None:
    """The ``metrics`` section (CloudWatch metrics per function); nothing when it is absent."""
    table = tables.metrics_table(report)
    if table is None:
        return
    lines.blank()
    lines.title(metrics_section.title(report))
    lines.table(table)
    for line in metrics_section.extras(report):
        lines.many(wrap(line, lines.width, 4, first_indent=2), "dim")


def finding_lines(lines: Lines, finding: Mapping[str, Any]) -> None:
    width = lines.width
    severity = str(finding.get("severity", "info"))
    label = SEVERITY_LABELS.get(severity, severity.upper())
    subject = clean(finding.get("subject"), 300)
    head_words = f"{finding.get('kind')} — {subject}"
    header = Text("  ")
    header.append(f"{label:<6}", style=SEVERITY_STYLES.get(severity, ""))
    header.append(" ")
    first, *rest = wrap(head_words, width, BODY_INDENT, first_indent=BODY_INDENT)
    kind = str(finding.get("kind"))
    body = first[BODY_INDENT:]
    if body.startswith(kind):
        header.append(kind, style="bold")
        header.append(body[len(kind):])
    else:
        header.append(body)
    lines.styled(header)
    lines.many(rest)
    if finding.get("function"):
        lines.many(wrap(f"function: {clean(finding['function'], 200)}", width, BODY_INDENT + 2,
                        first_indent=BODY_INDENT), "dim")
    view = describe(finding)
    if view.sentence:
        lines.many(wrap(view.sentence, width, BODY_INDENT))
    items = [f"{key}: {value}" for key, value in view.facts]
    if items:
        lines.many(pack(items, width, BODY_INDENT), "dim")
    for table in view.tables:
        lines.text(" " * BODY_INDENT + table.title + ":")
        lines.many(grid(table.headers, table.rows, table.numeric, width, indent=BODY_INDENT + 2))
    policy = (finding.get("evidence") or {}).get("suggested_policy")
    if policy:
        lines.text(" " * BODY_INDENT + "suggested IAM policy:")
        # ensure_ascii escapes every control and non-ASCII character: safe on a terminal.
        body_lines = json.dumps(policy, indent=2, ensure_ascii=True).splitlines()
        for line in body_lines:
            depth = len(line) - len(line.lstrip())
            lines.many(wrap(line.lstrip(), width, BODY_INDENT + depth + 2,
                            first_indent=BODY_INDENT + depth))
    lines.many(wrap("→ " + clean(finding.get("advice"), 4000), width, BODY_INDENT + 2,
                    first_indent=BODY_INDENT))
    lines.blank()
