"""``lines.iso``: ISO 8601 date-times to epoch ms, on the fast path and the general one alike."""

from __future__ import annotations

import datetime as dt
from typing import Optional

import pytest

from lambda_trace.analyzer.lines import iso
from lambda_trace.analyzer.lines.iso import iso_to_ms


def reference(text: str) -> int:
    """What the stdlib says, naive meaning UTC (the rule iso_to_ms follows)."""
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return round(parsed.timestamp() * 1000)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-27T04:43:42.123Z",  # the runtimes' own format (the fast path)
        "1970-01-01T00:00:00.000Z",
        "2024-02-29T23:59:59.999Z",  # a leap day
        "2026-11-27T04:43:42Z",
        "2026-11-27T04:43:42.5Z",
        "2026-11-27T04:43:42.123456Z",  # microseconds: milliseconds kept, the rest dropped
        "2026-11-27 04:43:42.123",  # no zone: UTC (sam logs, Insights)
        "2026-11-27T04:43:42.123+02:00",
        "2026-11-27T04:43:42.123-05:30",
    ],
)
def test_agrees_with_the_standard_library(text: str) -> None:
    assert iso_to_ms(text) == reference(text)


def test_a_comma_separates_the_fraction_too() -> None:
    assert iso_to_ms("2026-11-27T04:43:42,250Z") == reference("2026-11-27T04:43:42.250Z")


def test_an_offset_without_a_colon() -> None:
    assert iso_to_ms("2026-11-27T04:43:42.000+0200") == reference("2026-11-27T04:43:42+02:00")


def test_the_same_second_twice_uses_the_memo_and_gives_the_same_answers() -> None:
    first = iso_to_ms("2026-11-27T04:43:42.001Z")
    assert iso.SECOND_MEMO[0][0] == "2026-11-27T04:43:42"
    assert iso_to_ms("2026-11-27T04:43:42.900Z") == first + 899  # type: ignore[operator]
    # The next second replaces the memo; the earlier second is still right after that.
    assert iso_to_ms("2026-11-27T04:43:43.000Z") == first + 999  # type: ignore[operator]
    assert iso_to_ms("2026-11-27T04:43:42.001Z") == first


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30T00:00:00.000Z",  # no such day
        "2026-13-01T00:00:00.000Z",
        "2026-11-27T24:00:00.000Z",
        "2026-11-27T04:60:00.000Z",
        "2026-11-27T04:43:61.000Z",
        "27/11/2026 04:43:42",
        "",
        "START RequestId: 1",
    ],
)
def test_what_is_no_date_time_is_none(text: str) -> None:
    assert iso_to_ms(text) is None


def test_the_date_time_at_the_start_is_read_and_what_follows_ignored() -> None:
    """Not digits where the fast path looks: the general path reads the leading date-time."""
    assert iso_to_ms("2026-11-27T04:43:42.12xZ") == reference("2026-11-27T04:43:42.120Z")
    assert iso_to_ms("2026-11-27T04:43:42.123Z\tINFO") == reference("2026-11-27T04:43:42.123Z")


@pytest.mark.parametrize("value", [None, 1764218622123, b"2026-11-27T04:43:42.123Z"])
def test_what_is_not_text_is_none(value: object) -> None:
    result: Optional[int] = iso_to_ms(value)
    assert result is None


def test_a_bad_line_leaves_the_memo_alone() -> None:
    good = iso_to_ms("2026-11-27T04:43:42.001Z")
    assert iso_to_ms("2026-11-27T04:43:99.001Z") is None
    assert iso_to_ms("2026-11-27T04:43:42.002Z") == good + 1  # type: ignore[operator]
