"""JSON envelopes give the events inside them, with messages exactly as CloudWatch stored them."""

from __future__ import annotations

import base64
import gzip
import json

from lambda_trace.analyzer.envelopes import (
    Context,
    EmbeddedText,
    decode_embedded,
    event_from_mapping,
    events_from_document,
    is_event_like,
    to_ms,
)
from lambda_trace.analyzer.model import LogEvent
from lambda_trace.analyzer.sourcestats import SourceStats
from lambda_trace.analyzer.timestamps import iso_to_ms

CTX = Context("test")
REPORT = "REPORT RequestId: 6234bffe-149a-b642-81ff-2e8e376d8aff\tDuration: 46.84 ms\t\n"
STREAM = "2019/03/13/[$LATEST]94fa867e5374431291a7fc14e2f56ae7"


def payload(message_type: str = "DATA_MESSAGE") -> dict[str, object]:
    return {
        "messageType": message_type,
        "owner": "123456789012",
        "logGroup": "/aws/lambda/echo-nodejs",
        "logStream": STREAM,
        "subscriptionFilters": ["f"],
        "logEvents": [
            {"id": "1", "timestamp": 1552518348220, "message": REPORT},
            {"id": "2", "timestamp": 1552518348221, "message": "END RequestId: x\n"},
        ],
    }


def gz64(doc: object) -> str:
    return base64.b64encode(gzip.compress(json.dumps(doc).encode())).decode()


def test_cli_get_log_events_output_gives_its_events_in_order() -> None:
    """`aws logs get-log-events`: events with timestamp and message, the message untouched."""
    doc = {
        "events": [
            {
                "timestamp": 1,
                "message": "START RequestId: a Version: $LATEST\n",
                "ingestionTime": 5,
            },
            {"timestamp": 2, "message": 'a\r{\r  "k": 1\r}\n', "ingestionTime": 5},
        ],
        "nextForwardToken": "f/1",
    }
    stats = SourceStats()
    assert events_from_document(doc, CTX, stats) == [
        LogEvent("START RequestId: a Version: $LATEST\n", 1, None, None, "test"),
        LogEvent('a\r{\r  "k": 1\r}\n', 2, None, None, "test"),
    ]


def test_filter_log_events_items_carry_their_log_stream() -> None:
    """`filter-log-events` items name their stream; it is kept on each event."""
    item = {
        "logStreamName": STREAM,
        "timestamp": 7,
        "message": "m\n",
        "ingestionTime": 8,
        "eventId": "3",
    }
    assert events_from_document(item, CTX, SourceStats()) == [
        LogEvent("m\n", 7, STREAM, None, "test")
    ]


def test_a_subscription_payload_gives_group_and_stream_to_its_events() -> None:
    """The decoded subscription payload's logGroup/logStream apply to each of its logEvents."""
    events = events_from_document(payload(), CTX, SourceStats())
    assert events == [
        LogEvent(REPORT, 1552518348220, STREAM, "/aws/lambda/echo-nodejs", "test"),
        LogEvent("END RequestId: x\n", 1552518348221, STREAM, "/aws/lambda/echo-nodejs", "test"),
    ]


def test_a_control_message_has_no_log_events() -> None:
    """CloudWatch's health check payload is recognised and yields nothing."""
    assert events_from_document(payload("CONTROL_MESSAGE"), CTX, SourceStats()) == []


def test_awslogs_data_is_base64_gzip_of_one_or_more_payloads() -> None:
    """`{"awslogs": {"data": …}}` decodes; Firehose-style payloads back to back all count."""
    data = base64.b64encode(
        gzip.compress((json.dumps(payload()) + json.dumps(payload())).encode())
    ).decode()
    events = events_from_document({"awslogs": {"data": data}}, CTX, SourceStats())
    assert events is not None and len(events) == 4
    assert events[0] == LogEvent(REPORT, 1552518348220, STREAM, "/aws/lambda/echo-nodejs", "test")


def test_kinesis_and_firehose_records_are_decoded_too() -> None:
    """A record list whose items carry base64 gzip `data` gives the payloads' events."""
    doc = {
        "Records": [{"kinesis": {"data": gz64(payload())}}, {"kinesis": {"data": gz64(payload())}}]
    }
    events = events_from_document(doc, CTX, SourceStats())
    assert events is not None and [e.message for e in events] == [REPORT, "END RequestId: x\n"] * 2
    firehose = {"records": [{"recordId": "1", "data": gz64(payload())}]}
    assert len(events_from_document(firehose, CTX, SourceStats()) or []) == 2


def test_undecodable_embedded_data_is_counted_not_fatal() -> None:
    """Truncated base64 (as the AWS docs print it) is skipped with a note."""
    stats = SourceStats()
    assert (
        decode_embedded("ewogICAgIm1lc3NhZ2VUeXBlIjogIkRBVEFfTUVTU0FHRSIsCiAgI...", CTX, stats)
        == []
    )
    assert stats.malformed == 1
    assert "could not be decoded" in stats.notes[0]


def test_insights_rows_come_as_dicts_or_field_lists() -> None:
    """An exported row and a GetQueryResults row both give the event, group from @log."""
    row = {
        "@timestamp": "2023-10-20 16:27:46.827",
        "@message": "START\n",
        "@log": "123456789012:/aws/lambda/f",
        "@logStream": STREAM,
    }
    expected = LogEvent(
        "START\n", iso_to_ms("2023-10-20T16:27:46.827Z"), STREAM, "/aws/lambda/f", "test"
    )
    assert events_from_document([row], CTX, SourceStats()) == [expected]
    api = {"results": [[{"field": k, "value": v} for k, v in row.items()]], "status": "Complete"}
    assert events_from_document(api, CTX, SourceStats()) == [expected]


def test_log_result_is_handed_on_as_plain_text() -> None:
    """`invoke --log-type Tail`: LogResult is base64 of the log tail, read as text lines."""
    text = "START RequestId: a Version: $LATEST\nEND RequestId: a\n"
    doc = {
        "StatusCode": 200,
        "LogResult": base64.b64encode(text.encode()).decode(),
        "ExecutedVersion": "$LATEST",
    }
    assert events_from_document(doc, CTX, SourceStats()) == [EmbeddedText(text, "test")]


def test_apex_up_entries_unwrap_to_the_lambda_line() -> None:
    """Up's JSON log entry holds the Lambda line in `message` and local time with an offset."""
    doc = {
        "fields": None,
        "level": "info",
        "timestamp": "2018-05-17T14:46:28+08:00",
        "message": REPORT,
    }
    assert events_from_document(doc, CTX, SourceStats()) == [
        LogEvent(REPORT, iso_to_ms("2018-05-17T06:46:28Z"), None, None, "test")
    ]


def test_an_application_json_log_line_is_not_an_envelope() -> None:
    """A Node/Python JSON log line has timestamp and message too, but it is a message itself."""
    app = {
        "timestamp": "2026-10-08T07:30:29.443Z",
        "level": "ERROR",
        "requestId": "r",
        "message": "x",
    }
    assert events_from_document(app, CTX, SourceStats()) is None
    assert (
        events_from_document({"_aws": {"Timestamp": 1}, "latency": [1, 2]}, CTX, SourceStats())
        is None
    )
    assert (
        events_from_document([{"time": "t", "type": "platform.start"}], CTX, SourceStats()) is None
    )


def test_event_like_elements_and_timestamps() -> None:
    """Elements with a string message are events; timestamps come as numbers, digits or ISO."""
    assert is_event_like({"message": "m"}) and is_event_like([{"field": "@message", "value": "m"}])
    assert not is_event_like({"message": 3}) and not is_event_like(["a"])
    assert to_ms(1718645035826) == to_ms("1718645035826") == 1718645035826
    assert to_ms("2024-06-17T17:23:55.826Z") == 1718645035826
    assert to_ms(True) is None and to_ms(None) is None
    assert event_from_mapping(
        {"message": "m", "logGroupName": "/g"}, Context("o", "/x", "s")
    ) == LogEvent("m", None, "s", "/g", "o")
