"""The report as GitHub-flavoured Markdown (a CI job summary, a pull-request comment)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lambda_trace.analyzer.render import metrics_section, tables
from lambda_trace.analyzer.render.common import SEVERITY_LABELS, clean, footer_lines
from lambda_trace.analyzer.render.evidence import describe

if TYPE_CHECKING:
    from lambda_trace.analyzer.report import Report

# Characters that Markdown (or the HTML it may carry) would interpret.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_LIST_NUMBER = re.compile(r"^(\d+)([.)])")
_KIND = re.compile(r"^[a-z][a-z0-9_]*$")


def md(value: Any, limit: int = 300, *, line_start: bool = False) -> str:
    """Untrusted text as inert Markdown: escaped punctuation and HTML, no line breaks.

    ``line_start``: the text begins a line, where ``#``, ``-``, ``+``, ``=`` or ``1.`` would
    make a heading, a list or a rule.
    """
    text = clean(value, limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    if not line_start:
        return text
    if text[:1] in ("#", "-", "+", "="):
        text = "\\" + text
    return _LIST_NUMBER.sub(r"\1\\\2", text, count=1)


def md_table(table: tables.Table) -> str:
    """A GitHub table; every cell escaped, so a pipe in log text cannot add a column."""
    headers, rows, numeric = table
    out = ["| " + " | ".join(md(h) for h in headers) + " |",
           "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    out.extend("| " + " | ".join(md(cell, 400) for cell in row) + " |" for row in rows)
    return "\n".join(out) + "\n\n"


def render_markdown(report: Report, *, top: int = 20) -> str:
    out: list[str] = []
    w = out.append
    document = report.document
    w("# lambda-trace report\n\n")
    tr = document.get("time_range") or {}
    if tr.get("start"):
        w(f"{md(tr['start'])} → {md(tr.get('end'))}\n\n")
    w(md_table(tables.summary_table(document)))
    by_function = tables.functions_table(document)
    if by_function:
        w("## By function\n\n" + md_table(by_function))
    w(render_metrics(document))

    w(metrics_section.markdown(document, md))
    deps = document.get("dependencies") or []
    if deps:
        w("## Dependencies\n\n" + md_table(tables.dependencies_table(deps[:top])))

    w("## Findings\n\n")
    findings = document.get("findings") or []
    if not findings:
        w("Nothing to report.\n\n")
    for f in findings:
        w(finding_markdown(f))

    groups = document.get("error_groups") or []
    if groups:
        w("## Errors\n\n" + md_table(tables.error_groups_table(groups[:top])))
    slowest = document.get("slowest_invocations") or []
    if slowest:
        with_function = any(row.get("function") for row in slowest)
        w("## Slowest invocations\n\n" + md_table(tables.slowest_table(slowest[:5], with_function)))

    footer = footer_lines(document)
    if footer:
        w("---\n\n" + "  \n".join(md(line, 2000, line_start=True) for line in footer) + "\n")
    return "".join(out)


def render_metrics(report: Mapping[str, Any]) -> str:
    """The ``metrics`` section (CloudWatch metrics per function); empty when it is absent."""
    table = tables.metrics_table(report)
    if table is None:
        return ""
    notes = "".join(f"- {md(line)}\n" for line in metrics_section.extras(report))
    return (f"## {md(metrics_section.title(report))}\n\n" + md_table(table)
            + (notes + "\n" if notes else ""))


def finding_markdown(f: Mapping[str, Any]) -> str:
    severity = str(f.get("severity", "info"))
    label = SEVERITY_LABELS.get(severity, severity.upper())
    kind = str(f.get("kind"))
    # Our own kinds are [a-z_] identifiers, shown as they are; anything else is escaped.
    kind = kind if _KIND.match(kind) else md(kind)
    out = [f"### {label} · {kind} · {md(f.get('subject'), 160)}\n\n"]
    if f.get("function"):
        out.append(f"Function: `{clean(f['function'], 200).replace('`', '')}`\n\n")
    view = describe(f)
    if view.sentence:
        out.append(md(view.sentence, 1000, line_start=True) + "\n\n")
    out.append(f"{md(f.get('advice'), 4000, line_start=True)}\n\n")
    for key, text in view.facts:
        out.append(f"- {md(key)}: {md(text, 400)}\n")
    if view.facts:
        out.append("\n")
    for table in view.tables:
        out.append(f"{md(table.title, line_start=True)}:\n\n")
        out.append(md_table((table.headers, table.rows, table.numeric)))
    policy = (f.get("evidence") or {}).get("suggested_policy")
    if policy:
        # ensure_ascii keeps every control character escaped inside the fence
        body = json.dumps(policy, indent=2, ensure_ascii=True).replace("```", "`\\`\\`")
        out.append(f"Suggested IAM policy:\n\n```json\n{body}\n```\n\n")
    return "".join(out)
