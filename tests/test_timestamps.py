"""Envelope timestamps become epoch milliseconds, in UTC unless they carry a zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from lambda_trace.analyzer.timestamps import days_from_civil, iso_to_ms, ms_to_iso


def utc_ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=timezone.utc).timestamp() * 1000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # aws logs tail: microseconds and an explicit +00:00
        ("2026-01-07T14:32:04.611000+00:00", utc_ms(2026, 1, 7, 14, 32, 4, 611000)),
        # sam logs: no zone, meaning UTC
        ("2023-07-05T10:16:34.013000", utc_ms(2023, 7, 5, 10, 16, 34, 13000)),
        # Logs Insights: a space instead of T, milliseconds
        ("2023-10-20 16:27:46.827", utc_ms(2023, 10, 20, 16, 27, 46, 827000)),
        # CloudWatch console
        ("2025-05-21T03:29:26.330Z", utc_ms(2025, 5, 21, 3, 29, 26, 330000)),
        # Apex Up: local time with an offset
        ("2018-05-17T14:46:28+08:00", utc_ms(2018, 5, 17, 6, 46, 28)),
        ("2018-05-17T14:46:28-0530", utc_ms(2018, 5, 17, 20, 16, 28)),
        ("2024-02-29", utc_ms(2024, 2, 29)),
        ("2024-02-29T23:59", utc_ms(2024, 2, 29, 23, 59)),
        ("2024-06-17T17:23:55.123456789Z", utc_ms(2024, 6, 17, 17, 23, 55, 123000)),
    ],
)
def test_iso_to_ms_reads_every_envelope_spelling(text: str, expected: int) -> None:
    """Each timestamp spelling seen in envelopes maps to the same instant datetime computes."""
    assert iso_to_ms(text) == expected


@pytest.mark.parametrize(
    "text", ["", "17:53:27", "2024-13-01", "2024-01-01T25:00", "yesterday", "2024-01-01T10:00 X"]
)
def test_iso_to_ms_rejects_what_is_not_a_dated_timestamp(text: str) -> None:
    """A bare time of day, an impossible date or free text gives None, not a guess."""
    assert iso_to_ms(text) is None


def test_days_from_civil_agrees_with_the_calendar_over_centuries() -> None:
    """The day count matches Python's calendar for every 37th day from 1800 to 2400."""
    epoch = date(1970, 1, 1)
    day = date(1800, 1, 1)
    while day < date(2400, 1, 1):
        assert days_from_civil(day.year, day.month, day.day) == (day - epoch).days
        day += timedelta(days=37)


def test_ms_to_iso_round_trips() -> None:
    """Formatting and parsing back give the same millisecond."""
    ms = utc_ms(2026, 11, 27, 4, 43, 42, 123000)
    assert ms_to_iso(ms) == "2026-11-27T04:43:42.123Z"
    assert iso_to_ms(ms_to_iso(ms)) == ms
