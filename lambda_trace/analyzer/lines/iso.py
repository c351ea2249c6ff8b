"""ISO 8601 date-times in log lines to epoch milliseconds, fast for the runtimes' own format."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Optional

_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?"
)
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()
_DAYS: dict[str, int] = {}
#: The last whole second iso_to_ms parsed in the runtimes' format, and its epoch ms: lines come in
#: time order. One tuple in a list, replaced whole, so a reader never sees half an update; the
#: parser's hot path reads it too (``parse.Parser._final_events``).
SECOND_MEMO: list[tuple[str, int]] = [("", 0)]
MILLIS = {f"{n:03d}": n for n in range(1000)}
_SIXTY = {f"{n:02d}": n for n in range(61)}


def iso_to_ms(text: Any) -> Optional[int]:
    """Epoch ms for an ISO 8601 date-time; no zone means UTC (``sam logs``, Insights, §9.10)."""
    if not isinstance(text, str):
        return None
    if len(text) == 24 and text[23] == "Z" and text[19] == "." and text[10] == "T":
        # The runtimes' own format (2026-11-27T04:43:42.123Z): dict look-ups instead of the
        # regex and int(), and one slice compare while the second stays the same.
        millis = MILLIS.get(text[20:23])
        if millis is not None:
            second, second_ms = SECOND_MEMO[0]
            if text[:19] == second:
                return second_ms + millis
            epoch_day = _DAYS.get(text[:10])
            hh = _SIXTY.get(text[11:13])
            mi = _SIXTY.get(text[14:16])
            ss = _SIXTY.get(text[17:19])
            if (epoch_day is not None and hh is not None and mi is not None and ss is not None
                    and hh <= 23 and mi <= 59 and text[13] == ":" and text[16] == ":"):
                ms = (((epoch_day * 24 + hh) * 60 + mi) * 60 + ss) * 1000
                SECOND_MEMO[0] = (text[:19], ms)
                return ms + millis
    match = _ISO.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    key = text[:10]
    days = _DAYS.get(key)
    if days is None:
        try:
            days = _dt.date(int(year), int(month), int(day)).toordinal() - _EPOCH_ORDINAL
        except ValueError:
            return None
        if len(_DAYS) < 8192:
            _DAYS[key] = days
    hours, minutes, seconds = int(hour), int(minute), int(second)
    if hours > 23 or minutes > 59 or seconds > 60:
        return None
    ms = (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000
    if len(text) == 24 and zone == "Z" and len(fraction or "") == 3:
        SECOND_MEMO[0] = (text[:19], ms)  # one tuple: readers never see half an update
    if fraction:
        ms += int((fraction + "00")[:3])
    if zone and zone != "Z":
        offset = (int(zone[1:3]) * 60 + int(zone[-2:])) * 60000
        ms += -offset if zone[0] == "+" else offset
    return ms
