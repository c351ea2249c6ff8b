"""Tool prefixes (tail, sam, timestamp columns, Insights tables) are recognised and taken off."""

from __future__ import annotations

import pytest

from lambda_trace.analyzer.lineformats import (
    is_csv_header,
    is_table_separator,
    split_prefix,
    table_header,
    table_row,
)
from lambda_trace.analyzer.timestamps import iso_to_ms

STREAM = "2026/01/07/[$LATEST]8fe741cb1a354837b4c60dfd3ca55f7a"


def test_aws_logs_tail_lines_give_time_stream_and_message() -> None:
    """`aws logs tail` detailed format: timestamp with zone, log stream, then the message."""
    p = split_prefix(
        f"2026-01-07T14:32:05.060000+00:00 {STREAM} START RequestId: 717f Version: $LATEST"
    )
    assert p is not None and p.kind == "tail"
    assert p.message == "START RequestId: 717f Version: $LATEST"
    assert p.log_stream == STREAM
    assert p.timestamp_ms == iso_to_ms("2026-01-07T14:32:05.060Z")


def test_markdown_decoration_goes_with_the_prefix() -> None:
    """A pasted `## ` in front of a tail line is not part of the message."""
    p = split_prefix(f"## 2026-01-07T14:32:05.060000+00:00 {STREAM} Connecting to DocumentDB...")
    assert p is not None and (p.kind, p.message, p.decoration) == (
        "tail",
        "Connecting to DocumentDB...",
        "## ",
    )


def test_sam_logs_lines_give_stream_time_and_message() -> None:
    """`sam logs`: log stream first, then a timestamp without zone (UTC), then the message."""
    line = (
        "   2025/02/20/[$LATEST]4eaf8445ba7a4a93b999cb17fbfbecd8 2025-09-20T14:15:30.680000 "
        "END RequestId: bed25b38-d012-42e7-ba28-f272535fb80e"
    )
    p = split_prefix(line)
    assert p is not None and p.kind == "sam"
    assert p.log_stream == "2025/02/20/[$LATEST]4eaf8445ba7a4a93b999cb17fbfbecd8"
    assert p.message == "END RequestId: bed25b38-d012-42e7-ba28-f272535fb80e"
    assert p.timestamp_ms == iso_to_ms("2025-09-20T14:15:30.680Z")
    assert p.decoration == "   "


@pytest.mark.parametrize(
    ("line", "message", "has_time"),
    [
        (
            "2024-09-10T13:32:59.424Z REPORT RequestId: fa60\tDuration: 1.00 ms",
            "REPORT RequestId: fa60\tDuration: 1.00 ms",
            True,
        ),
        (
            "2024-09-10T13:32:01.979Z [INFO]\t2024-09-10T13:32:01.979Z\tid\tCollecting",
            "[INFO]\t2024-09-10T13:32:01.979Z\tid\tCollecting",
            True,
        ),
        (
            "16:36:11 START RequestId: 8d59 Version: $LATEST",
            "START RequestId: 8d59 Version: $LATEST",
            False,
        ),
        (
            "     * 2026-08-26T10:52:40.072 INIT_REPORT Init Duration: 13316.04 ms",
            "INIT_REPORT Init Duration: 13316.04 ms",
            True,
        ),
        (
            "2023-10-20 16:27:46.827 Task timed out after 31.01 seconds",
            "Task timed out after 31.01 seconds",
            True,
        ),
    ],
)
def test_a_timestamp_column_is_taken_off(line: str, message: str, has_time: bool) -> None:
    """A copy's leading timestamp column goes; a bare time of day gives no timestamp."""
    p = split_prefix(line)
    assert p is not None and p.kind == "column"
    assert p.message == message
    assert (p.timestamp_ms is not None) is has_time


@pytest.mark.parametrize(
    "line",
    [
        "2019-06-05T19:30:03.173Z\t4ce9340a-b765-490f-ad8a-02ab3415e2bf\tINFO\tENVIRONMENT",
        "2016-04-14T23:52:45.715Z b47cde10-029a-11e6-b5d6-1f01b70b94b2 Task timed out after 2 s ",
        "2025-06-09T00:24:05.061Z\tundefined\tERROR\tUncaught Exception \t",
        "2025-09-20T14:15:29.201Z        bed25b38-d012-42e7-ba28-f272535fb80e    info   {}",
        "2020/03/27 03:40:05 EVENT: {",
        "START RequestId: 4ce9340a-b765-490f-ad8a-02ab3415e2bf Version: $LATEST",
        "    Task timed out after 60.00 seconds",
    ],
)
def test_a_runtime_timestamp_belongs_to_the_message(line: str) -> None:
    """`<ts> <request id> …` is how Node.js and .NET write lines: nothing is taken off."""
    assert split_prefix(line) is None


@pytest.mark.parametrize(
    ("line", "dated"),
    [
        ("2025-05-21T03:29:26.330Z", True),
        ("19:13:55", False),
        ("  2026-10-08T07:30:27.768Z  ", True),
    ],
)
def test_a_line_holding_only_a_timestamp_is_recognised(line: str, dated: bool) -> None:
    """The console's copy puts the event time on a line of its own."""
    p = split_prefix(line)
    assert p is not None and p.kind == "timestamp" and p.message == ""
    assert (p.timestamp_ms is not None) is dated


def test_insights_markdown_tables_are_read_by_column() -> None:
    """Header, separator, then rows; a `|` inside the message (escaped or not) stays in it."""
    columns = table_header("| @timestamp | @message | @log |")
    assert columns == ["@timestamp", "@message", "@log"]
    assert is_table_separator("| --- | --- | --- |")
    row = table_row(
        "| 2025-07-18 09:45:55.990 | [NR_EXT] a | b \\| c | 1234:/aws/lambda/x |", columns
    )
    assert row == {
        "@timestamp": "2025-07-18 09:45:55.990",
        "@message": "[NR_EXT] a | b | c",
        "@log": "1234:/aws/lambda/x",
    }
    assert table_header("| name | value |") is None


def test_insights_csv_headers_are_recognised() -> None:
    """An Insights CSV export starts with its field names."""
    assert is_csv_header("@timestamp,@message,@logStream")
    assert is_csv_header('"@timestamp","@message"')
    assert not is_csv_header("@here is a message, with a comma")
