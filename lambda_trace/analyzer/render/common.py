"""Formatting shared by the text renderers; log content is untrusted, so it is cleaned here."""

from __future__ import annotations

import json
import unicodedata
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


def evidence_items(evidence: dict[str, Any]) -> list[tuple[str, str]]:
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


def footer_counts(report: dict[str, Any]) -> list[tuple[str, int]]:
    """The input and skip counters worth showing, as ``(label, count)``; zeros left out."""
    rows: list[tuple[str, int]] = []
    input_ = report.get("input") or {}
    for section in ("sources", "parser", "join"):
        counts = input_.get(section) or {}
        for key, value in counts.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value:
                continue
            rows.append((f"{section}.{key}", int(value)))
    for key in ("orphan_events", "emf_documents", "environments"):
        value = input_.get(key)
        if value:
            rows.append((key, int(value)))
    return rows
