"""The analyzer's parse stage: log events in, normalised events out.

A line is classified from its first bytes before any regular expression runs (the common lines
— START/END/REPORT, our JSON records, runtime-logger lines — take one or two checks). Only lines
nothing claims go through the slower path: wrapper prefixes (copied timestamps, log-group and
stream names, markdown markers) are stripped and the line is searched for fault phrases, glued
platform lines, embedded JSON and AccessDenied messages.

The parser keeps a little state, because copies of logs spread what Lambda wrote as one event over
several lines (docs/formats.md §0, §9): an XRAY line after its REPORT, ``Runtime.ExitError``
after its fault line, a traceback after its ``[ERROR]`` line, pretty-printed JSON after Node's
``Uncaught Exception``. Such a line completes the event returned for an earlier line, in place;
``open_events`` lists the events that may still change, and ``iter_events`` yields each event
once it is final.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Optional

from lambda_trace.analyzer import platform as pf
from lambda_trace.analyzer.jsondepth import MAX_JSON_DEPTH
from lambda_trace.analyzer.lines.iso import MILLIS, SECOND_MEMO, iso_to_ms
from lambda_trace.analyzer.lines.state import ParseStats
from lambda_trace.analyzer.lines.text_lines import TextLines
from lambda_trace.analyzer.model import Event, LogEvent
from lambda_trace.analyzer.records import (
    JSON_ERRORS,
    RECORD_TYPES,
    emf_counted,
    emf_event,
    emf_timestamp,
    is_emf,
    json_decode,
    loads,
)
from lambda_trace.analyzer.redaction import redact_event
from lambda_trace.analyzer.stackdump import merge_stack_dumps
from lambda_trace.schema import MARKER

__all__ = ["ParseStats", "Parser", "iso_to_ms"]

_QUIET_LEVELS = frozenset(("INFO", "WARNING", "WARN", "DEBUG", "TRACE", "info", "warn",
                           "warning", "debug", "trace"))
_DIGITS = frozenset("0123456789")


def _carries_nothing(message: str) -> bool:
    """True for a log message that holds no record, EMF, error report or AccessDenied text."""
    return (
        message[:1] != "{"
        and not pf.has_access_denied(message)
        and "Error" not in message[:30]
        and "Exception" not in message[:30]
    )


def _quiet_python_log(text: str) -> bool:
    """``[INFO]\\t<ts>\\t<id>\\t<message>`` below ERROR level that carries nothing (§2.1)."""
    close = text.find("]", 1, 10)
    if close < 0 or text[close + 1:close + 2] != "\t" or text[1:close] not in _QUIET_LEVELS:
        return False
    parts = text.split("\t", 3)
    return len(parts) == 4 and _carries_nothing(parts[3])


def _quiet_console_log(text: str) -> bool:
    """``<ts>\\t<id>\\t<LEVEL>\\t<message>`` (Node.js, .NET) below ERROR that carries nothing."""
    if text[4:5] != "-" or text[10:11] != "T":
        return False
    parts = text.split("\t", 3)
    return len(parts) == 4 and parts[2] in _QUIET_LEVELS and _carries_nothing(parts[3])


class Parser(TextLines):
    """Parse log events one at a time; ``stats`` counts what was seen.

    Feed the log events of one source in order. ``parse`` returns the events a log event produced;
    call ``finish`` at the end of the input. Prefer ``iter_events``, which does both and yields an
    event only once no later line can complete it.
    """

    def __init__(self, *, emf_detail: bool = True) -> None:
        """``emf_detail=False``: EMF documents become events with only their type, time and
        stream (``analyze`` counts them and reads nothing else; ``events`` shows them whole)."""
        super().__init__()
        self.emf_detail = emf_detail

    # ---------------------------------------------------------------------------- public API

    @property
    def open_events(self) -> list[Event]:
        """Events already returned that a later line may still complete."""
        return [e for e in (self._report, self._exit, self._error) if e is not None]

    def parse(self, log_event: LogEvent) -> list[Event]:
        """The events in one log event (possibly none), in the order they appear."""
        text = log_event.message
        if text[-1:] == "\n" or text[-1:] == "\r":
            text = text.rstrip("\r\n")
        if self._json_lines is None and self._error is None:
            # Fast paths for the lines that make up most of a log. None of them can continue an
            # earlier line, so they need no state beyond closing an open REPORT or fault line.
            c = text[:1]
            if c == "{":
                try:
                    obj = loads(text)
                except JSON_ERRORS:
                    obj = None
                if type(obj) is dict:
                    kind = obj.get("type")
                    if kind in RECORD_TYPES and MARKER in obj:
                        # One of our records: the decoded object becomes the event (records.py).
                        ts = log_event.timestamp_ms
                        if ts is None:
                            ts = iso_to_ms(obj.get("timestamp"))
                            if ts is None:
                                ts = self._console_ts
                        if not obj.get("request_id"):
                            obj["request_id"] = None
                        obj["timestamp_ms"] = ts
                        obj["log_stream"] = log_event.log_stream
                        self._report = self._exit = None
                        counts = self._counts
                        counts["lines"] += 1
                        counts["recognised"] += 1
                        event_counts = self._event_counts
                        event_counts[kind] = event_counts.get(kind, 0) + 1
                        return [obj]
                    self._start_line(log_event)
                    return self._decoded(obj)
            elif c == "S":
                if text.startswith("START RequestId:"):
                    ts = log_event.timestamp_ms
                    return self._fast_event(pf.start_event(
                        text, ts if ts is not None else self._console_ts, log_event.log_stream))
            elif c == "E":
                if text.startswith("END RequestId:"):
                    ts = log_event.timestamp_ms
                    return self._fast_event(pf.end_event(
                        text, ts if ts is not None else self._console_ts, log_event.log_stream))
            elif c == "R":
                if text.startswith("REPORT RequestId:"):
                    ts = log_event.timestamp_ms
                    report = pf.report_event(
                        text, ts if ts is not None else self._console_ts, log_event.log_stream)
                    self._fast_event(report)
                    if log_event.timestamp_ms is None or log_event.log_stream is None:
                        self._report = report  # a copy: its XRAY line may follow
                        self._open_stream = log_event.log_stream
                    return [report]
            elif c == "[":
                if _quiet_python_log(text):
                    return self._fast_app()
            elif c in _DIGITS and _quiet_console_log(text):
                return self._fast_app()
        self._start_line(log_event)
        events = self._line(text)
        if self._bucket == "unparsed" and "\n" in text:
            # Not recognised as a whole: a copy tool may have joined lines; try them one by one.
            self._counts["unparsed"] -= 1
            self._counts["lines"] -= 1
            self._copy = True
            events = []
            for part in text.split("\n"):
                events.extend(self._line(part))
        for event in events:
            kind = event["type"]
            self._event_counts[kind] = self._event_counts.get(kind, 0) + 1
        return events

    def _start_line(self, log_event: LogEvent) -> None:
        self._env_ts = log_event.timestamp_ms
        self._stream = log_event.log_stream
        # Without a timestamp or a log stream the input is a copy (a paste, a console or tool
        # export), where the lines of one CloudWatch event may arrive apart.
        self._copy = log_event.timestamp_ms is None or log_event.log_stream is None

    def _fast_event(self, event: Event) -> list[Event]:
        self._report = self._exit = None
        counts = self._counts
        counts["lines"] += 1
        counts["recognised"] += 1
        kind = event["type"]
        self._event_counts[kind] = self._event_counts.get(kind, 0) + 1
        return [event]

    def _fast_app(self) -> list[Event]:
        self._report = self._exit = None
        counts = self._counts
        counts["lines"] += 1
        counts["app"] += 1
        return []

    def _decoded(self, obj: dict[str, Any]) -> list[Event]:
        """Events for a JSON object line that is not one of our records (decoded already)."""
        self._report = self._exit = None
        self._bucket = None
        events = self._object(obj, None, None)
        counts = self._counts
        counts["lines"] += 1
        counts[self._bucket or ("recognised" if events else "app")] += 1
        for event in events:
            kind = event["type"]
            self._event_counts[kind] = self._event_counts.get(kind, 0) + 1
        return events

    def finish(self) -> list[Event]:
        """Close the input: a pretty-printed document still open is salvaged, open events final."""
        events = self._json_abort() if self._json_lines is not None else []
        for event in events:
            kind = event["type"]
            self._event_counts[kind] = self._event_counts.get(kind, 0) + 1
        self._close()
        return events

    def iter_events(self, log_events: Iterable[LogEvent]) -> Iterator[Event]:
        """Every event of ``log_events``, each yielded once no later line can change it.

        Every event's free text is redacted on the way out (``redaction``): this is the one door
        through which log text reaches ``analyze`` and ``events``. A faulthandler stack dump's
        lines come in as one timeout warning (``stackdump``).
        """
        return map(redact_event, self._final_events(merge_stack_dumps(log_events)))

    def _final_events(self, log_events: Iterable[LogEvent]) -> Iterator[Event]:
        """The parse loop: the commonest lines are handled here, the rest by ``parse``.

        Our records, EMF, START/END/REPORT, ``platform.*`` JSON and quiet runtime-logger lines
        are dispatched by their first character and handled inline, because one call layer per
        line costs as much as the work. Each of them closes whatever was open, so what is held
        is final after it. Their line counts are kept in locals and written to ``stats`` before
        any other line is parsed (``_weak`` reads the line number) and at the end.
        """
        held: list[Event] = []
        parse = self.parse
        counts, event_counts = self._counts, self._event_counts
        record_types, marker, json_errors = RECORD_TYPES, MARKER, JSON_ERRORS
        start_event, end_event, report_event = pf.start_event, pf.end_event, pf.report_event
        platform_json_events = pf.platform_json_events
        decode, max_depth = json_decode, MAX_JSON_DEPTH
        memo, millis_of = SECOND_MEMO, MILLIS
        emf_detail = self.emf_detail
        n_lines = n_recognised = n_app = 0
        # Whether the slow path left state a fast line must clear: an open REPORT or exit
        # (cleared by the next line), an open error or JSON document (which the next line may
        # continue, so that line takes the slow path).
        clear = self._report is not None or self._exit is not None
        quiet = self._json_lines is None and self._error is None
        try:
            for log_event in log_events:
                events: Optional[list[Event]] = None
                if quiet:
                    text = log_event.message
                    if text[-1:] == "\n" or text[-1:] == "\r":
                        text = text.rstrip("\r\n")
                    c = text[:1]
                    event: Optional[Event] = None
                    app = False  # a line that is no event and closes what was open
                    if c == "{":
                        try:
                            # loads() inlined: the depth guard's counts, then the decoder
                            if text.count("{") + text.count("[") > max_depth:
                                obj = loads(text)
                            else:
                                obj = decode(text)
                        except json_errors:
                            obj = None
                        if type(obj) is dict:
                            kind = obj.get("type")
                            if kind in record_types and marker in obj:
                                ts = log_event.timestamp_ms
                                if ts is None:
                                    stamp = obj.get("timestamp")
                                    # iso_to_ms's memo, inlined for the runtimes' format
                                    second = memo[0]
                                    if (stamp.__class__ is str and len(stamp) == 24
                                            and stamp[:19] == second[0] and stamp[19] == "."
                                            and stamp[23] == "Z"
                                            and stamp[20:23] in millis_of):
                                        ts = second[1] + millis_of[stamp[20:23]]
                                    else:
                                        ts = iso_to_ms(stamp)
                                    if ts is None:
                                        ts = self._console_ts
                                if not obj.get("request_id"):
                                    obj["request_id"] = None
                                obj["timestamp_ms"] = ts
                                obj["log_stream"] = log_event.log_stream
                                event = obj
                            elif "_aws" in obj and is_emf(obj):
                                ts = log_event.timestamp_ms
                                if ts is None:
                                    ts = emf_timestamp(obj)
                                    if ts is None:
                                        ts = self._console_ts
                                event = (emf_event(obj, ts, log_event.log_stream) if emf_detail
                                         else emf_counted(ts, log_event.log_stream))
                            elif (kind.__class__ is str and kind[:9] == "platform."
                                  and "record" in obj):
                                ts = log_event.timestamp_ms
                                if ts is None:
                                    ts = iso_to_ms(obj.get("time"))
                                    if ts is None:
                                        ts = self._console_ts
                                found = platform_json_events(obj, ts, log_event.log_stream)
                                if found is not None and len(found) == 1:
                                    event = found[0]
                                else:
                                    app = not found
                            if event is None and not app:
                                counts["lines"] += n_lines
                                counts["recognised"] += n_recognised
                                counts["app"] += n_app
                                n_lines = n_recognised = n_app = 0
                                self._start_line(log_event)
                                events = self._decoded(obj)
                    elif c == "S":
                        if text.startswith("START RequestId:"):
                            ts = log_event.timestamp_ms
                            event = start_event(text, ts if ts is not None else self._console_ts,
                                                log_event.log_stream)
                    elif c == "E":
                        if text.startswith("END RequestId:"):
                            ts = log_event.timestamp_ms
                            event = end_event(text, ts if ts is not None else self._console_ts,
                                              log_event.log_stream)
                    elif c == "R":
                        if text.startswith("REPORT RequestId:"):
                            ts = log_event.timestamp_ms
                            event = report_event(
                                text, ts if ts is not None else self._console_ts,
                                log_event.log_stream)
                    elif c == "[":
                        app = _quiet_python_log(text)
                    elif c in _DIGITS:
                        app = _quiet_console_log(text)
                    if event is not None or app:
                        if clear:
                            self._report = self._exit = None
                            clear = False
                        n_lines += 1
                        if held:
                            yield from held
                            held.clear()
                        if event is None:
                            n_app += 1
                            continue
                        n_recognised += 1
                        kind = event["type"]
                        event_counts[kind] = event_counts.get(kind, 0) + 1
                        if c == "R" and (
                            log_event.timestamp_ms is None or log_event.log_stream is None
                        ):
                            self._report = event  # a copy: its XRAY line may follow
                            self._open_stream = log_event.log_stream
                            clear = True
                            held.append(event)
                        else:
                            yield event
                        continue
                if events is None:
                    counts["lines"] += n_lines
                    counts["recognised"] += n_recognised
                    counts["app"] += n_app
                    n_lines = n_recognised = n_app = 0
                    events = parse(log_event)
                clear = self._report is not None or self._exit is not None
                quiet = self._json_lines is None and self._error is None
                if not held and not clear and self._error is None:
                    yield from events  # nothing open: the usual case
                    continue
                held.extend(events)
                if held:
                    yield from self._ready(held)
        finally:
            counts["lines"] += n_lines
            counts["recognised"] += n_recognised
            counts["app"] += n_app
        held.extend(self.finish())
        yield from held

    def _ready(self, held: list[Event]) -> list[Event]:
        """Take from ``held`` the events before the first one a later line may still complete."""
        still_open = {id(e) for e in self.open_events}
        ready = 0
        while ready < len(held) and id(held[ready]) not in still_open:
            ready += 1
        out = held[:ready]
        del held[:ready]
        return out
