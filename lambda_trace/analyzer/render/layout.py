"""Plain-text layout that never passes the terminal's width and never splits an identifier.

A table is drawn as columns when its natural width fits; else with each row's name on a line of
its own above the other columns; else each row is stacked as ``key: value`` items packed into
lines. Text wraps only at spaces (never at the hyphens of a
request id or the colons of an ARN); a word too wide for its indent is outdented, and a single
word wider than the whole line is the only thing ever folded, so that the width promise holds.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Optional

from rich.cells import cell_len

#: between table columns, and between packed ``key: value`` items
COLUMN_GAP = "  "
ITEM_GAP = "   "


def fold(line: str, width: int) -> list[str]:
    """``line`` cut into pieces of at most ``width`` cells (the last resort)."""
    width = max(width, 1)
    if cell_len(line) <= width:
        return [line]
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for ch in line:
        w = cell_len(ch)
        if used + w > width and current:
            pieces.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += w
    if current:
        pieces.append("".join(current))
    return pieces


def wrap(text: str, width: int, indent: int = 0, first_indent: Optional[int] = None) -> list[str]:
    """``text`` wrapped at spaces into lines of at most ``width`` cells, indented."""
    first = " " * (indent if first_indent is None else first_indent)
    rest = " " * indent
    lines = textwrap.wrap(
        text, width=max(width, len(first) + 1, len(rest) + 1), initial_indent=first,
        subsequent_indent=rest, break_long_words=False, break_on_hyphens=False,
    ) or [first.rstrip()]
    out: list[str] = []
    for line in lines:
        if cell_len(line) <= width:
            out.append(line)
            continue
        lead = len(line) - len(line.lstrip(" "))
        word = line[lead:]
        if cell_len(word) <= width:
            # An identifier that fits the line but not the indent: outdent it, do not split it.
            out.append(" " * (width - cell_len(word)) + word)
            continue
        out.extend(fold(word, width))
    return out


def pack(items: Sequence[str], width: int, indent: int = 0) -> list[str]:
    """Items side by side, as many per line as fit; an item is never split unless it alone is
    wider than the line."""
    lines: list[str] = []
    current = ""
    pad = " " * indent
    for item in items:
        candidate = item if not current else current + ITEM_GAP + item
        if cell_len(pad + candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(pad + current)
        if cell_len(pad + item) <= width:
            current = item
        else:
            lines.extend(wrap(item, width, indent + 2, first_indent=indent))
            current = ""
    if current:
        lines.append(pad + current)
    return lines


def table_lines(
    headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool],
    width: int, indent: int = 0,
) -> Optional[list[str]]:
    """Aligned columns with a header and a rule, or None when they do not fit in ``width``."""
    widths = [cell_len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], cell_len(cell))
    total = indent + sum(widths) + len(COLUMN_GAP) * (len(widths) - 1)
    if total > width:
        return None

    def line(cells: Sequence[str]) -> str:
        parts = []
        for i, cell in enumerate(cells):
            room = widths[i] - cell_len(cell)
            parts.append(" " * room + cell if numeric[i] else cell + " " * room)
        return (" " * indent + COLUMN_GAP.join(parts)).rstrip()

    rule = " " * indent + COLUMN_GAP.join("─" * w for w in widths)
    return [line(headers), rule] + [line(row) for row in rows]


def stacked_lines(
    headers: Sequence[str], rows: Sequence[Sequence[str]], width: int, indent: int = 0,
    heading: Optional[int] = 0,
) -> list[str]:
    """Each row as a block: its ``heading`` cell on a line, the rest as packed ``key: value``."""
    out: list[str] = []
    for row in rows:
        items = []
        for i, (header, cell) in enumerate(zip(headers, row)):
            if i == heading:
                out.extend(wrap(cell, width, indent + 2, first_indent=indent))
            elif cell:
                items.append(f"{header}: {cell}")
        out.extend(pack(items, width, indent + 2 if heading is not None else indent))
    return out


def headed_lines(
    headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool], width: int,
    indent: int = 0, heading: int = 0,
) -> Optional[list[str]]:
    """Each row's ``heading`` cell on its own line, the other cells in aligned columns under it;
    None when those columns do not fit either."""
    rest = [i for i in range(len(headers)) if i != heading]
    sub = table_lines([headers[i] for i in rest], [[row[i] for i in rest] for row in rows],
                      [numeric[i] for i in rest], width, indent + 2)
    if sub is None:
        return None
    out = wrap(headers[heading], width, indent + 2, first_indent=indent) + sub[:2]
    for row, line in zip(rows, sub[2:]):
        out.extend(wrap(row[heading], width, indent + 2, first_indent=indent))
        out.append(line)
    return out


def grid(
    headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool], width: int,
    indent: int = 0, heading: Optional[int] = 0,
) -> list[str]:
    """Columns when they fit; else each row's heading on a line above the other columns; else
    stacked ``key: value`` rows."""
    columns = table_lines(headers, rows, numeric, width, indent)
    if columns is not None:
        return columns
    if heading is not None and len(headers) > 2:
        headed = headed_lines(headers, rows, numeric, width, indent, heading)
        if headed is not None:
            return headed
    return stacked_lines(headers, rows, width, indent, heading)
