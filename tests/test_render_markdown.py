"""Specification of the Markdown report: valid tables, inert log content."""

from __future__ import annotations

import json
import re

from join_builders import realistic_events

from lambda_trace.analyzer.aggregate import aggregate_events
from lambda_trace.analyzer.findings import find_all
from lambda_trace.analyzer.model import make_event
from lambda_trace.analyzer.render.markdown import md, render_markdown
from lambda_trace.analyzer.report import report_from_aggregate


def render(events: list) -> str:
    agg, join_stats = aggregate_events(events)
    return render_markdown(report_from_aggregate(agg, find_all(agg), join_stats=join_stats))


def table_rows(text: str, header_start: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def cells(row: str) -> int:
    """Cells in a table row, not counting escaped pipes."""
    return len(re.split(r"(?<!\\)\|", row)) - 2


def test_report_has_summary_dependencies_and_findings() -> None:
    """The summary table, the dependency table and one section per finding are present."""
    text = render(realistic_events())
    assert text.startswith("# lambda-trace report")
    assert "## Dependencies" in text and "## Findings" in text
    assert "### LOW · n_plus_one · dynamodb.GetItem" in text
    deps = table_rows(text, "| name | kind |")
    assert len(deps) >= 4 and all(cells(r) == 10 for r in deps)


def test_hostile_text_keeps_tables_intact_and_html_inert() -> None:
    """Pipes, newlines and HTML in log text neither break a row nor become markup."""
    text = render(realistic_events(hostile=True))
    errors = table_rows(text, "| count | error type |")
    assert all(cells(r) == 5 for r in errors)
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;" in text
    assert "\x1b" not in text and "\u2028" not in text and "\u202e" not in text


def test_suggested_policy_is_a_json_block() -> None:
    """permission_denied carries its IAM statement as a fenced JSON block that parses."""
    denied = make_event("access_denied", request_id="a", log_stream="s", code="AccessDenied",
                        principal="arn:aws:sts::1:assumed-role/r/f", action="s3:GetObject",
                        resource="arn:aws:s3:::bucket/key")
    events = [make_event("start", request_id="a", log_stream="s"), denied,
              make_event("report", request_id="a", log_stream="s", duration_ms=5.0)]
    text = render(events)
    block = text.split("```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(block)["Statement"][0]["Action"] == "s3:GetObject"


def test_md_escapes_block_markers_at_the_start() -> None:
    """Text that would start a heading, a list or a numbered list is escaped."""
    assert md("# title", line_start=True) == "\\# title"
    assert md("- item", line_start=True) == "\\- item"
    assert md("1. item", line_start=True) == "1\\. item"
    assert md("1.5 ms") == "1.5 ms"
    assert md("a|b") == "a\\|b"
