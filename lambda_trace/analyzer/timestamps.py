"""Epoch milliseconds from the timestamp spellings that log envelopes use.

Seen in the wild (docs/formats.md §9.10): ``2026-01-07T14:32:04.611000+00:00`` (``aws logs tail``),
``2023-07-05T10:16:34.013000`` (``sam logs``, no zone), ``2023-10-20 16:27:46.827`` (Logs Insights),
``2025-05-21T03:29:26.330Z`` (console), ``2018-05-17T14:46:28+08:00`` (Apex Up). A missing zone
means UTC: every AWS tool prints UTC unless it prints an offset.
"""

from __future__ import annotations

import re
from typing import Optional

_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?)?"
    r"\s?(Z|z|[+-]\d\d(?::?\d\d)?)?"
)

_DAY_MS = 86_400_000


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def iso_to_ms(text: str) -> Optional[int]:
    """Epoch milliseconds of an ISO 8601 timestamp (zone optional, UTC assumed); None if invalid."""
    m = _ISO.fullmatch(text.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    mo, d = int(month), int(day)
    h = int(hour) if hour else 0
    mi = int(minute) if minute else 0
    s = int(second) if second else 0
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h <= 23 and mi <= 59 and s <= 60):
        return None
    ms = (days_from_civil(int(year), mo, d) * _DAY_MS) + ((h * 60 + mi) * 60 + s) * 1000
    if fraction:
        ms += int((fraction + "00")[:3])
    if zone and zone not in "Zz":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset_min = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
        ms -= sign * offset_min * 60_000
    return ms


def ms_to_iso(ms: int) -> str:
    """``2026-11-27T04:43:42.123Z`` for epoch milliseconds (for messages, not for parsing)."""
    from datetime import datetime, timezone

    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def ms_to_iso_or_none(epoch_ms: Optional[float]) -> Optional[str]:
    """``ms_to_iso`` for a report field: None for a missing or unrepresentable time."""
    from datetime import datetime, timezone

    if epoch_ms is None:
        return None
    try:
        dt = datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
