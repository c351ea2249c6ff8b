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

import datetime as _dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Optional

from lambda_trace.analyzer import platform as pf
from lambda_trace.analyzer.model import Event, LogEvent, make_event
from lambda_trace.analyzer.records import (
    JSON_ERRORS,
    RECORD_TYPES,
    decode_object,
    emf_event,
    emf_timestamp,
    is_emf,
    loads,
    record_event,
    salvage_emf,
)
from lambda_trace.analyzer.redaction import redact_event
from lambda_trace.analyzer.stackdump import merge_stack_dumps
from lambda_trace.schema import MARKER

__all__ = ["ParseStats", "Parser", "iso_to_ms"]


@dataclass
class ParseStats:
    """What the parser saw. Every line lands in exactly one of the line counters.

    A line is a log event's message, or one of its ``\\n``-separated lines when the message as a
    whole is not recognised.
    """

    lines: int = 0
    #: lines that produced at least one event
    recognised: int = 0
    #: log-format lines that are not events: runtime-logger and JSON app records, extension output
    app: int = 0
    #: lines that completed an earlier event: XRAY, Runtime.ExitError, traceback, pretty JSON
    continued: int = 0
    #: free text: print() output, and anything else nothing recognised
    unparsed: int = 0
    #: JSON that does not decode (cut short, or pretty-printed and never closed)
    malformed: int = 0
    #: blank lines and a console copy's timestamp-only lines
    ignored: int = 0
    #: events produced, by type
    events: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: events by type, then the line counters that matter to a user."""
        total = sum(self.events.values())
        by_type = ", ".join(f"{name} {count}" for name, count in sorted(self.events.items()))
        return (
            f"{total} events ({by_type or 'none'}); {self.lines} lines: "
            f"{self.app} app, {self.continued} continued, {self.unparsed} unparsed, "
            f"{self.malformed} malformed, {self.ignored} ignored"
        )


# --------------------------------------------------------------------------------------------
# Timestamps

_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?"
)
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()
_DAYS: dict[str, int] = {}
_last_second: tuple[str, int] = ("", 0)  # memo for iso_to_ms: lines come in time order
_MILLIS = {f"{n:03d}": n for n in range(1000)}
_SIXTY = {f"{n:02d}": n for n in range(61)}


def iso_to_ms(text: Any) -> Optional[int]:
    """Epoch ms for an ISO 8601 date-time; no zone means UTC (``sam logs``, Insights, §9.10)."""
    global _last_second
    if not isinstance(text, str):
        return None
    if len(text) == 24 and text[23] == "Z" and text[19] == "." and text[10] == "T":
        # The runtimes' own format (2026-11-27T04:43:42.123Z): dict look-ups instead of the
        # regex and int(), and one slice compare while the second stays the same.
        millis = _MILLIS.get(text[20:23])
        if millis is not None:
            second, second_ms = _last_second
            if text[:19] == second:
                return second_ms + millis
            epoch_day = _DAYS.get(text[:10])
            hh = _SIXTY.get(text[11:13])
            mi = _SIXTY.get(text[14:16])
            ss = _SIXTY.get(text[17:19])
            if (epoch_day is not None and hh is not None and mi is not None and ss is not None
                    and hh <= 23 and mi <= 59 and text[13] == ":" and text[16] == ":"):
                ms = (((epoch_day * 24 + hh) * 60 + mi) * 60 + ss) * 1000
                _last_second = (text[:19], ms)
                return ms + millis
    match = _ISO.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    key = text[:10]
    days = _DAYS.get(key)
    if days is None:
        try:
            days = _dt.date(int(year), int(month), int(day)).toordinal() - _EPOCH_ORDINAL
        except ValueError:
            return None
        if len(_DAYS) < 8192:
            _DAYS[key] = days
    hours, minutes, seconds = int(hour), int(minute), int(second)
    if hours > 23 or minutes > 59 or seconds > 60:
        return None
    ms = (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000
    if len(text) == 24 and zone == "Z" and len(fraction or "") == 3:
        _last_second = (text[:19], ms)  # one tuple: readers never see half an update
    if fraction:
        ms += int((fraction + "00")[:3])
    if zone and zone != "Z":
        offset = (int(zone[1:3]) * 60 + int(zone[-2:])) * 60000
        ms += -offset if zone[0] == "+" else offset
    return ms


# --------------------------------------------------------------------------------------------
# Line shapes

#: One wrapper prefix: a timestamp, a log stream, ``[/aws/lambda/x]``, a tool's `HH:MM:SS`,
#: a time of day, or markdown list/quote/heading markers (docs/formats.md §7, §9.10).
_PREFIX = re.compile(
    r"[\t \u00a0]*(?:"
    r"(?P<iso>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
    r"|\d{4}/\d\d/\d\d/\[[^\]\s]*\][0-9a-f]{32}"
    r"|\[/aws/lambda/[^\]]*\]"
    r"|`(?P<time>\d\d:\d\d:\d\d)`|`[^`\n]{1,40}`"
    r"|(?P<clock>\d\d:\d\d:\d\d(?:\.\d+)?)"
    r"|[*#>-]+"
    r")(?=[\t \u00a0]|$)"
)
_ID_PREFIX = re.compile(r"(" + pf.REQUEST_ID + r")(?:[\t ]+|$)(.*)", re.DOTALL)
_LEVEL = re.compile(
    r"(INFO|WARN|WARNING|ERROR|DEBUG|TRACE|FATAL|CRITICAL"
    r"|info|warn|warning|error|debug|trace|fatal|critical|crit|fail)(?:[\t ]+|$)(.*)",
    re.DOTALL,
)
_PY_LEVELS = frozenset(("INFO", "WARNING", "WARN", "ERROR", "DEBUG", "CRITICAL", "TRACE", "FATAL"))
#: Python's logging line with its tabs turned into spaces by a copy (docs/formats.md §2.1).
_PY_LOG_SPACED = re.compile(
    r"[ ]+(\d{4}-\d\d-\d\d[T ][\d:.,]+Z?)[ ]+(\S+)(?:[ ]+(.*))?$", re.DOTALL
)
_QUIET_LEVELS = frozenset(("INFO", "WARNING", "WARN", "DEBUG", "TRACE", "info", "warn",
                           "warning", "debug", "trace"))
_DIGITS = frozenset("0123456789")
_PREFIX_START = frozenset("0123456789 \t\u00a0[`*#>-")
_ID_START = frozenset("0123456789abcdefABCDEFu")
_ERROR_LEVELS = frozenset(("ERROR", "FATAL", "CRITICAL", "error", "fatal", "critical", "crit",
                           "fail"))
_GLUED = ("END RequestId:", "START RequestId:", "REPORT RequestId:")
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_JSON_VALUE_START = frozenset('"{}[],-0123456789tfn')
_BLANKS = "\t \u00a0"
#: A pretty-printed document longer than this is not being reassembled.
_MAX_JSON_LINES = 20000
_MAX_JSON_CHARS = 4 * 1024 * 1024

#: error_mode: what may still follow an open error event in a copy
#: "[ERROR] [1764102960370] LAMBDA_RUNTIME Failed to post handler success response. ..." (the
#: Node.js runtime's own log line; not Python's "[ERROR]\t<timestamp>" format)
_NODE_RUNTIME_LINE = re.compile(r"[\t ]*\[(\d{12,14})\][\t ]*LAMBDA_RUNTIME[\t ]+(.*)", re.DOTALL)
#: "REPORT RequestId: <id>" with its fields on the next lines (a copy that split them)
_BARE_REPORT = re.compile(r"REPORT RequestId:[\t ]*\S+[\t ]*\Z")
_TRACEBACK_MAY_FOLLOW = 1
_JSON_MAY_FOLLOW = 2
_TRACEBACK = "Traceback (most recent call last):"
#: a Python traceback's frame line
_PY_FRAME = re.compile(r'[\t ]*File "[^"]+", line \d+, in ')


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


def _json_depth(text: str) -> int:
    if "{" not in text and "}" not in text and "[" not in text and "]" not in text:
        return 0
    bare = _JSON_STRING.sub("", text) if '"' in text else text
    return bare.count("{") + bare.count("[") - bare.count("}") - bare.count("]")


class Parser:
    """Parse log events one at a time; ``stats`` counts what was seen.

    Feed the log events of one source in order. ``parse`` returns the events a log event produced;
    call ``finish`` at the end of the input. Prefer ``iter_events``, which does both and yields an
    event only once no later line can complete it.
    """

    def __init__(self) -> None:
        self.stats = ParseStats()
        self._counts: dict[str, Any] = self.stats.__dict__
        self._event_counts = self.stats.events
        # the line being parsed
        self._env_ts: Optional[int] = None
        self._stream: Optional[str] = None
        self._copy = False
        #: (line number, text, request id, timestamp) of a "<Name>: <message>" line that a
        #: Node.js stack frame on the next line would make an error
        self._candidate: Optional[tuple[int, str, Optional[str], Optional[int]]] = None
        self._bucket: Optional[str] = None
        # events a later line may still complete, and the stream they belong to
        self._report: Optional[Event] = None
        self._exit: Optional[Event] = None
        self._error: Optional[Event] = None
        self._error_mode = 0
        self._open_stream: Optional[str] = None
        self._continued_events: list[Event] = []
        # a pretty-printed JSON document being reassembled
        self._json_lines: Optional[list[str]] = None
        self._json_depth = 0
        self._json_chars = 0
        self._json_context: tuple[Optional[str], Optional[int], Optional[Event]] = (
            None, None, None)
        self._json_stream: Optional[str] = None
        # A console copy's timestamp line dates the lines after it, up to the next one: the
        # console may render one event twice (collapsed and expanded, docs/formats.md §7.10).
        self._console_ts: Optional[int] = None

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
        held: list[Event] = []
        parse = self.parse
        counts, event_counts = self._counts, self._event_counts
        record_types, marker, json_errors = RECORD_TYPES, MARKER, JSON_ERRORS
        start_event, end_event, report_event = pf.start_event, pf.end_event, pf.report_event
        platform_json_events = pf.platform_json_events
        for log_event in log_events:
            events: Optional[list[Event]] = None
            # The commonest lines, inlined from parse(): one call layer per line costs as much as
            # the work. Each of them closes whatever was open, so what is held is final after it.
            if self._json_lines is None and self._error is None:
                text = log_event.message
                if text[-1:] == "\n" or text[-1:] == "\r":
                    text = text.rstrip("\r\n")
                c = text[:1]
                event: Optional[Event] = None
                app = False  # a line that is no event and closes what was open
                if c == "{":
                    try:
                        obj = loads(text)
                    except json_errors:
                        obj = None
                    if type(obj) is dict:
                        kind = obj.get("type")
                        if kind in record_types and marker in obj:
                            ts = log_event.timestamp_ms
                            if ts is None:
                                ts = iso_to_ms(obj.get("timestamp"))
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
                            event = emf_event(obj, ts, log_event.log_stream)
                        elif kind.__class__ is str and kind[:9] == "platform." and "record" in obj:
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
                        event = report_event(text, ts if ts is not None else self._console_ts,
                                             log_event.log_stream)
                elif c == "[":
                    app = _quiet_python_log(text)
                elif c in _DIGITS:
                    app = _quiet_console_log(text)
                if event is not None or app:
                    self._report = self._exit = None
                    counts["lines"] += 1
                    if held:
                        yield from held
                        held.clear()
                    if event is None:
                        counts["app"] += 1
                        continue
                    counts["recognised"] += 1
                    kind = event["type"]
                    event_counts[kind] = event_counts.get(kind, 0) + 1
                    if c == "R" and (
                        log_event.timestamp_ms is None or log_event.log_stream is None
                    ):
                        self._report = event  # a copy: its XRAY line may follow
                        self._open_stream = log_event.log_stream
                        held.append(event)
                    else:
                        yield event
                    continue
            if events is None:
                events = parse(log_event)
            if not held and self._report is None and self._exit is None and self._error is None:
                yield from events  # nothing open: the usual case
                continue
            held.extend(events)
            if held:
                yield from self._ready(held)
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

    # ---------------------------------------------------------------------------- one line

    def _line(self, text: str) -> list[Event]:
        counts = self._counts
        counts["lines"] += 1
        self._bucket = None
        events = self._classify(text)
        counts[self._bucket or ("recognised" if events else "unparsed")] += 1
        return events

    def _classify(self, text: str) -> list[Event]:
        salvaged: list[Event] = []
        if self._json_lines is not None:
            if self._stream == self._json_stream and self._json_continues(text):
                return self._json_feed(text)
            salvaged = self._json_abort()
        if not text or text.isspace():
            self._close()
            self._bucket = "ignored"
            return salvaged
        if self._open_stream == self._stream and self._continue(text):
            self._bucket = "continued"
            if self._continued_events:
                salvaged += self._continued_events
                self._continued_events = []
            return salvaged
        error, mode = self._error, self._error_mode
        absorbing = error is not None and mode == _TRACEBACK_MAY_FOLLOW and self._copy \
            and self._open_stream == self._stream
        if absorbing and error is not None and error.get("runtime") == "nodejs" \
                and text[:1] not in (" ", "\t") and not pf.NODE_FRAME.match(text):
            absorbing = False  # a Node.js stack is frames only; an unindented line ends it
        self._close()
        events = self._dispatch(text, allow_weak=not absorbing)
        if events is None:
            # Nothing strong claims the line: it belongs to the open traceback.
            self._error, self._error_mode, self._open_stream = error, mode, self._stream
            events = self._absorb(text)
        return salvaged + events if salvaged else events

    def _stamp(self, line_ts: Optional[int]) -> Optional[int]:
        if self._env_ts is not None:
            return self._env_ts
        return line_ts if line_ts is not None else self._console_ts

    # ---------------------------------------------------------------------------- dispatch

    def _dispatch(self, text: str, allow_weak: bool = True) -> Optional[list[Event]]:
        """Events for a line; None only when ``allow_weak`` is False and nothing strong matched."""
        events = self._keyword(text, None, None)
        if events is not None:
            return events
        rest, line_ts = text, None
        stripped = timed = False
        match = _PREFIX.match(text) if text[:1] in _PREFIX_START else None
        end = 0
        while match is not None and match.end() > end:
            stripped = True
            if match.group("iso") is not None:
                timed = True
                if line_ts is None and self._env_ts is None:
                    line_ts = iso_to_ms(match.group("iso"))
            elif match.group("time") is not None or match.group("clock") is not None:
                timed = True
            end = match.end()
            match = _PREFIX.match(text, end)
        if stripped:
            rest = text[end:]
        if stripped or (rest[:1] != "" and rest[:1] in _BLANKS):
            stripped = True
            rest = rest.lstrip(_BLANKS)
            if not rest:
                # A console copy's timestamp line: it dates the lines after it (§7.10).
                self._close()
                if line_ts is not None:
                    self._console_ts = line_ts
                self._bucket = "ignored" if timed else "unparsed"
                return []
            events = self._keyword(rest, None, line_ts)
            if events is not None:
                return events
        match = _ID_PREFIX.match(rest) if rest[:1] in _ID_START else None
        if match is not None:
            events = self._after_id(match.group(2), pf.clean_id(match.group(1)), line_ts,
                                    timed, allow_weak)
            if events is not None:
                return events
        if not allow_weak:
            return None
        return self._weak(rest, None, line_ts, "unparsed")

    def _keyword(
        self, s: str, request_id: Optional[str], line_ts: Optional[int]
    ) -> Optional[list[Event]]:
        """Events for a line that starts with something Lambda or a runtime writes; else None."""
        c = s[:1]
        if c == "{":
            return self._json_text(s, request_id, line_ts)
        if c == "S":
            if s.startswith("START RequestId:"):
                return [pf.start_event(s, self._stamp(line_ts), self._stream)]
        elif c == "E":
            if s.startswith("END RequestId:"):
                return [pf.end_event(s, self._stamp(line_ts), self._stream)]
            if s.startswith("EXTENSION"):
                return self._one(pf.extension_event(s, self._stamp(line_ts), self._stream))
        elif c == "R":
            if s.startswith("REPORT ") and ("Duration" in s or _BARE_REPORT.match(s)):
                report = pf.report_event(s, self._stamp(line_ts), self._stream, request_id)
                self._open_report(report)
                return [report]
            if s.startswith("RESTORE_START"):
                return [pf.runtime_start_event("restore_start", s, self._stamp(line_ts),
                                               self._stream)]
            if s.startswith("RESTORE_REPORT"):
                return [pf.restore_report_event(s, self._stamp(line_ts), self._stream)]
            if s.startswith("RequestId:"):
                return self._fault(s, request_id, line_ts)
            if s.startswith("Runtime."):
                return self._runtime_type_line(s, request_id, line_ts)
        elif c == "[":
            return self._bracket(s, request_id, line_ts)
        elif c == "I":
            if s.startswith("INIT_START"):
                return [pf.runtime_start_event("init_start", s, self._stamp(line_ts),
                                               self._stream)]
            if s.startswith("INIT_REPORT"):
                return [pf.init_report_event(s, self._stamp(line_ts), self._stream)]
        elif c == "T":
            if s.startswith("Task timed out"):
                return self._one(pf.timeout_event(s, self._stamp(line_ts), self._stream,
                                                  request_id))
            if s.startswith("TELEMETRY"):
                return self._one(pf.subscription_event(s, self._stamp(line_ts), self._stream))
        elif c == "L":
            if s.startswith("LAMBDA_WARNING"):
                return self._lambda_warning(s)
            if s.startswith("LOGS"):
                return self._one(pf.subscription_event(s, self._stamp(line_ts), self._stream))
        elif c == "P" and s.startswith("Process exited before completing request"):
            return self._fault(s, request_id, line_ts)
        elif c == "X" and s.startswith("XRAY TraceId:"):
            self._bucket = "app"  # its REPORT is not in this input
            return []
        return None

    def _one(self, event: Optional[Event]) -> Optional[list[Event]]:
        return [event] if event is not None else None

    def _fault(
        self, s: str, request_id: Optional[str], line_ts: Optional[int]
    ) -> Optional[list[Event]]:
        ts = self._stamp(line_ts)
        if "Task timed out" in s:
            return self._one(pf.timeout_event(s, ts, self._stream, request_id))
        event = pf.runtime_exit_event(s, ts, self._stream, request_id)
        if event is None:
            return None
        if event["type"] == "runtime_exit" and event["error_type"] is None:
            self._open_exit(event)
        return [event]

    def _runtime_type_line(
        self, s: str, request_id: Optional[str], line_ts: Optional[int]
    ) -> Optional[list[Event]]:
        """``Runtime.ExitError`` alone (its fault line is elsewhere), or ``Runtime.X: message``."""
        token = s.strip()
        ts = self._stamp(line_ts)
        if token == "Runtime.ExitError":
            return [make_event("runtime_exit", request_id=request_id, timestamp_ms=ts,
                               log_stream=self._stream, oom=False, error_type=token)]
        event = pf.platform_error_line_event(s, ts, self._stream, request_id)
        if event is None:
            return None
        self._open_error(event, _TRACEBACK_MAY_FOLLOW)
        return self._with_access(event, event["message"])

    def _lambda_warning(self, s: str) -> list[Event]:
        # The warning ends with "\r"; in JSON-format functions the error follows in the same
        # event (docs/formats.md §2.1, §9.7).
        for separator in ("\r", "\n"):
            at = s.find(separator)
            if at >= 0:
                tail = s[at + 1:].strip("\r\n\t ")
                if tail:
                    events = self._dispatch(tail)
                    return events if events is not None else []
                break
        self._bucket = "app"
        return []

    def _bracket(
        self, s: str, request_id: Optional[str], line_ts: Optional[int]
    ) -> Optional[list[Event]]:
        close = s.find("]", 1, 12)
        if close > 0 and s[1:close] in _PY_LEVELS:
            level = s[1:close]
            after = s[close + 1:]
            if after[:1] == "\t":
                parts = after[1:].split("\t", 2)
                if len(parts) == 3:
                    return self._python_log(level, parts[0], parts[1], parts[2])
            else:
                match = _PY_LOG_SPACED.match(after)
                if match:
                    return self._python_log(level, match.group(1), match.group(2),
                                            match.group(3) or "")
            if level == "ERROR":
                runtime_line = _NODE_RUNTIME_LINE.match(after)
                if runtime_line is not None:
                    return self._node_runtime_error(runtime_line, request_id, line_ts)
                event = pf.python_error_event(after.lstrip(" \t"), self._stamp(line_ts),
                                              self._stream, request_id)
                self._open_error(event, _TRACEBACK_MAY_FOLLOW)
                return self._with_access(event, event["message"])
        if s.startswith("[{") or s.rstrip() == "[":
            return self._json_text(s, request_id, line_ts)
        if s.startswith("[/aws/lambda/"):
            return None  # a log-group prefix: stripped by the caller
        # "[Extension name] ...", "[Information] ..." (PowerShell), "[NR_EXT] ...": log-format lines
        return self._weak(s, request_id, line_ts, "app")

    def _node_runtime_error(
        self, match: re.Match[str], request_id: Optional[str], line_ts: Optional[int]
    ) -> list[Event]:
        """``[ERROR] [<epoch ms>] LAMBDA_RUNTIME <what>``: the Node.js runtime's own failure
        (posting the response, a payload over 6 MB); its JSON error object may follow."""
        ts = self._stamp(line_ts)
        if ts is None:
            ts = int(match.group(1))
        event = pf.error_event(None, match.group(2).strip(), None, runtime="nodejs",
                               unhandled=True, request_id=request_id, ts=ts,
                               stream=self._stream)
        self._open_error(event, _JSON_MAY_FOLLOW)
        return [event]

    def _python_log(self, level: str, ts_text: str, request_id: str, message: str) -> list[Event]:
        line_ts = iso_to_ms(ts_text) if self._env_ts is None else None
        return self._app(message, level, pf.clean_id(request_id), line_ts, "python")

    def _after_id(
        self,
        body: str,
        request_id: Optional[str],
        line_ts: Optional[int],
        timed: bool,
        allow_weak: bool,
    ) -> Optional[list[Event]]:
        """A line that starts with an unlabelled request id (after any timestamp)."""
        if body.startswith("Duration:"):
            # A REPORT whose "REPORT RequestId: " a copy cut off (timeouts.log:17).
            report = pf.report_event(body, self._stamp(line_ts), self._stream, request_id)
            self._open_report(report)
            return [report]
        events = self._keyword(body, request_id, line_ts)
        if events is not None:
            return events
        match = _LEVEL.match(body)
        if match is not None:
            level = match.group(1)
            runtime = None
            if timed:  # "<ts>\t<id>\t<LEVEL>\t": Node.js; .NET writes the level in lower case
                runtime = "dotnet" if level.islower() else "nodejs"
            return self._app(match.group(2), level, request_id, line_ts, runtime)
        if timed:
            # Node.js up to 8.10 wrote no level column (docs/formats.md §2.2).
            return self._app(body, None, request_id, line_ts, "nodejs")
        if not allow_weak:
            return None
        return self._weak(body, request_id, line_ts, "unparsed")

    # ---------------------------------------------------------------------------- app lines

    def _app(
        self,
        message: str,
        level: Optional[str],
        request_id: Optional[str],
        line_ts: Optional[int],
        runtime: Optional[str],
    ) -> list[Event]:
        """A runtime-logger line: events only for what it carries (records, EMF, errors)."""
        if message[:1] == "{":
            found = self._json_text(message, request_id, line_ts)
            if found is not None:
                return found
        events: list[Event] = []
        ts = self._stamp(line_ts)
        label = pf.NODE_LABEL.match(message) if message[:1] in ("I", "U") else None
        error: Optional[Event] = None
        if label is not None:
            error = pf.node_error_event(label.group(1), label.group(2), request_id, ts,
                                        self._stream)
            rest = label.group(2).strip()
            if not rest:
                self._open_error(error, _JSON_MAY_FOLLOW)
            elif rest in ("{", "[") and self._copy:
                # A copy that breaks the JSON after its first "{" (linter-bot#158's paste).
                self._json_start(rest, request_id, ts, error)
                self._open_error(error, 0)  # open (not final) until the document closes
        elif level in _ERROR_LEVELS:
            error = pf.logged_error_event(message, runtime=runtime, request_id=request_id, ts=ts,
                                          stream=self._stream)
            if error["stack"] is None and self._env_ts is None:
                self._open_error(error, _TRACEBACK_MAY_FOLLOW)
        elif level is None and runtime == "nodejs":
            match = pf.ERROR_LINE.match(message)
            if match is not None:
                error = pf.error_event(match.group(1), match.group(2).strip(), None,
                                       runtime=runtime, unhandled=False, request_id=request_id,
                                       ts=ts, stream=self._stream)
                self._open_error(error, _TRACEBACK_MAY_FOLLOW)
        if error is not None:
            events.append(error)
            text = error["message"] or message
            code = error["error_type"]
        else:
            text, code = message, None
        denied = None
        if pf.has_access_denied(text):
            denied = pf.access_denied_event(text, request_id, ts, self._stream, code=code)
        if denied is None and text is not message and pf.has_access_denied(message):
            denied = pf.access_denied_event(message, request_id, ts, self._stream)
        if denied is not None:
            events.append(denied)
        if not events:
            self._bucket = "app"
        return events

    def _with_access(self, event: Event, text: Optional[str]) -> list[Event]:
        if text and pf.has_access_denied(text):
            denied = pf.access_denied_event(text, event["request_id"], event["timestamp_ms"],
                                            self._stream, code=event.get("error_type"))
            if denied is not None:
                return [event, denied]
        return [event]

    # ---------------------------------------------------------------------------- JSON

    def _json_text(
        self, s: str, request_id: Optional[str], line_ts: Optional[int]
    ) -> Optional[list[Event]]:
        """Events for a line that starts with ``{`` or ``[``; None when it is not JSON at all."""
        obj = decode_object(s)
        if obj is None:
            if s.strip() in ("{", "["):
                # Pretty-printed JSON, one line per event or per line of a copy.
                self._json_start(s, request_id, self._stamp(line_ts), None)
                self._bucket = "continued"
                return []
            if s[1:].lstrip()[:1] not in ('"', "{"):
                return None  # not JSON at all: a printed Python dict, "{ ... }" text
            return self._salvage(s, request_id, line_ts)
        events: list[Event] = []
        if isinstance(obj, dict):
            events = self._object(obj, request_id, line_ts)
        elif isinstance(obj, list):  # a Telemetry API batch
            for item in obj:
                if isinstance(item, dict):
                    events.extend(self._object(item, request_id, line_ts))
        if not events and self._bucket is None:
            self._bucket = "app"
        return events

    def _object(
        self, obj: dict[str, Any], request_id: Optional[str], line_ts: Optional[int]
    ) -> list[Event]:
        env_ts = self._env_ts
        if MARKER in obj and obj.get("type") in RECORD_TYPES:
            ts = env_ts if env_ts is not None else (
                line_ts if line_ts is not None else iso_to_ms(obj.get("timestamp")))
            return [record_event(obj, ts if ts is not None else self._console_ts,
                                 self._stream, request_id)]
        if "_aws" in obj and is_emf(obj):
            ts = env_ts if env_ts is not None else (
                line_ts if line_ts is not None else emf_timestamp(obj))
            return [emf_event(obj, ts if ts is not None else self._console_ts, self._stream,
                              request_id)]
        kind = obj.get("type")
        if isinstance(kind, str) and "record" in obj:
            ts = env_ts if env_ts is not None else (
                line_ts if line_ts is not None else iso_to_ms(obj.get("time")))
            ts = ts if ts is not None else self._console_ts
            if kind.startswith("platform."):
                return pf.platform_json_events(obj, ts, self._stream) or []
            if kind in ("function", "extension"):  # Telemetry API log lines
                inner = obj["record"]
                if isinstance(inner, dict):
                    return self._object(inner, request_id, ts)
                if isinstance(inner, str) and inner.strip():
                    saved = self._env_ts
                    self._env_ts = ts
                    try:
                        return self._dispatch(inner.rstrip("\r\n")) or []
                    finally:
                        self._env_ts = saved
                return []
        ts = env_ts if env_ts is not None else (
            line_ts if line_ts is not None else iso_to_ms(obj.get("timestamp", obj.get("time"))))
        return pf.app_json_events(obj, ts if ts is not None else self._console_ts, self._stream,
                                  request_id)

    def _salvage(self, s: str, request_id: Optional[str], line_ts: Optional[int]) -> list[Event]:
        """What can be read from JSON that does not decode (cut by a tool, or split by Lambda)."""
        self._bucket = "malformed"
        if '"_aws"' in s:
            ts = self._env_ts if self._env_ts is not None else line_ts
            event = salvage_emf(s, ts, self._stream)
            if event is not None:
                event["request_id"] = request_id
                return [event]
        if pf.has_access_denied(s):
            fields = pf.salvage_doc_fields(s)
            text = fields.get("errorMessage") or fields.get("message") or s
            denied = pf.access_denied_event(text, request_id, self._stamp(line_ts), self._stream,
                                            code=fields.get("code") or fields.get("errorType"))
            if denied is not None:
                return [denied]
        return []

    def _json_start(
        self, s: str, request_id: Optional[str], ts: Optional[int], error: Optional[Event]
    ) -> None:
        self._json_lines = [s]
        self._json_chars = len(s)
        self._json_depth = _json_depth(s)
        self._json_context = (request_id, ts, error)
        self._json_stream = self._stream

    def _json_continues(self, text: str) -> bool:
        s = text.lstrip()
        return bool(s) and s[0] in _JSON_VALUE_START

    def _json_feed(self, text: str) -> list[Event]:
        lines = self._json_lines
        assert lines is not None
        lines.append(text)
        self._json_depth += _json_depth(text)
        self._json_chars += len(text)
        if (self._json_depth > 0 and len(lines) < _MAX_JSON_LINES
                and self._json_chars < _MAX_JSON_CHARS):
            self._bucket = "continued"
            return []
        document = "\n".join(lines)
        request_id, ts, error = self._json_context
        self._json_lines = None
        doc = decode_object(document)
        if doc is None:
            self._bucket = "malformed"
            return self._json_salvage(document)
        if error is not None:
            pf.amend_error_from_doc(error, doc, document)
            self._bucket = "continued"
            return self._error_access(error)
        saved = self._console_ts
        self._console_ts = ts
        try:
            if isinstance(doc, dict):
                events = self._object(doc, request_id, ts)
            else:
                events = [e for item in doc if isinstance(item, dict)
                          for e in self._object(item, request_id, ts)]
        finally:
            self._console_ts = saved
        if not events:
            self._bucket = "app"
        return events

    def _json_abort(self) -> list[Event]:
        """A document that never closed: count it malformed and salvage what it says."""
        lines = self._json_lines or []
        self._json_lines = None
        self._counts["continued"] -= 1
        self._counts["malformed"] += 1
        return self._json_salvage("\n".join(lines))

    def _json_salvage(self, document: str) -> list[Event]:
        request_id, ts, error = self._json_context
        if error is not None:
            pf.amend_error_from_doc(error, None, document)
            return self._error_access(error)
        if pf.has_access_denied(document):
            fields = pf.salvage_doc_fields(document)
            text = fields.get("errorMessage") or fields.get("message") or document
            denied = pf.access_denied_event(text, request_id, ts, self._stream,
                                            code=fields.get("code") or fields.get("errorType"))
            if denied is not None:
                return [denied]
        return []

    def _error_access(self, error: Event) -> list[Event]:
        text = error.get("message")
        if text and pf.has_access_denied(text):
            denied = pf.access_denied_event(text, error["request_id"], error["timestamp_ms"],
                                            error["log_stream"], code=error.get("error_type"))
            if denied is not None:
                return [denied]
        return []

    # ---------------------------------------------------------------------------- weak matches

    def _weak(
        self, s: str, request_id: Optional[str], line_ts: Optional[int], default: str
    ) -> list[Event]:
        """Phrases found anywhere in a line nothing else claimed."""
        ts = self._stamp(line_ts)
        line_no = self._counts["lines"]
        candidate, self._candidate = self._candidate, None
        if candidate is not None and candidate[0] == line_no - 1 and pf.NODE_FRAME.match(s):
            # "<Name>: <message>" then a stack frame: a Node.js error printed without the
            # runtime's prefix (stderr, or a copy of the error alone).
            return self._bare_node_error(candidate, s)
        if s[:1].isupper() and pf.NODE_ERROR_NAME.match(s):
            self._candidate = (line_no, s, request_id, ts)
        for marker in _GLUED:
            at = s.find(marker)
            if at > 0:
                # The console glues END to an event that did not end with a newline (§1.2).
                events = self._keyword(s[at:], None, line_ts)
                if events is not None:
                    return events
        if "Task timed out after" in s:
            event = pf.timeout_event(s, ts, self._stream, request_id)
            if event is not None:
                return [event]
        if "exited" in s:
            events = self._fault(s, request_id, line_ts)
            if events is not None:
                return events
        at = s.find("[ERROR]")
        if at > 0:
            events = self._keyword(s[at:], request_id, line_ts)
            if events is not None:
                return events
        at = s.find('{"')
        if at > 1 and s[at - 1] == "[":
            at -= 1  # an array of them: a Telemetry API batch an extension printed
        if at > 0:
            events = self._json_text(s[at:], request_id, line_ts)
            if events or self._bucket == "malformed":
                return events or []
            self._bucket = None
        event = None
        if s[:1] in "RSFE":
            event = pf.platform_error_line_event(s, ts, self._stream, request_id)
        if event is None and s[:1] in "pfE":
            event = pf.crash_line_event(s, ts, self._stream, request_id)
        if event is None and s.startswith(pf.NODE_LEGACY_FAILURE):
            event = pf.node_legacy_error_event(s, ts, self._stream, request_id)
        if event is None:
            event = pf.legacy_python_error_event(s, ts, self._stream, request_id)
        if event is not None:
            self._open_error(event, _TRACEBACK_MAY_FOLLOW)
            return self._with_access(event, event["message"])
        event = pf.legacy_init_error_event(s, ts, self._stream)
        if event is not None:
            return [event]
        if pf.has_access_denied(s):
            event = pf.access_denied_event(s, request_id, ts, self._stream)
            if event is not None:
                return [event]
        if self._copy and (s.strip() == _TRACEBACK or _PY_FRAME.match(s)):
            # A traceback pasted without the line that logged it (sentry-python#2741), or
            # from its first frame on (raven-python-lambda#38): the error is the one its last
            # line names.
            stack = [] if s.strip() == _TRACEBACK else [s.rstrip()]
            event = pf.error_event(None, None, stack, runtime="python", unhandled=True,
                                   request_id=request_id, ts=ts, stream=self._stream)
            self._open_error(event, _TRACEBACK_MAY_FOLLOW)
            return [event]
        if self._copy and s.startswith('"errorMessage": '):
            # A Lambda response object pasted without its opening "{"
            # (powertools-lambda-python#4003): the document from its first field on.
            self._json_start("{", request_id, ts, None)
            return self._json_feed(s)
        self._bucket = default
        return []

    def _bare_node_error(self, candidate: tuple[int, str, Optional[str], Optional[int]],
                         frame: str) -> list[Event]:
        _, text, request_id, ts = candidate
        named = pf.NODE_ERROR_NAME.match(text)
        assert named is not None
        event = pf.error_event(named.group(1), named.group(2).strip(), [frame.strip()],
                               runtime="nodejs", unhandled=True, request_id=request_id, ts=ts,
                               stream=self._stream)
        self._open_error(event, _TRACEBACK_MAY_FOLLOW)
        return [event]

    # ---------------------------------------------------------------------------- open events

    def _open_report(self, event: Event) -> None:
        # In CloudWatch the XRAY part is in the REPORT's own event; only copies split it off.
        if self._copy:
            self._report = event
            self._open_stream = self._stream

    def _open_exit(self, event: Event) -> None:
        if self._copy:  # "Runtime.ExitError" likewise
            self._exit = event
            self._open_stream = self._stream

    def _open_error(self, event: Event, mode: int) -> None:
        # Only a copy splits one event's lines apart; in CloudWatch the next event is another one.
        if mode == _TRACEBACK_MAY_FOLLOW and (
            (event["stack"] and event["unhandled"] and self._env_ts is not None)
            or pf.traceback_complete(event)
        ):
            return  # the traceback came in the same log event
        if self._copy:
            self._error = event
            self._error_mode = mode
            self._open_stream = self._stream

    def _close(self) -> None:
        self._report = self._exit = self._error = None
        self._error_mode = 0

    def _continue(self, text: str) -> bool:
        """Complete an open event with this line; True when the line belonged to it."""
        if self._report is not None and pf.REPORT_CONTINUATION.match(text):
            return pf.amend_report(self._report, text)
        if self._exit is not None and pf.amend_exit(self._exit, text):
            return True
        if self._error is not None and self._error_mode == _JSON_MAY_FOLLOW and self._copy:
            error = self._error
            stripped = text.strip()
            if stripped in ("{", "["):
                self._json_start(text, error["request_id"], error["timestamp_ms"], error)
                self._error_mode = 0
                return True
            if stripped[:1] == "{":
                doc = decode_object(stripped)
                if isinstance(doc, dict):  # the whole document as one log event
                    pf.amend_error_from_doc(error, doc, stripped)
                    self._continued_events = self._error_access(error)
                    self._close()
                    return True
        return False

    def _absorb(self, text: str) -> list[Event]:
        """Add a traceback line to the open error; the last line (``Type: message``) closes it."""
        error = self._error
        assert error is not None
        tail: Optional[str] = None
        for marker in _GLUED:
            at = text.find(marker)
            if at > 0:
                text, tail = text[:at], text[at:]
                break
        line = text.replace("\u00a0", " ").rstrip()
        if line.strip():
            if line.strip() == "Traceback (most recent call last):":
                if error["stack"] is None:
                    error["stack"] = []
            else:
                if error["stack"] is None:
                    error["stack"] = []
                error["stack"].append(line)
                last = pf.ERROR_LINE.match(line) if line[:1] not in (" ", "\t") else None
                if last is not None:
                    # The traceback's last line names the exception a logger.exception line
                    # did not; a denial in it is a permission failure, whoever caught it.
                    if error.get("error_type") is None:
                        error["error_type"] = last.group(1)
                    if error.get("message") is None:
                        error["message"] = last.group(2).strip()
                    self._close()
                    if pf.has_access_denied(line):
                        denied = pf.access_denied_event(
                            line, error["request_id"], error["timestamp_ms"],
                            error["log_stream"], code=error.get("error_type"))
                        if denied is not None:
                            self._bucket = "recognised"
                            return [denied]
        self._bucket = "continued"
        if tail is not None:
            self._close()
            events = self._keyword(tail, None, None)
            if events:
                self._bucket = "recognised"
                return events
        return []
