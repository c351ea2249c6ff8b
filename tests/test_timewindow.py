"""--since/--until accept relative, ISO 8601 and epoch values, and reject unusable windows."""

from __future__ import annotations

import pytest

from lambda_trace.analyzer.errors import CliError
from lambda_trace.analyzer.timestamps import iso_to_ms
from lambda_trace.analyzer.timewindow import (
    TimeWindow,
    parse_duration_ms,
    parse_time,
    resolve_window,
)

NOW = 1_800_000_000_000  # 2027-01-15T08:00:00Z


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("30s", 30_000),
        ("15m", 900_000),
        ("1h", 3_600_000),
        ("2d", 172_800_000),
        ("1w", 604_800_000),
        ("1h30m", 5_400_000),
        ("90 min", 5_400_000),
        ("2 days ago", 172_800_000),
        ("1.5h", 5_400_000),
    ],
)
def test_relative_values_count_back_from_now(text: str, ms: int) -> None:
    """A duration means that long before now."""
    assert parse_duration_ms(text) == ms
    assert parse_time(text, now=NOW) == NOW - ms


def test_iso_values_without_zone_are_utc_and_with_zone_are_converted() -> None:
    """ISO 8601 is read as UTC unless it says otherwise."""
    assert parse_time("2024-06-17T17:23:55", now=NOW) == iso_to_ms("2024-06-17T17:23:55Z")
    assert parse_time("2024-06-17T19:23:55+02:00", now=NOW) == iso_to_ms("2024-06-17T17:23:55Z")
    assert parse_time("2024-06-17", now=NOW) == iso_to_ms("2024-06-17T00:00:00Z")


def test_epoch_values_are_milliseconds_or_seconds_by_their_size() -> None:
    """13-digit integers are epoch ms; 10-digit ones are epoch seconds."""
    assert parse_time("1718645035826", now=NOW) == 1718645035826
    assert parse_time("1718645035", now=NOW) == 1718645035000
    assert parse_time("now", now=NOW) == NOW


@pytest.mark.parametrize("text", ["yesterday", "15x", "2024-99-01", "1h and a bit", ""])
def test_unreadable_values_raise_one_clear_error(text: str) -> None:
    """A value that is none of the forms raises CliError naming the value and the forms."""
    with pytest.raises(CliError) as info:
        parse_time(text, now=NOW)
    assert repr(text) in str(info.value)
    assert "relative" in str(info.value)


def test_since_after_until_is_rejected() -> None:
    """An empty window is an error, not a silent empty result."""
    with pytest.raises(CliError, match="is after --until"):
        resolve_window("1h", "2h", now=NOW)


def test_defaults_fill_a_missing_start_and_end() -> None:
    """CloudWatch reading defaults to the last hour up to now; files default to no bounds."""
    assert resolve_window(None, None, now=NOW) == TimeWindow(None, None)
    window = resolve_window(None, None, now=NOW, default_since="1h", default_until_now=True)
    assert window == TimeWindow(NOW - 3_600_000, NOW)
    assert resolve_window("2h", None, now=NOW) == TimeWindow(NOW - 7_200_000, None)


def test_window_contains_its_closed_bounds_only() -> None:
    """Both ends belong to the window; an open end is unbounded."""
    window = TimeWindow(100, 200)
    assert window.contains(100) and window.contains(200)
    assert not window.contains(99) and not window.contains(201)
    assert TimeWindow(None, 200).contains(-5)
    assert not TimeWindow().bounded
