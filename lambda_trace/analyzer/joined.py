"""What the join hands on: one ``Invocation`` per request id, its ``Call`` tuples and tallies.

``join.Joiner`` builds them; ``aggregate``, ``call_stats``, ``faults`` and the findings read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Optional

from lambda_trace.analyzer.model import Event
from lambda_trace.analyzer.numbers import float_or_zero

#: the name given to call records without one
UNNAMED = "(unnamed)"


@dataclass
class JoinStats:
    """What the join did with the events it was given."""

    events: int = 0
    invocations: int = 0
    #: events without a request id that were attributed to an invocation's window
    attributed: int = 0
    #: events without a request id that no window could take
    unattributed: int = 0
    #: invocations finalised early because too many were open
    evicted: int = 0
    #: events for an invocation that had already been finalised
    late: int = 0
    #: repeated START/END/REPORT/timeout lines of one invocation (console copies repeat events)
    duplicates: int = 0
    #: the most invocations open at once
    max_open: int = 0


class CallTally:
    """One call name's totals inside one invocation."""

    __slots__ = ("calls_retried", "count", "error_classes", "errors", "kind", "max_ms",
                 "retries", "throttled", "total_ms")

    def __init__(self, kind: Optional[str]) -> None:
        self.kind = kind
        self.count = 0
        self.total_ms = 0.0
        self.max_ms = 0.0
        self.errors = 0
        self.throttled = 0
        self.retries = 0
        self.calls_retried = 0
        self.error_classes: dict[str, int] = {}

    def add(self, duration: float, status: Any, error_class: Any, retries: Any) -> None:
        self.count += 1
        self.total_ms += duration
        if duration > self.max_ms:
            self.max_ms = duration
        if status == "error":
            self.errors += 1
            if error_class:
                key = str(error_class)
                self.error_classes[key] = self.error_classes.get(key, 0) + 1
                if key == "throttled":
                    self.throttled += 1
        if isinstance(retries, int) and not isinstance(retries, bool) and retries > 0:
            self.retries += retries
            self.calls_retried += 1


class Call(NamedTuple):
    """A kept call, its values raw from the record (checked when the invocation is aggregated,
    not on the hot path)."""

    name: Any
    start_ms: Any
    duration_ms: Any
    status: Any
    error_class: Any
    retries: Any
    kind: Any


class Invocation:
    """Everything joined for one request id."""

    __slots__ = ("access_denied", "calls", "complete_seq", "end_ts", "errors", "has_end",
                 "has_start", "log_stream", "memory_warning", "overflow", "record", "report",
                 "request_id", "runtime_exit", "start_ts", "timed_out", "timeout_seconds",
                 "timeout_warning")

    #: errors / access-denied events kept per invocation (the rest are only counted)
    MAX_DETAILS = 5

    def __init__(self, request_id: str, log_stream: Optional[str]) -> None:
        self.request_id = request_id
        self.log_stream = log_stream
        self.has_start = False
        self.has_end = False
        self.start_ts: Optional[int] = None
        self.end_ts: Optional[int] = None
        self.report: Optional[Event] = None
        self.record: Optional[Event] = None
        self.timeout_warning: Optional[Event] = None
        #: the last memory_warning record (the runtime's RSS crossed its share of the limit)
        self.memory_warning: Optional[Event] = None
        self.timed_out = False
        self.timeout_seconds: Optional[float] = None
        self.runtime_exit: Optional[Event] = None
        self.errors: list[Event] = []
        self.access_denied: list[Event] = []
        #: the first ``max_calls_kept`` calls, for the waterfall, N+1 and latency distributions
        self.calls: list[Call] = []
        #: totals of the calls beyond those (their durations went to ``call_sink`` on arrival)
        self.overflow: dict[str, CallTally] = {}
        #: the event number at which it became complete (None while it is still running)
        self.complete_seq: Optional[int] = None

    @property
    def calls_dropped(self) -> int:
        return sum(t.count for t in self.overflow.values())

    def call_totals(self) -> dict[str, CallTally]:
        """Per call name: every call record of this invocation, kept or not."""
        totals: dict[str, CallTally] = {}
        for name, _, duration, status, error_class, retries, kind in self.calls:
            key = str(name) if name else UNNAMED
            tally = totals.get(key)
            if tally is None:
                tally = totals[key] = CallTally(kind)
            tally.add(float_or_zero(duration), status, error_class, retries)
        for name, extra in self.overflow.items():
            tally = totals.get(name)
            if tally is None:
                totals[name] = extra
                continue
            tally.count += extra.count
            tally.total_ms += extra.total_ms
            tally.max_ms = max(tally.max_ms, extra.max_ms)
            tally.errors += extra.errors
            tally.throttled += extra.throttled
            tally.retries += extra.retries
            tally.calls_retried += extra.calls_retried
            for cls, n in extra.error_classes.items():
                tally.error_classes[cls] = tally.error_classes.get(cls, 0) + n
        return totals

    def __repr__(self) -> str:
        return f"Invocation({self.request_id!r}, stream={self.log_stream!r})"
