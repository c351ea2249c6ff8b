"""Encode record lines: pre-specialised pieces for the per-call hot path, json for the rest.

A call line is assembled from fragments with f-strings (≈1 µs) instead of ``json.dumps`` of a
dict (≈4 µs); strings go through the C ``encode_basestring_ascii`` so the output is ASCII JSON.
"""

from __future__ import annotations

import json
import math
import time
from json.encoder import encode_basestring_ascii as _c_encode_str
from typing import Any, Callable

from lambda_trace.schema import MAX_LINE_BYTES

#: JSON string literal for ``text`` (quotes included), ASCII only.
jstr: Callable[[str], str] = _c_encode_str

_ts_cache: list[Any] = [-1, ""]


def timestamp(epoch_ns: int) -> str:
    """ISO 8601 UTC with milliseconds, the date-time part cached per second."""
    seconds, rest = divmod(epoch_ns, 1_000_000_000)
    if seconds != _ts_cache[0]:
        # Two quick assignments: a racing thread at worst recomputes the same prefix.
        _ts_cache[1] = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(seconds))
        _ts_cache[0] = seconds
    return f"{_ts_cache[1]}{rest // 1_000_000:03d}Z"


def ms(ns: int) -> float:
    """Nanoseconds as milliseconds rounded to the microsecond."""
    return round(ns / 1e6, 3)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def dumps(obj: dict[str, Any]) -> str:
    """Compact ASCII JSON; non-finite floats become null, unknown objects their ``str``."""
    try:
        return json.dumps(obj, separators=(",", ":"), allow_nan=False, default=str)
    except ValueError:
        return json.dumps(_finite(obj), separators=(",", ":"), allow_nan=False, default=str)


def fits(line: str) -> bool:
    """True when ``line`` plus its newline fits one CloudWatch event (ASCII: chars == bytes)."""
    return len(line) < MAX_LINE_BYTES
