"""Log sinks deliver the runner's events to stdout, a JSON-lines file and CloudWatch Logs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from clocks import DAY_MS, HOUR_MS, now_ms

from lambda_trace.analyzer.model import LogEvent
from lambda_trace.local import logsink
from lambda_trace.local.logsink import CloudWatchSink, JsonLinesSink, StreamSink, rejected_counts

GROUP = "/aws/lambda/fn"
STREAM = "2026/11/27/[$LATEST]" + "0" * 32


def events(n: int, stream: str = STREAM, start_ms: int | None = None) -> list[LogEvent]:
    start = now_ms() - 60_000 if start_ms is None else start_ms
    return [LogEvent(f"line {i}\n", start + i, stream, GROUP) for i in range(n)]


def test_the_stream_sink_prints_each_message_on_its_own_line():
    """Messages are printed as they are; a JSON platform event gets its missing newline."""
    out = io.StringIO()
    sink = StreamSink(out)
    sink.write(LogEvent("START RequestId: x Version: $LATEST\n", 1, STREAM, GROUP))
    sink.write(LogEvent('{"type":"platform.start"}', 2, STREAM, GROUP))
    sink.close()
    assert out.getvalue() == 'START RequestId: x Version: $LATEST\n{"type":"platform.start"}\n'


def test_the_json_lines_sink_writes_filter_log_events_shaped_lines(tmp_path: Path):
    """Each line is one event with its stream, timestamp and exact message."""
    path = tmp_path / "logs.jsonl"
    sink = JsonLinesSink(path)
    sink.write(LogEvent("[ERROR] E: x\rTraceback\n", 5, STREAM, GROUP))
    sink.close()
    (line,) = path.read_text().splitlines()
    assert json.loads(line) == {
        "logStreamName": STREAM,
        "timestamp": 5,
        "message": "[ERROR] E: x\rTraceback\n",
        "ingestionTime": 5,
    }


def test_the_json_lines_sink_reports_an_unwritable_path(tmp_path: Path):
    """A path that cannot be opened is an OSError naming it."""
    with pytest.raises(OSError, match="cannot write"):
        JsonLinesSink(tmp_path / "missing" / "logs.jsonl")


def test_cloudwatch_sink_creates_the_group_and_streams_and_keeps_order(moto, monkeypatch):
    """Events land in their group and stream, in order, in batches of at most the limit."""
    monkeypatch.setattr(logsink, "MAX_BATCH_EVENTS", 4)
    client = moto.client("logs")
    calls = []
    original = client.put_log_events
    monkeypatch.setattr(
        client, "put_log_events", lambda **kw: calls.append(len(kw["logEvents"])) or original(**kw)
    )
    sink = CloudWatchSink(client)
    other = "2026/11/27/[$LATEST]" + "1" * 32
    for event in events(10) + events(2, other):
        sink.write(event)
    sink.flush()
    assert calls == [4, 4, 2, 2] and sink.events_sent == 12
    got = client.get_log_events(logGroupName=GROUP, logStreamName=STREAM, startFromHead=True)
    assert [e["message"] for e in got["events"]] == [f"line {i}\n" for i in range(10)]
    streams = client.describe_log_streams(logGroupName=GROUP)["logStreams"]
    assert sorted(s["logStreamName"] for s in streams) == sorted([STREAM, other])


def test_cloudwatch_sink_reuses_an_existing_group(moto):
    """A group that already exists (a second run) is written to, not an error."""
    client = moto.client("logs")
    client.create_log_group(logGroupName=GROUP)
    sink = CloudWatchSink(client)
    sink.write(events(1)[0])
    sink.close()
    assert sink.events_sent == 1


def test_cloudwatch_sink_splits_batches_by_size(moto, monkeypatch):
    """A batch never exceeds PutLogEvents' byte limit (message bytes + 26 per event)."""
    monkeypatch.setattr(logsink, "MAX_BATCH_BYTES", 200)
    client = moto.client("logs")
    calls = []
    original = client.put_log_events
    monkeypatch.setattr(
        client, "put_log_events", lambda **kw: calls.append(len(kw["logEvents"])) or original(**kw)
    )
    sink = CloudWatchSink(client)
    for i in range(5):
        sink.write(LogEvent("x" * 60, now_ms() - 1000 + i, STREAM, GROUP))  # 86 bytes each
    sink.flush()
    assert calls == [2, 2, 1]
    got = client.get_log_events(logGroupName=GROUP, logStreamName=STREAM)
    assert len(got["events"]) == 5


def test_cloudwatch_sink_needs_a_group_stream_and_timestamp(moto):
    """An event without a destination is a programming error, said plainly."""
    with pytest.raises(ValueError, match="log group, stream and timestamp"):
        CloudWatchSink(moto.client("logs")).write(LogEvent("x", None, STREAM, GROUP))


def stored(client, stream: str = STREAM) -> list[str]:  # type: ignore[no-untyped-def]
    got = client.get_log_events(logGroupName=GROUP, logStreamName=stream, startFromHead=True)
    return [e["message"] for e in got["events"]]


def test_events_older_than_14_days_are_counted_and_reported(moto):
    """CloudWatch refuses them (tooOldLogEventEndIndex): counted, one stderr line on close."""
    client = moto.client("logs")
    err = io.StringIO()
    sink = CloudWatchSink(client, stderr=err)
    for event in events(5, start_ms=now_ms() - 15 * DAY_MS):
        sink.write(event)
    sink.close()
    assert stored(client) == []
    assert sink.events_sent == 0 and sink.events_lost == 5
    assert sink.lost == {"older than 14 days": 5}
    assert err.getvalue() == (
        "lambda-trace: CloudWatch Logs did not store 5 of 5 log events: 5 older than 14 days\n"
    )


def test_events_more_than_2_hours_ahead_are_counted_and_reported(moto):
    """CloudWatch refuses them (tooNewLogEventStartIndex): counted, one stderr line on close."""
    client = moto.client("logs")
    err = io.StringIO()
    sink = CloudWatchSink(client, stderr=err)
    for event in events(4, start_ms=now_ms() + 3 * HOUR_MS):
        sink.write(event)
    sink.close()
    assert stored(client) == []
    assert sink.lost == {"more than 2 hours in the future": 4} and sink.events_sent == 0
    assert "did not store 4 of 4 log events: 4 more than 2 hours in the future" in err.getvalue()


def test_a_mixed_batch_keeps_the_good_events_and_counts_the_rest(moto):
    """Old, good and future events in one PutLogEvents call: only the good ones are stored."""
    client = moto.client("logs")
    err = io.StringIO()
    sink = CloudWatchSink(client, stderr=err)
    now = now_ms()
    stamps = [now - 20 * DAY_MS, now - 15 * DAY_MS, now - 2000, now - 1000, now, now + 5 * HOUR_MS]
    for i, stamp in enumerate(stamps):
        sink.write(LogEvent(f"e{i}\n", stamp, STREAM, GROUP))
    sink.close()
    assert stored(client) == ["e2\n", "e3\n", "e4\n"]
    assert sink.events_sent == 3
    assert sink.lost == {"older than 14 days": 2, "more than 2 hours in the future": 1}
    (line,) = err.getvalue().splitlines()
    assert line == (
        "lambda-trace: CloudWatch Logs did not store 3 of 6 log events: "
        "1 more than 2 hours in the future, 2 older than 14 days"
    )


def test_nothing_lost_means_nothing_on_stderr(moto):
    """A clean run prints nothing and reports no loss."""
    err = io.StringIO()
    sink = CloudWatchSink(moto.client("logs"), stderr=err)
    for event in events(3):
        sink.write(event)
    sink.close()
    assert sink.events_lost == 0 and sink.loss_line() is None and err.getvalue() == ""


def test_a_failed_put_drops_the_batch_and_says_why(moto):
    """The log group vanishes between two batches: PutLogEvents fails, its events are counted."""
    client = moto.client("logs")
    err = io.StringIO()
    sink = CloudWatchSink(client, stderr=err)
    for event in events(2):
        sink.write(event)
    sink.flush()
    client.delete_log_group(logGroupName=GROUP)
    for event in events(3):
        sink.write(event)
    sink.close()
    assert sink.events_sent == 2
    assert sink.lost == {"not sent (ResourceNotFoundException)": 3}
    assert "did not store 3 of 5 log events: 3 not sent (ResourceNotFoundException)" in (
        err.getvalue()
    )


def test_a_group_that_cannot_be_created_loses_its_events_counted(moto):
    """CreateLogGroup refuses a name over 512 characters: the batch is counted as not sent."""
    client = moto.client("logs")
    sink = CloudWatchSink(client, stderr=io.StringIO())
    sink.write(LogEvent("x\n", now_ms(), STREAM, "/aws/lambda/" + "f" * 600))
    sink.close()
    assert sink.lost == {"not sent (InvalidParameterException)": 1} and sink.events_sent == 0


def test_events_written_out_of_order_are_sent_in_order(moto):
    """PutLogEvents refuses an unordered batch; the sink sorts each batch by timestamp."""
    client = moto.client("logs")
    sink = CloudWatchSink(client, stderr=io.StringIO())
    now = now_ms()
    for stamp, text in [(now, "c"), (now - 20, "a"), (now - 10, "b"), (now - 10, "b2")]:
        sink.write(LogEvent(text, stamp, STREAM, GROUP))
    sink.close()
    assert stored(client) == ["a", "b", "b2", "c"] and sink.events_lost == 0


def test_a_batch_never_spans_more_than_24_hours(moto, monkeypatch):
    """Events two days apart go in separate PutLogEvents calls (the API's 24-hour rule)."""
    client = moto.client("logs")
    calls = []
    original = client.put_log_events
    monkeypatch.setattr(
        client, "put_log_events", lambda **kw: calls.append(len(kw["logEvents"])) or original(**kw)
    )
    sink = CloudWatchSink(client, stderr=io.StringIO())
    now = now_ms()
    for stamp in (now - 3 * DAY_MS, now - 3 * DAY_MS + 1, now - 25 * HOUR_MS, now):
        sink.write(LogEvent("x", stamp, STREAM, GROUP))
    sink.close()
    assert calls == [2, 1, 1] and sink.events_sent == 4 and sink.events_lost == 0


NOW = 10 * DAY_MS  # rejected_counts is pure: any clock will do
OLD, GOOD, NEW = NOW - 15 * DAY_MS, NOW, NOW + 3 * HOUR_MS


@pytest.mark.parametrize(
    ("info", "stamps", "expected"),
    [
        # The API reference: tooOldLogEventEndIndex exclusive, tooNewLogEventStartIndex inclusive.
        ({"tooOldLogEventEndIndex": 2}, [OLD, OLD, GOOD], {"older than 14 days": 2}),
        ({"tooNewLogEventStartIndex": 1}, [GOOD, NEW, NEW], {"more than 2 hours in the future": 2}),
        # moto: the index of the last too-old event, and of the last too-new one.
        ({"tooOldLogEventEndIndex": 1}, [OLD, OLD, GOOD], {"older than 14 days": 2}),
        ({"tooNewLogEventStartIndex": 2}, [GOOD, NEW, NEW], {"more than 2 hours in the future": 2}),
        ({"tooOldLogEventEndIndex": 0}, [OLD], {"older than 14 days": 1}),
        # expiredLogEventEndIndex (the group's retention), read as an exclusive end.
        ({"expiredLogEventEndIndex": 2}, [GOOD - 5, GOOD - 4, GOOD],
         {"older than the log group's retention": 2}),
        ({"tooOldLogEventEndIndex": 1, "expiredLogEventEndIndex": 2}, [OLD, GOOD - 4, GOOD],
         {"older than 14 days": 1, "older than the log group's retention": 1}),
        ({}, [GOOD], {}),
    ],
)
def test_rejected_counts_reads_both_index_conventions(info, stamps, expected):
    assert rejected_counts(info, stamps, now_ms=NOW) == expected
