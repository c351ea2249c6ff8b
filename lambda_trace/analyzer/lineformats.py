"""Text prefixes that tools put in front of a log message, recognised and taken off.

* ``aws logs tail`` (detailed): ``<ISO ts with zone> <log stream> <message>`` (docs/formats.md §7.4)
* ``sam logs``: ``<log stream> <ISO ts without zone> <message>`` (§7.5)
* a timestamp column (console copies, ``aws logs tail --format short``, S3 exports, reports):
  ``<ISO ts or HH:MM:SS> <message>`` — but only when the message does not itself start with a
  request id: ``<ts>\\t<request id>\\t…`` is how Node.js and .NET write every line (§2.2), so that
  timestamp belongs to the message.
* a line holding only a timestamp: the console's copy puts one above each event (§7.10).

Pasted copies often carry Markdown or comment decorations (``## ``, ``> ``, ``- ``, `` * ``) and
indentation in front of these prefixes; they go with the prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from lambda_trace.analyzer.timestamps import iso_to_ms

_DECO = r"(?P<deco>[ \t]*(?:[#>*-]+[ \t]+)?)"
_ISO_FULL = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|z|[+-]\d\d:?\d\d)?"
_TIME_OF_DAY = r"\d\d:\d\d:\d\d(?:[.,]\d{1,9})?"

_TAIL = re.compile(
    _DECO + r"(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) "
    r"(?P<stream>[^\s/\[]+/\S*)(?: (?P<msg>.*))?\Z",
    re.DOTALL,
)
_SAM = re.compile(
    _DECO + r"(?P<stream>\d{4}/\d\d/\d\d/\[[^\]\s]*\]\S+) "
    r"(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?)(?: (?P<msg>.*))?\Z",
    re.DOTALL,
)
_COLUMN = re.compile(
    _DECO + r"(?P<ts>" + _ISO_FULL + "|" + _TIME_OF_DAY + r")[ \t]+(?P<msg>\S.*)\Z", re.DOTALL
)
_ONLY_TS = re.compile(_DECO + r"(?P<ts>" + _ISO_FULL + "|" + _TIME_OF_DAY + r")[ \t]*\Z")
#: What the runtimes write right after their own timestamp: a request id (possibly redacted with
#: ``xmpl`` or shortened by a copy) or ``undefined`` during init (docs/formats.md §0.4).
_RUNTIME_ID = re.compile(
    r"(?:[0-9a-fA-F]{8}-[0-9a-zA-Z]{4}-[0-9a-zA-Z]{4}-[0-9a-zA-Z]{4}-[0-9a-zA-Z]{12}"
    r"|[0-9a-f]{12,}|undefined)(?:[\s,]|\Z)"
)

#: Characters a prefixed line can start with (checked before any regex runs).
PREFIX_START = frozenset("0123456789 \t#>*-")


@dataclass(frozen=True)
class Prefixed:
    """A line with its tool prefix taken off."""

    kind: str  # "tail" | "sam" | "column" | "timestamp"
    message: str
    timestamp_ms: Optional[int]
    log_stream: Optional[str] = None
    decoration: str = ""


def _ms(ts: str) -> Optional[int]:
    # A bare time of day has no date: the event's time is unknown.
    return iso_to_ms(ts) if ts[4:5] == "-" else None


def split_prefix(line: str) -> Optional[Prefixed]:
    """The tool prefix of a line and what follows it; None when the line has none."""
    m = _ONLY_TS.match(line)
    if m is not None:
        return Prefixed("timestamp", "", _ms(m["ts"]), decoration=m["deco"])
    m = _TAIL.match(line)
    if m is not None:
        return Prefixed("tail", m["msg"] or "", iso_to_ms(m["ts"]), m["stream"], m["deco"])
    m = _SAM.match(line)
    if m is not None:
        return Prefixed("sam", m["msg"] or "", iso_to_ms(m["ts"]), m["stream"], m["deco"])
    m = _COLUMN.match(line)
    if m is not None and _RUNTIME_ID.match(m["msg"]) is None:
        return Prefixed("column", m["msg"], _ms(m["ts"]), decoration=m["deco"])
    return None


_TABLE_SEPARATOR = re.compile(r"\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*\Z")


def table_header(line: str) -> Optional[list[str]]:
    """Column names of a Logs Insights ``Copy as markdown`` header that has ``@message``."""
    stripped = line.strip()
    if not stripped.startswith("|") or "@message" not in stripped:
        return None
    cells = [c.strip() for c in stripped.strip("|").split("|")]
    if "@message" not in cells or not all(c.startswith("@") or c.isidentifier() for c in cells):
        return None
    return cells


def is_table_separator(line: str) -> bool:
    return _TABLE_SEPARATOR.match(line.strip()) is not None


def table_row(line: str, columns: list[str]) -> Optional[dict[str, str]]:
    """A Markdown table row as column -> text; extra ``|`` cells belong to ``@message``."""
    stripped = line.strip()
    if not stripped.startswith("|"):
        return None
    body = stripped[1:-1] if stripped.endswith("|") and len(stripped) > 1 else stripped[1:]
    # Markdown escapes a pipe inside a cell as \|; split on the unescaped ones only.
    cells = [c.replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]
    if len(cells) < len(columns):
        return None
    extra = len(cells) - len(columns)
    at = columns.index("@message")
    if extra:
        cells[at : at + extra + 1] = ["|".join(cells[at : at + extra + 1])]
    # One space of padding each side is the table's, the rest is the message's.
    row = {}
    for name, cell in zip(columns, cells):
        if cell.startswith(" "):
            cell = cell[1:]
        if cell.endswith(" "):
            cell = cell[:-1]
        row[name] = cell if name == "@message" else cell.strip()
    return row


#: A table row pasted without its header: ``| 2023-06-11 04:03:30.102 | <message> |`` (Logs
#: Insights "Copy as markdown") or ``| 1715603870772 | <message>   |`` (``aws logs
#: filter-log-events --output table``, which pads every cell to the column's width).
_HEADLESS_ROW = re.compile(
    r"\|[ \t]*(?P<ts>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?Z?|\d{13})[ \t]*\|"
    r"(?P<msg>.*?)\|?[ \t]*\Z",
    re.DOTALL,
)


def headless_table_row(line: str) -> Optional[dict[str, Any]]:
    """A two-column (timestamp, message) table row whose header was not copied."""
    match = _HEADLESS_ROW.match(line.strip())
    if match is None:
        return None
    ts, message = match.group("ts"), match.group("msg")
    if ts.isdigit():  # the CLI's table: epoch milliseconds, cells padded to width
        return {"timestamp": int(ts), "message": message.strip()}
    if message.startswith(" "):
        message = message[1:]
    return {"@timestamp": ts, "@message": message.rstrip()}


def is_csv_header(line: str) -> bool:
    """The header of a Logs Insights CSV export (``@timestamp,@message,…``)."""
    head = line.strip().replace('"', "")
    return head.startswith("@") and "," in head and "@message" in head.split(",")
