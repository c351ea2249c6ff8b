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
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, Callable, Optional, Protocol

from lambda_trace.logevent import LogEvent

#: PutLogEvents limits: 10,000 events and 1,048,576 bytes (message bytes + 26 per event).
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
#: ... and no batch may span more than 24 hours.
MAX_BATCH_SPAN_MS = 24 * 3_600_000
#: CloudWatch Logs refuses events older than 14 days or more than 2 hours in the future
#: (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html).
MAX_AGE_MS = 14 * 86_400_000
MAX_AHEAD_MS = 2 * 3_600_000
#: Exit code of ``invoke`` and ``demo`` when CloudWatch Logs did not store every event: an
#: AWS-side failure, as for ``analyze``.
LOGS_LOST_EXIT_CODE = 3


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
    """One ``filter_log_events`` event per line (docs/formats.md §7.2/7.3), lossless.

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
    """PutLogEvents in batches into each event's log group and stream (created when missing).

    Nothing is lost in silence: every event CloudWatch Logs refuses (``rejectedLogEventsInfo``)
    or that a failed PutLogEvents call drops is counted by reason in ``lost``, and ``close``
    writes one line about them to ``stderr``.
    """

    def __init__(
        self,
        client: Any,
        *,
        clock: Callable[[], float] = time.time,
        stderr: Optional[IO[str]] = None,
    ) -> None:
        self._client = client
        self._clock = clock
        self._stderr = stderr
        self._lock = threading.Lock()
        self._groups: set[str] = set()
        self._streams: set[tuple[str, str]] = set()
        #: (group, stream) -> pending events, in the order written
        self._pending: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._pending_bytes: dict[tuple[str, str], int] = {}
        self._pending_span: dict[tuple[str, str], tuple[int, int]] = {}
        self.events_sent = 0
        #: reason -> events CloudWatch Logs did not store
        self.lost: Counter[str] = Counter()
        self._reported = False

    @property
    def events_lost(self) -> int:
        return sum(self.lost.values())

    def write(self, event: LogEvent) -> None:
        if not event.log_group or not event.log_stream or event.timestamp_ms is None:
            raise ValueError("CloudWatchSink needs events with a log group, stream and timestamp")
        key = (event.log_group, event.log_stream)
        size = len(event.message.encode("utf-8")) + EVENT_OVERHEAD_BYTES
        stamp = event.timestamp_ms
        with self._lock:
            batch = self._pending.setdefault(key, [])
            used = self._pending_bytes.get(key, 0)
            low, high = self._pending_span.get(key, (stamp, stamp))
            low, high = min(low, stamp), max(high, stamp)
            if batch and (
                len(batch) >= MAX_BATCH_EVENTS
                or used + size > MAX_BATCH_BYTES
                or high - low > MAX_BATCH_SPAN_MS
            ):
                self._send(key)
                batch = self._pending.setdefault(key, [])
                used, low, high = 0, stamp, stamp
            batch.append({"timestamp": stamp, "message": event.message})
            self._pending_bytes[key] = used + size
            self._pending_span[key] = (low, high)

    def flush(self) -> None:
        with self._lock:
            for key in list(self._pending):
                self._send(key)

    def close(self) -> None:
        self.flush()
        line = self.loss_line()
        if line and not self._reported:
            self._reported = True
            print(line, file=self._stderr or sys.stderr, flush=True)

    def loss_line(self) -> Optional[str]:
        """One sentence on what CloudWatch Logs did not store, or None when nothing was lost."""
        if not self.lost:
            return None
        total = self.events_lost + self.events_sent
        reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(self.lost.items()))
        return (
            f"lambda-trace: CloudWatch Logs did not store {self.events_lost} of {total} "
            f"log events: {reasons}"
        )

    def _send(self, key: tuple[str, str]) -> None:
        events = self._pending.pop(key, [])
        self._pending_bytes.pop(key, None)
        self._pending_span.pop(key, None)
        if not events:
            return
        # PutLogEvents refuses a whole batch that is not in timestamp order (a writer whose
        # clock stepped back); list.sort is stable, so events sharing a millisecond keep order.
        events.sort(key=lambda e: e["timestamp"])
        group, stream = key
        try:
            self._ensure(group, stream)
            reply = self._client.put_log_events(
                logGroupName=group, logStreamName=stream, logEvents=events
            )
        except Exception as exc:  # any failure loses the batch: count it and go on
            self.lost[f"not sent ({_error_name(exc)})"] += len(events)
            return
        rejected = rejected_counts(
            reply.get("rejectedLogEventsInfo") or {},
            [e["timestamp"] for e in events],
            now_ms=int(self._clock() * 1000),
        )
        self.lost.update(rejected)
        self.events_sent += len(events) - sum(rejected.values())

    def _ensure(self, group: str, stream: str) -> None:
        if group not in self._groups:
            with contextlib.suppress(self._client.exceptions.ResourceAlreadyExistsException):
                self._client.create_log_group(logGroupName=group)
            self._groups.add(group)
        if (group, stream) not in self._streams:
            with contextlib.suppress(self._client.exceptions.ResourceAlreadyExistsException):
                self._client.create_log_stream(logGroupName=group, logStreamName=stream)
            self._streams.add((group, stream))


def lost_events(sinks: Iterable[LogSink]) -> int:
    """Events the CloudWatch sinks among ``sinks`` could not store (0 for the other sinks)."""
    return sum(sink.events_lost for sink in sinks if isinstance(sink, CloudWatchSink))


def rejected_counts(info: dict[str, Any], timestamps: list[int], now_ms: int) -> Counter[str]:
    """How many events of a chronological batch ``rejectedLogEventsInfo`` says were refused.

    Too-old and expired events are a prefix of the batch, too-new ones a suffix. The API
    reference calls ``tooOldLogEventEndIndex`` exclusive and ``tooNewLogEventStartIndex``
    inclusive (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_RejectedLogEventsInfo.html);
    moto answers with the index of the last rejected event instead, so the event on each
    boundary is judged by its timestamp against the same window CloudWatch applies.
    """
    n = len(timestamps)
    lost: Counter[str] = Counter()
    too_old = info.get("tooOldLogEventEndIndex")
    if isinstance(too_old, int) and too_old >= 0:
        end = min(too_old, n)
        if end < n and timestamps[end] < now_ms - MAX_AGE_MS:
            end += 1
        lost["older than 14 days"] = end
    expired = info.get("expiredLogEventEndIndex")
    if isinstance(expired, int) and expired >= 0:
        # Older than the group's retention; no inclusive/exclusive word in the API reference,
        # so read like tooOldLogEventEndIndex. Events already counted as too old are not again.
        already = lost["older than 14 days"]
        lost["older than the log group's retention"] = max(0, min(expired, n) - already)
    too_new = info.get("tooNewLogEventStartIndex")
    if isinstance(too_new, int) and 0 <= too_new < n:
        first = too_new
        while first > 0 and timestamps[first - 1] > now_ms + MAX_AHEAD_MS:
            first -= 1
        taken = sum(lost.values())
        lost["more than 2 hours in the future"] = n - max(first, taken)
    return +lost  # drop zero counts


def _error_name(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__
