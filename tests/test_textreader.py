"""Lines of any envelope or copy become the CloudWatch events they came from, in order."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator

from lambda_trace.analyzer.inputs import MAX_LINE_CHARS, LongLine
from lambda_trace.analyzer.model import LogEvent
from lambda_trace.analyzer.sourcestats import SourceStats
from lambda_trace.analyzer.textreader import TextReader
from lambda_trace.analyzer.timestamps import iso_to_ms

STREAM = "2026/01/07/[$LATEST]8fe741cb1a354837b4c60dfd3ca55f7a"
XRAY = "XRAY TraceId: 1-5e34a614-10bdxmplf1fb44f07bc535a1\tSegmentId: 07f5xmpl\tSampled: true"


def read(text: str | list[object], stats: SourceStats | None = None) -> list[LogEvent]:
    lines = text.split("\n") if isinstance(text, str) else text
    return list(TextReader("t", stats or SourceStats()).read(lines))  # type: ignore[arg-type]


def messages(text: str) -> list[str]:
    return [e.message for e in read(text)]


def test_plain_lines_are_one_event_each_and_blank_lines_none() -> None:
    """Every non-blank line is an event with its exact text; nothing else is added."""
    text = "START RequestId: a Version: $LATEST\n\n  indented print()\nEND RequestId: a \t\n"
    stats = SourceStats()
    events = read(text, stats)
    assert [e.message for e in events] == [
        "START RequestId: a Version: $LATEST",
        "  indented print()",
        "END RequestId: a \t",
    ]
    assert all(e.timestamp_ms is None and e.log_stream is None and e.origin == "t" for e in events)
    assert stats.events == 3


def test_json_log_lines_are_messages_as_they_are() -> None:
    """Platform JSON, EMF, app JSON and our records are passed through without change."""
    lines = [
        '{"time":"2024-06-17T17:23:55.902Z","type":"platform.start","record":{"requestId":"r","version":"$LATEST"}}',
        '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"latency":3}',
        '{"timestamp": "2024-06-18T02:07:06Z", "level": "ERROR", "message": "had an error"}',
        '{"lambda_trace": 1, "type": "call", "request_id": "r"}',
        '[{"time":"t","type":"platform.initStart"}]',
    ]
    assert messages("\n".join(lines)) == lines


def test_a_console_duplicate_after_a_blank_line_is_dropped() -> None:
    """The console shows an event, a blank line, then the same event with tabs as spaces."""
    stats = SourceStats()
    text = (
        "INIT_START Runtime Version: java:21.v38\tRuntime Version ARN: arn:x\n\n"
        "INIT_START Runtime Version: java:21.v38 Runtime Version ARN: arn:x\n"
        "START RequestId: a Version: $LATEST"
    )
    assert [e.message for e in read(text, stats)] == [
        "INIT_START Runtime Version: java:21.v38\tRuntime Version ARN: arn:x",
        "START RequestId: a Version: $LATEST",
    ]
    assert stats.duplicates_dropped == 1


def test_repeated_lines_that_are_not_console_duplicates_are_kept() -> None:
    """Back-to-back repeats, or repeats with their own timestamp line, are separate events."""
    assert (
        len(messages("[ERROR] Runtime.HandlerNotFound: x\n[ERROR] Runtime.HandlerNotFound: x")) == 2
    )
    text = "2025-06-09T00:24:05.061Z\nretrying\n\n2025-06-09T00:24:06.061Z\nretrying"
    assert [e.timestamp_ms for e in read(text)] == [
        iso_to_ms("2025-06-09T00:24:05.061Z"),
        iso_to_ms("2025-06-09T00:24:06.061Z"),
    ]


def test_a_timestamp_line_dates_the_next_event_only() -> None:
    """Console copies put each event's time on the line above it."""
    events = read("2025-05-21T03:29:27.829Z\nSTART RequestId: a Version: $LATEST\nEND RequestId: a")
    assert events[0] == LogEvent(
        "START RequestId: a Version: $LATEST",
        iso_to_ms("2025-05-21T03:29:27.829Z"),
        None,
        None,
        "t",
    )
    assert events[1].timestamp_ms is None


def test_an_expanded_json_value_is_joined_back_onto_its_line() -> None:
    """`…Uncaught Exception \\t` + pretty JSON + the collapsed copy make one event."""
    text = (
        "2025-06-09T00:24:05.061Z\n"
        "2025-06-09T00:24:05.061Z\tundefined\tERROR\tUncaught Exception \t\n"
        "{\n"
        '    "errorType": "Runtime.ImportModuleError",\n'
        '    "stack": [\n'
        '        "a b"\n'
        "    ]\n"
        "}\n\n\n"
        "2025-06-09T00:24:05.061Z undefined ERROR Uncaught Exception "
        '{"errorType":"Runtime.ImportModuleError","stack":["a b"]}\n'
        "2025-06-09T00:24:05.078Z\n"
        "INIT_REPORT Init Duration: 229.04 ms\tPhase: init\tStatus: error"
    )
    stats = SourceStats()
    events = read(text, stats)
    assert [e.message for e in events] == [
        "2025-06-09T00:24:05.061Z\tundefined\tERROR\tUncaught Exception \t"
        '{"errorType":"Runtime.ImportModuleError","stack":["a b"]}',
        "INIT_REPORT Init Duration: 229.04 ms\tPhase: init\tStatus: error",
    ]
    assert events[0].timestamp_ms == iso_to_ms("2025-06-09T00:24:05.061Z")
    assert stats.duplicates_dropped == 1


def test_a_line_ending_in_a_tab_is_not_lost_when_no_json_follows() -> None:
    """The line held back in case an expanded value follows is still emitted, in order."""
    assert messages("REPORT RequestId: a\tDuration: 1.00 ms\t\nEND RequestId: b\nlast\t") == [
        "REPORT RequestId: a\tDuration: 1.00 ms\t",
        "END RequestId: b",
        "last\t",
    ]


def test_a_pretty_value_and_its_raw_line_in_a_console_copy_are_one_event() -> None:
    """LogFormat=JSON console copy: time line, expanded JSON, blank, raw JSON: one event."""
    raw = (
        '{"time":"2026-10-08T07:30:28.235Z","type":"platform.start",'
        '"record":{"requestId":"79b5","version":"$LATEST"}}'
    )
    pretty = json.dumps(json.loads(raw), indent=4)
    events = read(f"\n2026-10-08T07:30:28.235Z\n{pretty}\n\n{raw}\n")
    assert events == [LogEvent(raw, iso_to_ms("2026-10-08T07:30:28.235Z"), None, None, "t")]


def test_tail_output_continues_multi_line_events_on_unprefixed_lines() -> None:
    """`aws logs tail`: a REPORT's XRAY line has no prefix and belongs to the same event."""
    text = (
        f"2026-01-07T14:32:06.087000+00:00 {STREAM} REPORT RequestId: a\tDuration: 1.00 ms\n"
        f"{XRAY}\n"
        f"2026-01-07T14:32:07.000000+00:00 {STREAM} START RequestId: b Version: $LATEST\n"
    )
    events = read(text)
    assert events == [
        LogEvent(
            f"REPORT RequestId: a\tDuration: 1.00 ms\n{XRAY}",
            iso_to_ms("2026-01-07T14:32:06.087Z"),
            STREAM,
            None,
            "t",
        ),
        LogEvent(
            "START RequestId: b Version: $LATEST",
            iso_to_ms("2026-01-07T14:32:07Z"),
            STREAM,
            None,
            "t",
        ),
    ]


def test_jsonl_envelopes_and_raw_lines_can_be_mixed() -> None:
    """boto3 event dicts, a compact CLI page and raw lines in one file all come out in order."""
    page = {
        "events": [
            {
                "logStreamName": "s",
                "timestamp": 3,
                "message": "END RequestId: a\n",
                "ingestionTime": 4,
            }
        ]
    }
    text = "\n".join(
        [
            json.dumps(
                {
                    "timestamp": 1,
                    "message": "START RequestId: a Version: $LATEST\n",
                    "ingestionTime": 2,
                }
            ),
            "a raw print() line",
            json.dumps(page),
            "{'timestamp': 5, 'message': 'REPORT RequestId: a\\tDuration: 1.00 ms\\n', "
            "'ingestionTime': 6}",
        ]
    )
    assert [(e.message, e.timestamp_ms, e.log_stream) for e in read(text)] == [
        ("START RequestId: a Version: $LATEST\n", 1, None),
        ("a raw print() line", None, None),
        ("END RequestId: a\n", 3, "s"),
        ("REPORT RequestId: a\tDuration: 1.00 ms\n", 5, None),
    ]


def test_a_pretty_document_followed_by_text_gives_both() -> None:
    """After a multi-line envelope ends, the lines after it are read as usual."""
    doc = json.dumps(
        {"events": [{"timestamp": 1, "message": "START\n"}], "nextForwardToken": "f"}, indent=4
    )
    assert messages(doc + "\nafter the document\n" + doc) == [
        "START\n",
        "after the document",
        "START\n",
    ]


def test_back_to_back_pretty_documents_are_all_read() -> None:
    """Two pretty payloads one after the other (as the AWS docs print them) both count."""
    payload = {
        "messageType": "DATA_MESSAGE",
        "logGroup": "/g",
        "logStream": "s",
        "logEvents": [{"id": "1", "timestamp": 1, "message": "m\n"}],
    }
    text = (
        json.dumps(payload, indent=2) + "\n" + json.dumps(payload, indent=2) + json.dumps(payload)
    )
    events = read(text)
    assert [(e.message, e.log_group, e.log_stream) for e in events] == [("m\n", "/g", "s")] * 3


def test_a_line_that_only_looks_like_json_stays_a_line() -> None:
    """A cut JSON line and the lines after it keep their text and their order."""
    text = (
        '{"_aws": {"Timestamp": 1, "Metrics": [{"Name": "Bil\n'
        "{\nSTART RequestId: a Version: $LATEST\n[\nEND RequestId: a"
    )
    assert messages(text) == [
        '{"_aws": {"Timestamp": 1, "Metrics": [{"Name": "Bil',
        "{",
        "START RequestId: a Version: $LATEST",
        "[",
        "END RequestId: a",
    ]


def test_insights_markdown_table_rows_are_events() -> None:
    """Header and separator are not events; each row is, with its time and log group."""
    text = (
        "| @timestamp | @message | @log |\n| --- | --- | --- |\n"
        "| 2025-07-18 09:45:55.990 | [NR_EXT] Extension shutdown after 809828ms "
        "| 12345678910:/aws/lambda/my-rust-lambda |"
    )
    assert read(text) == [
        LogEvent(
            "[NR_EXT] Extension shutdown after 809828ms",
            iso_to_ms("2025-07-18T09:45:55.990Z"),
            None,
            "/aws/lambda/my-rust-lambda",
            "t",
        )
    ]


def test_insights_csv_rows_are_events_even_across_lines() -> None:
    """A quoted message may hold newlines (REPORT + XRAY); the CSV reader keeps it whole."""
    text = (
        "@timestamp,@message,@logStream\n"
        '2023-10-20 16:27:46.827,"REPORT RequestId: a\nXRAY TraceId: 1-x",s1\n'
        "2023-10-20 16:27:47.000,END RequestId: a,s1\n"
    )
    assert [(e.message, e.log_stream) for e in read(text)] == [
        ("REPORT RequestId: a\nXRAY TraceId: 1-x", "s1"),
        ("END RequestId: a", "s1"),
    ]


def test_a_base64_gzip_line_is_a_subscription_payload() -> None:
    """Kinesis/Firehose record data saved one per line decodes to its log events."""
    payload = {
        "messageType": "DATA_MESSAGE",
        "logGroup": "/g",
        "logStream": "s",
        "logEvents": [{"id": "1", "timestamp": 9, "message": "m\n"}],
    }
    line = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
    assert read(f"before\n{line}\nafter") == [
        LogEvent("before", None, None, None, "t"),
        LogEvent("m\n", 9, "s", "/g", "t"),
        LogEvent("after", None, None, None, "t"),
    ]


def test_an_invoke_response_log_result_is_read_as_lines() -> None:
    """The pretty `aws lambda invoke --log-type Tail` output gives the decoded log's lines."""
    tail = "START RequestId: a Version: $LATEST\nhello\nEND RequestId: a\n"
    doc = {
        "StatusCode": 200,
        "LogResult": base64.b64encode(tail.encode()).decode(),
        "ExecutedVersion": "$LATEST",
    }
    stats = SourceStats()
    assert [e.message for e in read(json.dumps(doc, indent=4), stats)] == [
        "START RequestId: a Version: $LATEST",
        "hello",
        "END RequestId: a",
    ]
    assert stats.events == 3


def test_an_over_long_line_is_cut_and_counted() -> None:
    """A plain line past the limit keeps its first piece; the next line is intact."""
    stats = SourceStats()
    pieces = [
        LongLine("x" * MAX_LINE_CHARS, first=True, last=False),
        LongLine("y" * 10, first=False, last=True),
        "END RequestId: a",
    ]
    events = read(pieces, stats)
    assert [len(e.message) for e in events] == [MAX_LINE_CHARS, len("END RequestId: a")]
    assert stats.truncated_lines == 1


def test_a_huge_one_line_json_document_is_streamed_from_its_pieces() -> None:
    """`filter-log-events | jq -c` on one line, past the line limit, still gives its events."""
    doc = json.dumps(
        {
            "events": [
                {"timestamp": i, "message": "m" * 100 + "\n", "ingestionTime": 1}
                for i in range(30_000)
            ]
        }
    )
    assert len(doc) > 3 * MAX_LINE_CHARS
    pieces: list[object] = [
        LongLine(doc[i : i + MAX_LINE_CHARS], first=i == 0, last=i + MAX_LINE_CHARS >= len(doc))
        for i in range(0, len(doc), MAX_LINE_CHARS)
    ]
    stats = SourceStats()
    events = read([*pieces, "after"], stats)
    assert len(events) == 30_001
    assert events[29_999].timestamp_ms == 29_999 and events[-1].message == "after"
    assert stats.truncated_lines == 0


def test_events_of_a_large_pretty_document_stream_out_as_it_is_read() -> None:
    """The first event of `filter-log-events` output arrives long before the input is all read."""
    items = [{"timestamp": i, "message": f"m{i}\n", "ingestionTime": 1} for i in range(20_000)]
    doc = {"events": items}
    lines = json.dumps(doc, indent=4).split("\n")
    pulled = 0

    def source() -> Iterator[str]:
        nonlocal pulled
        for line in lines:
            pulled += 1
            yield line

    events = TextReader("t", SourceStats()).read(source())
    assert next(events).message == "m0\n"
    assert pulled < len(lines) // 20
    assert sum(1 for _ in events) == 19_999
