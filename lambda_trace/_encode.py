"""Encode record lines: pre-specialised pieces for the per-call hot path, json for the rest.

A call line is assembled from fragments with f-strings (≈1 µs) instead of ``json.dumps`` of a
dict (≈4 µs); strings go through the C ``encode_basestring_ascii`` so the output is ASCII JSON.
"""

from __future__ import annotations

import math
import sys
import time

from lambda_trace._contract import MAX_LINE_BYTES

try:  # the C encoder without `json`'s package import, which loads `re` (≈5 ms)
    from _json import encode_basestring_ascii as _c_encode_str
except ImportError:  # pragma: no cover - not CPython
    from json.encoder import encode_basestring_ascii as _c_encode_str

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Callable

#: JSON string literal for ``text`` (quotes included), ASCII only.
jstr: Callable[[str], str] = _c_encode_str

#: "000Z".."999Z" (and ".000"..".999" below) by f-strings of digits: a quarter of the import
#: time of formatting 1000 numbers, and less than building them from "000".."999"
_DIGITS = "0123456789"
_MILLIS = tuple([f"{a}{b}{c}Z" for a in _DIGITS for b in _DIGITS for c in _DIGITS])
#: (second, "YYYY-mm-ddTHH:MM:SS.") of the last timestamp; replaced whole, so threads are safe
_ts_cache: tuple[int, str] = (-1, "")


def timestamp(epoch_ns: int) -> str:
    """ISO 8601 UTC with milliseconds, the date-time part cached per second."""
    global _ts_cache
    millis = epoch_ns // 1_000_000
    seconds = millis // 1000
    cached = _ts_cache
    if seconds != cached[0]:
        cached = _ts_cache = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(seconds)))
    return cached[1] + _MILLIS[millis - seconds * 1000]


_FRACTIONS = tuple([f".{a}{b}{c}" for a in _DIGITS for b in _DIGITS for c in _DIGITS])


def ms_text(ns: int) -> str:
    """Nanoseconds as the JSON number text of milliseconds with 3 decimals (``"8.472"``).

    Integer arithmetic and a table: a third of the cost of formatting a float (hot path).
    """
    us = ns // 1000
    return f"{us // 1000}{_FRACTIONS[us % 1000]}"


def ms(ns: int) -> float:
    """Nanoseconds as milliseconds with microsecond resolution (truncated).

    Integer division then one float division: the shortest repr of ``n / 1000`` is the exact
    3-decimal text, and this costs a tenth of ``round(x, 3)``.
    """
    return (ns // 1000) / 1000


def _safe_str(value: Any) -> str:
    """``str(value)`` for json's ``default``, even when that ``__str__`` raises."""
    try:
        return str(value)
    except Exception:
        return f"<{type(value).__name__}>"


#: Beyond this, an int is written as a float (Python refuses int-to-text over 4300 digits).
_MAX_INT = 2**63


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and not -_MAX_INT <= value < _MAX_INT:
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, dict):
        return {_safe_str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _json_dumps(obj: dict[str, Any]) -> str:
    import json  # off the import path; the hot path encodes by hand

    try:
        return json.dumps(obj, separators=(",", ":"), allow_nan=False, default=_safe_str)
    except (ValueError, TypeError, RecursionError):
        return json.dumps(_finite(obj), separators=(",", ":"), allow_nan=False, default=_safe_str)


def dumps(obj: dict[str, Any]) -> str:
    """Compact JSON; non-finite floats become null, unknown objects their ``str``.

    orjson is not a dependency; when the function has imported it anyway it is used (≈10x
    faster). We never import it ourselves: its import costs ≈5 ms of cold start.
    """
    orjson = sys.modules.get("orjson")
    if orjson is not None:
        try:
            return str(orjson.dumps(obj, default=_safe_str).decode())
        except (TypeError, AttributeError):  # e.g. a non-str key: the stdlib path handles it
            pass
    return _json_dumps(obj)


#: CloudWatch counts 26 bytes of overhead per event against its size limit.
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
_EVENT_OVERHEAD = 26


def fits(line: str) -> bool:
    """True when ``line`` plus its newline fits one CloudWatch event."""
    size = len(line) if line.isascii() else len(line.encode())
    return size + 1 + _EVENT_OVERHEAD <= MAX_LINE_BYTES
