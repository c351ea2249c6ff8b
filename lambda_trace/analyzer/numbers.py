"""Numbers read from log records: the one place that decides what counts as a number.

Records come from any version of the runtime, from other tools and from hand-edited files, so a
field may be missing, text, a bool (``True`` is an ``int`` in Python, never a duration) or NaN
(Python's json module reads ``NaN``/``Infinity``). Two readings:

- :func:`as_float` is tolerant: numbers and numeric text, finite only (``"12.5"`` -> 12.5);
- :func:`json_number` takes JSON numbers only (a text value is somebody else's field).
"""

from __future__ import annotations

import math
from typing import Any, Optional

#: ints beyond this are no float (a 400-digit int from json.loads raises OverflowError)
_INT_LIMIT = 2**1023


def as_float(value: Any) -> Optional[float]:
    """``value`` as a finite float, or None (for None, bools, non-numeric text and NaN/inf)."""
    kind = type(value)
    if kind is float:  # the common case, and finite unless a producer wrote NaN
        return value if value - value == 0.0 else None
    if kind is int:
        return float(value) if -_INT_LIMIT < value < _INT_LIMIT else None
    if value is None or isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int of 400 digits
        return None
    return out if math.isfinite(out) else None


def json_number(value: Any) -> Optional[float]:
    """A JSON number (int or float, not bool, finite) as a float; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        out = float(value)
    except OverflowError:
        return None
    return out if math.isfinite(out) else None


def float_or_zero(value: Any) -> float:
    """``float(value)``, or 0.0 for bools and what is not a number: the join's sums and
    comparisons of record fields, which must not stop at one bad value."""
    if isinstance(value, bool):
        return 0.0
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0
