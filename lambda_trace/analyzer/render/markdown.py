"""The report as GitHub-flavoured Markdown (a CI job summary, a pull-request comment)."""

from __future__ import annotations

import json
import re
from typing import Any, TextIO

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

# Characters that Markdown (or the HTML it may carry) would interpret.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_LIST_NUMBER = re.compile(r"^(\d+)([.)])")


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


def render_markdown(report: dict[str, Any], file: TextIO, *, top: int = 20) -> None:
    w = file.write
    w("# lambda-trace report\n\n")
    tr = report.get("time_range") or {}
    if tr.get("start"):
        w(f"{tr['start']} → {tr.get('end')}\n\n")
    n = report.get("invocations") or 0
    d = report.get("duration_ms") or {}
    w("| invocations | cold starts | errors | timeouts | out of memory | p50 | p95 | p99 | max |\n")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    w(f"| {fmt_count(n)} | {_share(report.get('cold_starts', 0), n)} "
      f"| {_share(report.get('errors', 0), n)} | {_share(report.get('timeouts', 0), n)} "
      f"| {_share(report.get('out_of_memory', 0), n)} | {fmt_ms(d.get('p50'))} "
      f"| {fmt_ms(d.get('p95'))} | {fmt_ms(d.get('p99'))} | {fmt_ms(d.get('max'))} |\n\n")

    w(metrics_section.markdown(report, md))
    deps = report.get("dependencies") or []
    if deps:
        w("## Dependencies\n\n")
        w("| name | kind | calls | total | share | p50 | p95 | p99 | max | errors |\n")
        w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
        for dep in deps[:top]:
            w(f"| {md(dep['name'], 120)} | {md(dep.get('kind') or '')} "
              f"| {fmt_count(dep['calls'])} | {fmt_ms(dep['total_ms'])} "
              f"| {fmt_pct(dep.get('share'))} | {fmt_ms(dep['p50_ms'])} "
              f"| {fmt_ms(dep['p95_ms'])} | {fmt_ms(dep['p99_ms'])} | {fmt_ms(dep['max_ms'])} "
              f"| {fmt_count(dep['errors'])} |\n")
        w("\n")

    w("## Findings\n\n")
    findings = report.get("findings") or []
    if not findings:
        w("Nothing to report.\n\n")
    for f in findings:
        label = SEVERITY_LABELS.get(f["severity"], f["severity"].upper())
        where = f" · function {md(f['function'], 80)}" if f.get("function") else ""
        w(f"### {label} · {f['kind']} · {md(f.get('subject'), 160)}{where}\n\n")
        w(f"{md(f.get('advice'), 4000, line_start=True)}\n\n")
        for key, text in evidence_items(f.get("evidence") or {}):
            w(f"- {md(key)}: {md(text, 400)}\n")
        policy = (f.get("evidence") or {}).get("suggested_policy")
        if policy:
            # ensure_ascii keeps every control character escaped inside the fence
            body = json.dumps(policy, indent=2, ensure_ascii=True).replace("```", "`\\`\\`")
            w(f"\nSuggested IAM policy:\n\n```json\n{body}\n```\n")
        w("\n")

    groups = report.get("error_groups") or []
    if groups:
        w("## Errors\n\n| count | error type | top frame | example request id | message |\n")
        w("|---:|---|---|---|---|\n")
        for g in groups[:top]:
            w(f"| {fmt_count(g['count'])} | {md(g['error_type'], 100)} "
              f"| {md(g.get('top_frame') or '', 100)} "
              f"| {md(g.get('example_request_id') or '', 60)} "
              f"| {md(g.get('message') or '', 160)} |\n")
        w("\n")

    footer = footer_lines(report)
    if footer:
        w("---\n\n" + "  \n".join(md(line, 2000, line_start=True) for line in footer) + "\n")


def _share(count: int, n: int) -> str:
    return f"{count:,} ({fmt_pct(count / n)})" if n and count else f"{count:,}"
