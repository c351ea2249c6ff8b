"""Log sinks deliver the runner's events to stdout, a JSON-lines file and CloudWatch Logs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from lambda_trace.analyzer.model import LogEvent
from lambda_trace.local import logsink
from lambda_trace.local.logsink import CloudWatchSink, JsonLinesSink, StreamSink

GROUP = "/aws/lambda/fn"
STREAM = "2026/11/27/[$LATEST]" + "0" * 32


def events(n: int, stream: str = STREAM, start_ms: int = 1_795_000_000_000) -> list[LogEvent]:
    return [LogEvent(f"line {i}\n", start_ms + i, stream, GROUP) for i in range(n)]


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
        sink.write(LogEvent("x" * 60, 1_795_000_000_000 + i, STREAM, GROUP))  # 86 bytes each
    sink.flush()
    assert calls == [2, 2, 1]
    got = client.get_log_events(logGroupName=GROUP, logStreamName=STREAM)
    assert len(got["events"]) == 5


def test_cloudwatch_sink_needs_a_group_stream_and_timestamp(moto):
    """An event without a destination is a programming error, said plainly."""
    with pytest.raises(ValueError, match="log group, stream and timestamp"):
        CloudWatchSink(moto.client("logs")).write(LogEvent("x", None, STREAM, GROUP))
