"""Formatting shared by the text renderers; log content is untrusted, so it is cleaned here."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from typing import Any, Optional

#: shown where a value is unknown
MISSING = "-"

SEVERITY_LABELS = {"high": "HIGH", "medium": "MEDIUM", "low": "LOW", "info": "INFO"}


def clean(value: Any, limit: int = 300) -> str:
    """Text safe for a terminal or a table cell: control and format characters made visible.

    Log lines can carry ANSI escapes, bidirectional overrides or newlines that would rewrite
    the screen or break a table; they are shown as ``\\xNN`` / ``\\uNNNN`` instead.
    """
    text = "" if value is None else str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    out = []
    for ch in text:
        if ch.isprintable() or ch == " ":
            out.append(ch)
        elif unicodedata.category(ch) in ("Zs",):
            out.append(" ")
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


def fmt_ms(value: Optional[float]) -> str:
    if value is None:
        return MISSING
    if value >= 10000:
        return f"{value / 1000:.1f} s"
    if value >= 100:
        return f"{value:.0f} ms"
    return f"{value:.1f} ms"


def fmt_pct(value: Optional[float]) -> str:
    return MISSING if value is None else f"{value * 100:.1f}%"


def fmt_count(value: Optional[float]) -> str:
    return MISSING if value is None else f"{value:,.0f}"


def evidence_items(evidence: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(key, text)`` pairs for a finding's evidence; lists of rows become compact JSON."""
    items = []
    for key, value in evidence.items():
        if key == "suggested_policy" or value is None:
            continue
        if isinstance(value, (dict, list)):
            text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
        elif isinstance(value, float):
            text = f"{value:g}"
        else:
            text = str(value)
        items.append((key, clean(text, 400)))
    return items


#: Counters that say something was skipped, dropped or left unmatched (the footer's second line).
SKIPPED = {
    "sources.undecodable_lines": "undecodable lines",
    "sources.truncated_lines": "truncated lines",
    "sources.malformed": "malformed envelope parts",
    "sources.duplicates_dropped": "console duplicates",
    "sources.outside_window": "outside the time window",
    "sources.capped_inputs": "inputs cut at the size limit",
    "parser.unparsed": "unrecognised lines",
    "parser.malformed": "malformed JSON lines",
    "join.unattributed": "events without an invocation",
    "join.late": "late events",
    "join.evicted": "invocations evicted early",
    "join.duplicates": "repeated platform lines",
}
#: Counters worth showing on the footer's first line, with their labels.
READ = {
    "sources.inputs": "inputs",
    "sources.bytes_read": "bytes",
    "sources.events": "log events",
    "sources.requests": "CloudWatch requests",
    "parser.lines": "lines",
    "parser.app": "app log lines",
    "join.events": "events",
    "join.invocations": "invocations",
    "join.attributed": "lines attributed by stream",
    "environments": "environments",
    "emf_documents": "EMF documents",
}


def footer_sections(report: Mapping[str, Any]) -> list[tuple[str, list[tuple[str, int]]]]:
    """``[("Read", [(label, n)...]), ("Skipped", [...])]``: the input counters that are not 0."""
    input_ = report.get("input") or {}
    flat: dict[str, Any] = {}
    for section in ("sources", "parser", "join"):
        for key, value in (input_.get(section) or {}).items():
            flat[f"{section}.{key}"] = value
    for key in ("environments", "emf_documents"):
        flat[key] = input_.get(key)
    sections = []
    for title, labels in (("Read", READ), ("Skipped", SKIPPED)):
        rows = [
            (label, int(flat[key])) for key, label in labels.items()
            if isinstance(flat.get(key), (int, float)) and not isinstance(flat.get(key), bool)
            and flat[key]
        ]
        if rows:
            sections.append((title, rows))
    return sections


def footer_lines(report: Mapping[str, Any]) -> list[str]:
    """The footer as plain text lines."""
    return [
        f"{title}: " + ", ".join(f"{n:,} {counted(label, n)}" for label, n in rows)
        for title, rows in footer_sections(report)
    ]


def counted(label: str, n: int) -> str:
    """``lines attributed by stream`` for many, ``line attributed by stream`` for one."""
    if n != 1:
        return label
    words = label.split(" ")
    for i, word in enumerate(words):
        if len(word) > 3 and word.endswith("s"):
            words[i] = word[:-1]
            break
    return " ".join(words)
