"""Where the runner's log events go: stdout, a JSON-lines file, or CloudWatch Logs.

A sink receives ``LogEvent``s (the analyzer's own input shape) in order, per log stream, and is
flushed after every invocation. The CloudWatch sink uses the same API calls Lambda's log
delivery ends in (CreateLogGroup/CreateLogStream/PutLogEvents), so the analyzer's CloudWatch
source is exercised end to end against moto.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from pathlib import Path
from typing import IO, Any, Optional, Protocol

from lambda_trace.analyzer.model import LogEvent

#: PutLogEvents limits: 10,000 events and 1,048,576 bytes (message bytes + 26 per event).
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26


class LogSink(Protocol):
    """Receives the log events of one or more functions."""

    def write(self, event: LogEvent) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class StreamSink:
    """Each event's message as Lambda's console shows it: the text, one event after another."""

    def __init__(self, stream: Optional[IO[str]] = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, event: LogEvent) -> None:
        message = event.message if event.message.endswith("\n") else event.message + "\n"
        with self._lock:
            (self._stream or sys.stdout).write(message)

    def flush(self) -> None:
        with self._lock:
            (self._stream or sys.stdout).flush()

    def close(self) -> None:
        self.flush()


class JsonLinesSink:
    """One ``filter_log_events`` event per line (FORMATS §7.2/7.3), lossless.

    Keys: ``logStreamName``, ``timestamp`` (epoch ms), ``message``, ``ingestionTime``; the
    analyzer reads the file back as it reads a saved ``aws logs filter-log-events`` answer.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self._file: IO[str] = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise OSError(f"cannot write {path}: {exc.strerror or exc}") from exc
        self._lock = threading.Lock()

    def write(self, event: LogEvent) -> None:
        line = json.dumps(
            {
                "logStreamName": event.log_stream,
                "timestamp": event.timestamp_ms,
                "message": event.message,
                "ingestionTime": event.timestamp_ms,
            },
            ensure_ascii=False,
        )
        with self._lock:
            self._file.write(line + "\n")

    def flush(self) -> None:
        with self._lock:
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class CloudWatchSink:
    """PutLogEvents in batches into each event's log group and stream (created when missing)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._groups: set[str] = set()
        self._streams: set[tuple[str, str]] = set()
        #: (group, stream) -> pending events, in order
        self._pending: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._pending_bytes: dict[tuple[str, str], int] = {}
        self.events_sent = 0

    def write(self, event: LogEvent) -> None:
        if not event.log_group or not event.log_stream or event.timestamp_ms is None:
            raise ValueError("CloudWatchSink needs events with a log group, stream and timestamp")
        key = (event.log_group, event.log_stream)
        size = len(event.message.encode("utf-8")) + EVENT_OVERHEAD_BYTES
        with self._lock:
            batch = self._pending.setdefault(key, [])
            used = self._pending_bytes.get(key, 0)
            if batch and (len(batch) >= MAX_BATCH_EVENTS or used + size > MAX_BATCH_BYTES):
                self._send(key)
                batch = self._pending.setdefault(key, [])
                used = 0
            batch.append({"timestamp": event.timestamp_ms, "message": event.message})
            self._pending_bytes[key] = used + size

    def flush(self) -> None:
        with self._lock:
            for key in list(self._pending):
                self._send(key)

    def close(self) -> None:
        self.flush()

    def _send(self, key: tuple[str, str]) -> None:
        events = self._pending.pop(key, [])
        self._pending_bytes.pop(key, None)
        if not events:
            return
        group, stream = key
        self._ensure(group, stream)
        self._client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
        self.events_sent += len(events)

    def _ensure(self, group: str, stream: str) -> None:
        if group not in self._groups:
            with contextlib.suppress(self._client.exceptions.ResourceAlreadyExistsException):
                self._client.create_log_group(logGroupName=group)
            self._groups.add(group)
        if (group, stream) not in self._streams:
            with contextlib.suppress(self._client.exceptions.ResourceAlreadyExistsException):
                self._client.create_log_stream(logGroupName=group, logStreamName=stream)
            self._streams.add((group, stream))
