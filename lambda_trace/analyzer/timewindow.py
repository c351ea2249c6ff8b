"""``--since`` / ``--until``: relative durations, ISO 8601 or epoch values, resolved to a window."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Optional

from lambda_trace.analyzer.errors import CliError
from lambda_trace.analyzer.timestamps import iso_to_ms, ms_to_iso

_UNIT_MS = {
    "ms": 1,
    "s": 1000,
    "sec": 1000,
    "secs": 1000,
    "m": 60_000,
    "min": 60_000,
    "mins": 60_000,
    "h": 3_600_000,
    "hr": 3_600_000,
    "hrs": 3_600_000,
    "d": 86_400_000,
    "day": 86_400_000,
    "days": 86_400_000,
    "w": 604_800_000,
    "wk": 604_800_000,
    "week": 604_800_000,
    "weeks": 604_800_000,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_RELATIVE = re.compile(r"(?:\d+(?:\.\d+)?\s*[a-z]+\s*)+")

#: 10-digit epoch values are seconds (until the year 2286), 13-digit ones milliseconds.
_EPOCH_SECONDS_BELOW = 100_000_000_000

HELP = "relative (30s, 15m, 1h, 2d, 1w, 1h30m), ISO 8601 (UTC unless it has a zone) or epoch ms"


def now_ms() -> int:
    return int(time.time() * 1000)


def parse_duration_ms(text: str) -> Optional[int]:
    """Milliseconds in ``30s`` / ``15m`` / ``1h30m`` / ``2d`` / ``1w``; None for anything else."""
    spec = text.strip().lower()
    if spec.endswith(" ago"):
        spec = spec[:-4]
    spec = spec.lstrip("-").strip()
    if not spec or not _RELATIVE.fullmatch(spec):
        return None
    total = 0.0
    for number, unit in _PART.findall(spec):
        if unit not in _UNIT_MS:
            return None
        total += float(number) * _UNIT_MS[unit]
    return int(total)


def parse_time(text: str, *, now: int) -> int:
    """Epoch ms for a ``--since``/``--until`` value; relative values count back from now."""
    spec = text.strip()
    if spec.lower() == "now":
        return now
    if spec.isdigit():
        value = int(spec)
        return value * 1000 if value < _EPOCH_SECONDS_BELOW else value
    duration = parse_duration_ms(spec)
    if duration is not None:
        return now - duration
    parsed = iso_to_ms(spec)
    if parsed is None:
        raise CliError(f"cannot read time {text!r}: use {HELP}")
    return parsed


@dataclass(frozen=True)
class TimeWindow:
    """A closed interval of epoch milliseconds; a None end is unbounded."""

    start_ms: Optional[int] = None
    end_ms: Optional[int] = None

    @property
    def bounded(self) -> bool:
        return self.start_ms is not None or self.end_ms is not None

    def contains(self, ts: int) -> bool:
        if self.start_ms is not None and ts < self.start_ms:
            return False
        return self.end_ms is None or ts <= self.end_ms

    def describe(self) -> str:
        start = ms_to_iso(self.start_ms) if self.start_ms is not None else "the beginning"
        end = ms_to_iso(self.end_ms) if self.end_ms is not None else "now"
        return f"{start} to {end}"


def resolve_window(
    since: Optional[str],
    until: Optional[str],
    *,
    now: Optional[int] = None,
    default_since: Optional[str] = None,
    default_until_now: bool = False,
) -> TimeWindow:
    """The window asked for; CliError when a value is unreadable or since is after until."""
    current = now_ms() if now is None else now
    since = since if since is not None else default_since
    start = parse_time(since, now=current) if since is not None else None
    if until is not None:
        end: Optional[int] = parse_time(until, now=current)
    else:
        end = current if default_until_now else None
    if start is not None and end is not None and start > end:
        raise CliError(
            f"--since ({ms_to_iso(start)}) is after --until ({ms_to_iso(end)}): nothing to read"
        )
    return TimeWindow(start, end)
