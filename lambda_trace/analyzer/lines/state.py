"""The parser's counters and the state it keeps between lines (see ``parse.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from lambda_trace.analyzer import platform as pf
from lambda_trace.analyzer.model import Event


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


#: error_mode: what may still follow an open error event in a copy
TRACEBACK_MAY_FOLLOW = 1
JSON_MAY_FOLLOW = 2


class LineState:
    """What the parser remembers between lines, and how an event is held open for the next one.

    The line handlers (``json_lines``, ``continuation``, ``text_lines``) build on this class, each
    in its own module; ``parse.Parser`` is the one they make together.
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
        #: False: an EMF document becomes a counted event only (``records.emf_counted``)
        self.emf_detail = True

    def _stamp(self, line_ts: Optional[int]) -> Optional[int]:
        if self._env_ts is not None:
            return self._env_ts
        return line_ts if line_ts is not None else self._console_ts

    # ---------------------------------------------------------------------------- dispatch
    # (defined by text_lines.TextLines; declared here for the handlers that come before it)

    def _dispatch(self, text: str, allow_weak: bool = True) -> Optional[list[Event]]:
        raise NotImplementedError

    def _keyword(
        self, s: str, request_id: Optional[str], line_ts: Optional[int]
    ) -> Optional[list[Event]]:
        raise NotImplementedError

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
        if mode == TRACEBACK_MAY_FOLLOW and (
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
