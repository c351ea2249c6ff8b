"""One invocation, gathered from the logs for ``lambda-trace show``: its platform lines, calls,
app log lines, errors and REPORT numbers, as one JSON-ready dict.

The log lines of the request are those that name its id, and the lines of its log stream between
its START and its REPORT (an app line written with ``print`` carries no id). Timeline offsets
are milliseconds since START: from the log events' timestamps for lines, from the call records'
own ``start_ms`` (relative to the handler's start) for calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, Optional

from lambda_trace.analyzer.lineformats import PREFIX_START, split_prefix
from lambda_trace.analyzer.model import Event, LogEvent
from lambda_trace.analyzer.numbers import json_number
from lambda_trace.analyzer.parse import Parser
from lambda_trace.analyzer.timestamps import ms_to_iso_or_none
from lambda_trace.redact import redact

SCHEMA = "lambda-trace/show"
SCHEMA_VERSION = 1

#: app log lines kept per invocation (a chatty handler writes thousands)
MAX_LOG_LINES = 500
#: characters of one app log line shown
MAX_LINE_CHARS = 300

_PLATFORM_PREFIXES = ("START RequestId:", "END RequestId:", "REPORT RequestId:", "INIT_START",
                      "INIT_REPORT", "RESTORE_START", "RESTORE_REPORT", "EXTENSION", "TELEMETRY",
                      "LOGS\t")
#: how the Python runtime reports an unhandled exception: ``[ERROR] KeyError: 'id'``
_RUNTIME_ERROR = re.compile(r"\[ERROR\][ \t]+[A-Za-z_][\w.]*:")
#: a request id a user may pass: the ids Lambda writes (UUIDs, shortened hex copies)
_REQUEST_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{7,63}$")

def valid_request_id(text: str) -> bool:
    return bool(_REQUEST_ID.match(text))


def mask_secrets(text: str) -> str:
    """An app line as it may be shown: what could carry data (query strings, URL userinfo,
    credentials, secret ``key=value`` pairs, key shapes) withheld by the project's one
    redaction module, as everywhere else."""
    return redact(text)


class InvocationCollector:
    """Watches the log events go by (``watch``) and takes the parsed events (``take``)."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.log_stream: Optional[str] = None
        self.start_ts: Optional[int] = None
        self.end_ts: Optional[int] = None
        self.found = False
        self.report: Optional[Event] = None
        self.record: Optional[Event] = None
        self.calls: list[Event] = []
        self.events: list[Event] = []
        self.errors: list[Event] = []
        self.logs: list[dict[str, Any]] = []
        self.logs_not_shown = 0
        self._active: set[Optional[str]] = set()
        #: streams whose START of this request has been seen (its REPORT may follow)
        self._streams: set[Optional[str]] = set()

    # -- raw lines -------------------------------------------------------------------------

    def watch(self, log_events: Iterable[LogEvent]) -> Iterator[LogEvent]:
        rid = self.request_id
        for log_event in log_events:
            message, ts, stream = _unwrap(log_event)
            names_us = rid in message
            if names_us and _starts(message):
                self._active.add(stream)
                self._streams.add(stream)
            if stream in self._active or names_us:
                self._maybe_app_line(message, ts)
            if names_us and _reports(message):
                self._active.discard(stream)
            yield log_event

    def _maybe_app_line(self, message: str, ts: Optional[int]) -> None:
        text = message.rstrip("\r\n")
        head = text.lstrip()
        if head.startswith(_PLATFORM_PREFIXES) or (head.startswith("{") and (
            '"lambda_trace"' in head or '"_aws"' in head or '"platform.' in head
        )):
            return
        if _RUNTIME_ERROR.match(head):  # the runtime's report of the error: shown as the error
            return
        if len(self.logs) >= MAX_LOG_LINES:
            self.logs_not_shown += 1
            return
        first = re.split(r"[\r\n]", text, maxsplit=1)[0].replace("\t", " ")
        shown = mask_secrets(first)
        if len(shown) > MAX_LINE_CHARS or len(first) < len(text):
            shown = shown[: MAX_LINE_CHARS - 1] + "…"
        self.logs.append({"timestamp_ms": ts, "message": shown})

    # -- parsed events ---------------------------------------------------------------------

    def take(self, event: Event) -> None:
        rid = event.get("request_id")
        if rid != self.request_id and (rid is not None or not self._attributable(event)):
            return
        self.found = True
        kind = event.get("type")
        if self.log_stream is None and event.get("log_stream"):
            self.log_stream = event["log_stream"]
        ts = event.get("timestamp_ms")
        if kind == "start" and ts is not None:
            self.start_ts = ts if self.start_ts is None else min(self.start_ts, ts)
        if kind == "report":
            self.report = event
            self.end_ts = ts
        elif kind == "invocation":
            self.record = event
        elif kind == "call":
            self.calls.append(event)
            return
        elif kind == "error":
            self.errors.append(event)
        if kind not in ("emf",):
            self.events.append(event)

    def _attributable(self, event: Event) -> bool:
        """A line without a request id belongs to us when it came from our stream while open."""
        if event.get("type") in ("init_start", "init_report", "emf", "restore_start",
                                 "restore_report", "extension", "subscription"):
            return False
        stream = event.get("log_stream")
        if stream not in self._streams:
            return False
        ts = event.get("timestamp_ms")
        if ts is not None and self.start_ts is not None:
            end = self.end_ts if self.end_ts is not None else None
            return ts >= self.start_ts and (end is None or ts <= end)
        return stream in self._active

    # -- the result ------------------------------------------------------------------------

    def result(self) -> Optional[dict[str, Any]]:
        if not self.found:
            return None
        base = self._base_ts()
        timeline: list[dict[str, Any]] = []
        for event in self.events:
            entry = _platform_entry(event)
            if entry is not None:
                entry["offset_ms"] = _offset(event.get("timestamp_ms"), base)
                timeline.append(entry)
        for line in self.logs:
            timeline.append({"offset_ms": _offset(line["timestamp_ms"], base), "type": "log",
                             "text": line["message"]})
        calls = nest_calls(self.calls)
        for call in calls:
            timeline.append({"offset_ms": call["start_ms"], "type": "call", "text": call["name"],
                             "call": call})
        # Stable: lines without a time keep their input order after the timed ones.
        timeline.sort(key=lambda e: (e["offset_ms"] is None, e["offset_ms"] or 0.0))
        report = self.report or {}
        record = self.record or {}
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "request_id": self.request_id,
            "log_stream": self.log_stream,
            "start": ms_to_iso_or_none(base),
            "status": _status(report, record, self.events),
            "report": {k: report.get(k) for k in (
                "duration_ms", "billed_duration_ms", "memory_size_mb", "max_memory_used_mb",
                "init_duration_ms", "restore_duration_ms", "status", "error_type",
                "xray_trace_id") if report.get(k) is not None} if self.report else None,
            "record": {k: record.get(k) for k in (
                "cold_start", "duration_ms", "self_ms", "remaining_ms", "memory_peak_mb",
                "status", "error_type", "dropped_calls") if record.get(k) is not None}
            if self.record else None,
            "errors": [
                {"error_type": e.get("error_type"), "message": e.get("message"),
                 "stack": list(e.get("stack") or [])[:50], "offset_ms":
                 _offset(e.get("timestamp_ms"), base)}
                for e in self.errors
            ],
            "calls": calls,
            "timeline": timeline,
            "log_lines_not_shown": self.logs_not_shown,
        }

    def _base_ts(self) -> Optional[int]:
        if self.start_ts is not None:
            return self.start_ts
        report = self.report or {}
        if report.get("timestamp_ms") is not None and report.get("duration_ms") is not None:
            return int(report["timestamp_ms"] - report["duration_ms"])
        stamps = [e["timestamp_ms"] for e in self.events if e.get("timestamp_ms") is not None]
        return min(stamps) if stamps else None


def nest_calls(calls: list[Event]) -> list[dict[str, Any]]:
    """Calls in start order, each with its ``depth``: how many segments enclose it."""
    rows: list[dict[str, Any]] = []
    for c in calls:
        start, duration = json_number(c.get("start_ms")), json_number(c.get("duration_ms"))
        rows.append({
            "name": str(c.get("name") or "?"), "kind": c.get("kind"), "start_ms": start,
            "duration_ms": duration, "status": c.get("status"),
            "error_class": c.get("error_class"), "retries": c.get("retries"),
            "parent": c.get("parent"), "depth": 0,
        })
    rows.sort(key=lambda r: (r["start_ms"] is None, r["start_ms"] or 0.0,
                             -(r["duration_ms"] or 0.0)))
    segments = [r for r in rows if r["kind"] == "segment" and r["start_ms"] is not None]
    for row in rows:
        if row["start_ms"] is None:
            continue
        end = row["start_ms"] + (row["duration_ms"] or 0.0)
        row["depth"] = sum(1 for s in segments if s is not row and _encloses(s, row, end))
    return rows


def _encloses(segment: dict[str, Any], row: dict[str, Any], end: float) -> bool:
    """``segment`` spans ``row`` (0.5 ms of slack: both times are rounded by the writer)."""
    s_start, s_duration = segment["start_ms"], segment["duration_ms"] or 0.0
    if s_start > row["start_ms"] or end > s_start + s_duration + 0.5:
        return False
    return s_start < row["start_ms"] or s_duration > (row["duration_ms"] or 0.0)


def collect(log_events: Iterable[LogEvent], request_id: str) -> Optional[dict[str, Any]]:
    collector = InvocationCollector(request_id)
    for event in Parser().iter_events(collector.watch(log_events)):
        collector.take(event)
    return collector.result()


def _unwrap(log_event: LogEvent) -> tuple[str, Optional[int], Optional[str]]:
    """The message without a copy's tool prefix, its time and its stream."""
    message, ts, stream = log_event.message, log_event.timestamp_ms, log_event.log_stream
    if message[:1] in PREFIX_START:
        prefixed = split_prefix(message)
        if prefixed is not None:
            message = prefixed.message
            ts = ts if ts is not None else prefixed.timestamp_ms
            stream = stream or prefixed.log_stream
    return message, ts, stream


def _starts(message: str) -> bool:
    head = message.lstrip()
    return head.startswith("START RequestId:") or '"platform.start"' in head


def _reports(message: str) -> bool:
    head = message.lstrip()
    return head.startswith("REPORT RequestId:") or '"platform.report"' in head


def _platform_entry(event: Event) -> Optional[dict[str, Any]]:
    kind = event.get("type")
    if kind == "start":
        return {"type": "START", "text": f"version {event.get('version') or '?'}"}
    if kind == "end":
        return {"type": "END", "text": ""}
    if kind == "report":
        return {"type": "REPORT", "text": f"status {event.get('status') or '?'}"}
    if kind == "timeout":
        seconds = event.get("seconds")
        return {"type": "timeout",
                "text": f"Task timed out after {seconds:g} s" if seconds else "Task timed out"}
    if kind == "runtime_exit":
        parts = [str(event[k]) for k in ("reason", "signal", "exit_status", "error_type")
                 if event.get(k)]
        text = "Runtime exited" + (": " + ", ".join(parts) if parts else "")
        return {"type": "exit", "text": text + (" (out of memory)" if event.get("oom") else "")}
    if kind == "error":
        return {"type": "error", "text": f"{event.get('error_type')}: {event.get('message') or ''}"}
    if kind == "access_denied":
        what = " on ".join(str(event[k]) for k in ("action", "resource") if event.get(k))
        return {"type": "denied", "text": f"{event.get('code') or 'AccessDenied'} {what}".strip()}
    if kind == "timeout_warning":
        names = ", ".join(str(c.get("name")) for c in event.get("in_flight") or [] if c)
        return {"type": "warning", "text": "timeout warning" + (f"; in flight: {names}"
                                                               if names else "")}
    if kind == "memory_warning":
        return {"type": "warning", "text": f"memory warning at {event.get('rss_mb')} MB"}
    if kind == "invocation":
        return {"type": "record", "text": f"handler returned, status {event.get('status')}"}
    return None


def _status(report: dict[str, Any], record: dict[str, Any], events: list[Event]) -> str:
    if any(e.get("type") == "timeout" for e in events) or report.get("status") == "timeout":
        return "timeout"
    if report.get("status") in ("error",) or record.get("status") == "error":
        return "error"
    if any(e.get("type") == "error" for e in events):
        return "error"
    return str(report.get("status") or record.get("status") or "unknown")



def _offset(ts: Optional[float], base: Optional[float]) -> Optional[float]:
    if ts is None or base is None:
        return None
    return round(float(ts) - float(base), 3)
