"""One input's lines in, its CloudWatch log events out, whatever envelope the lines came in.

Every line is a log event unless it is recognised as part of an envelope, decided line by line
so mixed content works (docs/formats.md §7, §0):

* JSON: a line holding an envelope document (JSONL of boto3 event dicts, a compact
  ``filter-log-events`` page, a subscription payload, an Insights row, ``{"awslogs":…}``…) gives
  the events inside it; a JSON value spread over lines (the CLI's pretty output, the console's
  expanded rendering) is read by ``JsonWalker``; any other JSON line is a log message as it is.
* ``aws logs tail`` / ``sam logs`` lines lose their prefix and give a log stream and a time; the
  lines after one without a prefix belong to the same (multi-line) event.
* console copies: a line holding only a timestamp dates the next event; a leading timestamp
  column is taken off; an event shown twice (collapsed, a blank line, expanded) is kept once;
  an expanded JSON value is joined back onto the line it belongs to (``…Uncaught Exception\\t``).
* Logs Insights tables (Markdown or CSV) give one event per row; a line of base64 gzip (Kinesis
  and Firehose records) is decoded as a subscription payload.

Plain lines keep their text exactly, less the line break; nothing is reordered.
"""

from __future__ import annotations

import ast
import csv
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any, Optional

from lambda_trace.analyzer.envelopes import (
    AMBIGUOUS_FIRST_KEYS,
    ENVELOPE_FIRST_KEYS,
    Context,
    EmbeddedText,
    Item,
    decode_embedded,
    event_from_mapping,
    events_from_document,
    is_control_message,
    is_event_like,
)
from lambda_trace.analyzer.inputs import MAX_LINE_CHARS, Line, LongLine
from lambda_trace.analyzer.jsondepth import too_deep
from lambda_trace.analyzer.jsonwalk import Document, Element, JsonWalker, NotJson
from lambda_trace.analyzer.lineformats import (
    PREFIX_START,
    Prefixed,
    headless_table_row,
    is_csv_header,
    is_table_separator,
    split_prefix,
    table_header,
    table_row,
)
from lambda_trace.analyzer.model import LogEvent
from lambda_trace.analyzer.sourcestats import SourceStats

#: First characters of lines that may be more than a plain message (everything else is one).
_SPECIAL = PREFIX_START | frozenset('{[|H@"')
#: Second characters that can follow ``[`` in JSON (``[INFO]`` and ``[ERROR]`` are never JSON).
_ARRAY_SECOND = frozenset(["", *'{["-0123456789tfn \t'])
#: The start of a one-line JSON object that may be an envelope (a Python dict literal included);
#: any other JSON object line is a log message, recognised without decoding it.
_MAYBE_ENVELOPE = re.compile(
    r"""\{\s*(?:'|"(?:"""
    + "|".join(sorted(re.escape(k) for k in ENVELOPE_FIRST_KEYS | AMBIGUOUS_FIRST_KEYS))
    + r')")'
)
_ENVELOPE_ONLY_MARKERS = ('"ingestionTime"', '"eventId"', '"logStreamName"')
_JSON_ARRAY_START = frozenset('{["-0123456789tfn')
_DECODER = json.JSONDecoder()


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _same_text(a: str, b: str) -> bool:
    """Equal but for whitespace: the console's two renderings of one event."""
    return "".join(a.split()) == "".join(b.split())


def _first_key(line: str) -> Optional[str]:
    """The first key of a JSON object line, without decoding it."""
    i = 1
    n = len(line)
    while i < n and line[i] in " \t":
        i += 1
    if i >= n or line[i] != '"':
        return None
    end = line.find('"', i + 1)
    return line[i + 1 : end] if end > 0 else None


class _Outcome:
    """What a line that may be more than a plain message turned out to be."""

    __slots__ = ("events", "is_document", "mode", "restart", "text", "timestamp_line", "ts")

    def __init__(
        self,
        *,
        events: Optional[Iterable[LogEvent]] = None,
        text: Optional[str] = None,
        ts: Optional[int] = None,
        is_document: bool = False,
        timestamp_line: bool = False,
        restart: bool = False,
        mode: Optional[Iterator[LogEvent]] = None,
    ) -> None:
        self.events = events  # envelope events, emitted first
        self.text = text  # a message to emit as a text event
        self.ts = ts  # its time, or the time of a timestamp line
        self.is_document = is_document  # text is an expanded JSON value, rejoined compactly
        self.timestamp_line = timestamp_line  # the line held only a timestamp
        self.restart = restart  # lines were pushed back for reading again
        self.mode = mode  # the rest of the input, read in another format


class TextReader:
    """Reads the lines of one input (a file, stdin, an embedded ``LogResult``)."""

    def __init__(
        self,
        origin: str,
        stats: SourceStats,
        *,
        log_group: Optional[str] = None,
        log_stream: Optional[str] = None,
        count_events: bool = True,
    ) -> None:
        self.origin = origin
        self.stats = stats
        self.log_group = log_group
        self.log_stream = log_stream
        #: whether ``stats.events`` counts what this reader yields (not when nested in another)
        self.count_events = count_events
        self._ctx = Context(origin, log_group, log_stream)
        self._src: Iterator[Line] = iter(())
        self._table: Optional[list[str]] = None

    def read(self, lines: Iterable[Line]) -> Iterator[LogEvent]:
        """The log events in ``lines``, in order."""
        self._src = iter(lines)
        stats, origin = self.stats, self.origin
        group, stream = self.log_group, self.log_stream
        special, array_second, maybe_envelope = _SPECIAL, _ARRAY_SECOND, _MAYBE_ENVELOPE.match
        count = 0
        pending_ts: Optional[int] = None  # from a line holding only a timestamp
        ts_line = False  # such a line came since the last event
        blank = False  # a blank line came since the last event
        last: Optional[str] = None  # the previous text event, for console duplicates
        held: Optional[LogEvent] = None  # ends with a tab: an expanded JSON value may follow
        try:
            while True:
                out: Optional[_Outcome] = None
                for line in self._src:
                    out = None
                    if not line:
                        if not isinstance(line, LongLine):
                            blank = True
                            continue
                        out = self._long(line)
                        text = ""
                    else:
                        text = line
                        c = line[0]
                        if c in special:
                            # Cheap tests first: most such lines are plain messages.
                            if c == "{":
                                if line[-1] != "}" or maybe_envelope(line) is not None:
                                    out = self._special(line)
                            elif c == "[":
                                if line[1:2] in array_second:
                                    out = self._special(line)
                            elif line[24:25] != "\t":  # not "<ISO ts>\t<request id>\t…"
                                out = self._special(line)
                    if out is None:
                        ts = pending_ts
                        is_document = False
                    else:
                        if out.timestamp_line:
                            pending_ts, ts_line = out.ts, True
                            continue
                        if out.events is not None:
                            # may be a generator (a streamed document): the held line goes
                            # out only once an event does, else it may join the document text
                            for event in out.events:
                                if held is not None:
                                    count += 1
                                    yield held
                                    held = None
                                count += 1
                                yield event
                                last, blank = None, False
                        if out.mode is not None:
                            if held is not None:
                                count += 1
                                yield held
                                held = None
                            for event in out.mode:
                                count += 1
                                yield event
                            return
                        if out.text is None:
                            if out.restart:
                                break
                            continue
                        text = out.text
                        ts = out.ts if out.ts is not None else pending_ts
                        is_document = out.is_document
                    # -- one text event: `text` at `ts` --------------------------------------
                    if blank and last is not None and not ts_line and _same_text(text, last):
                        stats.duplicates_dropped += 1
                        blank = False
                    else:
                        if held is not None:
                            if is_document and not blank and not ts_line:
                                text = held.message + text
                                ts = held.timestamp_ms
                            else:
                                count += 1
                                yield held
                            held = None
                        event = LogEvent(text, ts, stream, group, origin)
                        pending_ts = None
                        ts_line = blank = False
                        last = text
                        if text[-1] == "\t":
                            held = event
                        else:
                            count += 1
                            yield event
                    if out is not None and out.restart:
                        break
                else:
                    break  # the input is done
            if held is not None:
                count += 1
                yield held
        finally:
            if self.count_events:
                stats.events += count

    # -- helpers -----------------------------------------------------------------------------

    def _pull(self) -> Optional[Line]:
        return next(self._src, None)

    def _push_back(self, lines: list[Line]) -> None:
        if lines:
            self._src = itertools.chain(lines, self._src)

    def _truncated(self, line: LongLine) -> str:
        """The first ``MAX_LINE_CHARS`` of a long line; its other pieces are skipped."""
        self.stats.truncated_lines += 1
        piece = line
        while not piece.last:
            nxt = next(self._src, None)
            if not isinstance(nxt, LongLine):
                break
            piece = nxt
        return line.text[:MAX_LINE_CHARS]

    def _long(self, line: LongLine) -> _Outcome:
        if line.first and line.text[:1] in "{[":
            return self._walk(line)
        return _Outcome(text=self._truncated(line))

    def _special(self, line: str) -> Optional[_Outcome]:
        """What a line that may be more than a message is; None when it is just a message."""
        c = line[0]
        if c == "{":
            stripped = line.rstrip()
            if stripped.endswith("}"):
                events = self._json_line(stripped)
                return _Outcome(events=events) if events is not None else None
            return self._walk(line)
        if c == "[":
            stripped = line.rstrip()
            if stripped.endswith("]"):
                if (
                    '"@message"' in stripped
                    or '"logEvents"' in stripped
                    or any(m in stripped for m in _ENVELOPE_ONLY_MARKERS)
                ):
                    events = self._decode_line(stripped)
                    return _Outcome(events=events) if events is not None else None
                return None
            rest = stripped[1:].lstrip()
            if not rest or rest[0] in _JSON_ARRAY_START:
                return self._walk(line)
            return None
        if c == "|":
            return self._table_line(line)
        if c == "H":
            if line.startswith("H4sI") and " " not in line.strip():
                return _Outcome(events=self._expand(decode_embedded(line, self._ctx, self.stats)))
            return None
        if c == "@" or c == '"':
            return _Outcome(mode=self._csv(line)) if is_csv_header(line) else None
        prefixed = split_prefix(line)
        if prefixed is None:
            return None
        if prefixed.kind == "timestamp":
            return _Outcome(timestamp_line=True, ts=prefixed.timestamp_ms)
        if prefixed.kind == "column":
            return _Outcome(text=prefixed.message, ts=prefixed.timestamp_ms)
        return _Outcome(mode=self._prefixed(prefixed))

    # -- JSON ----------------------------------------------------------------------------------

    def _json_line(self, line: str) -> Optional[list[LogEvent]]:
        """The events of a one-line envelope document; None for any other JSON (or non-JSON)."""
        if line.startswith("{'"):
            return self._python_dict_line(line)
        key = _first_key(line)
        if key is None:
            return None
        if key in AMBIGUOUS_FIRST_KEYS:
            if not any(marker in line for marker in _ENVELOPE_ONLY_MARKERS):
                return None
        elif key not in ENVELOPE_FIRST_KEYS:
            return None
        return self._decode_line(line)

    def _decode_line(self, line: str) -> Optional[list[LogEvent]]:
        """Events of the envelope documents on one line (Firehose writes them back to back)."""
        if too_deep(line):
            return None  # read as a plain line: the parser counts it as malformed
        docs, pos, end = [], 0, len(line)
        try:
            while pos < end:
                doc, pos = _DECODER.raw_decode(line, pos)
                docs.append(doc)
                while pos < end and line[pos] in " \t,":
                    pos += 1
        except json.JSONDecodeError:
            if not docs:
                return None
        events: list[LogEvent] = []
        known = False
        for doc in docs:
            items = events_from_document(doc, self._ctx, self.stats)
            if items is not None:
                known = True
                events.extend(self._expand(items))
        return events if known else None

    def _python_dict_line(self, line: str) -> Optional[list[LogEvent]]:
        """``print(event)`` of a boto3 event dict: a Python literal, not JSON."""
        if "'message'" not in line or too_deep(line):
            return None
        try:
            doc = ast.literal_eval(line)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
        items = events_from_document(doc, self._ctx, self.stats)
        return self._expand(items) if items is not None else None

    def _expand(self, items: Optional[list[Item]]) -> list[LogEvent]:
        """Envelope items as events; embedded plain text (``LogResult``) read line by line."""
        out: list[LogEvent] = []
        for item in items or ():
            if isinstance(item, EmbeddedText):
                inner = TextReader(
                    f"{item.origin} LogResult",
                    self.stats,
                    log_group=self.log_group,
                    log_stream=self.log_stream,
                    count_events=False,  # this reader counts them as it yields them
                )
                out.extend(inner.read(item.text.split("\n")))
            else:
                out.append(item)
        return out

    def _walk(self, first: Line) -> _Outcome:
        """Read the JSON value that starts at ``first`` (see ``JsonWalker``).

        The outcome's events stream as the value is read; once they are exhausted, ``text``
        holds the compact value if it was no envelope, or ``first`` if it was not JSON at all.
        """
        outcome = _Outcome(restart=True)
        outcome.events = self._walk_events(first, outcome)
        return outcome

    def _walk_events(self, first: Line, outcome: _Outcome) -> Iterator[LogEvent]:
        walker = JsonWalker(first, self._pull, is_event_like)
        try:
            for item in walker.walk():
                if isinstance(item, Element):
                    if not is_control_message(item.scalars):
                        event = event_from_mapping(item.value, self._context(item.scalars))
                        if event is not None:
                            yield event
                    continue
                document: Document = item
                if document.streamed:
                    continue
                found = events_from_document(document.value, self._ctx, self.stats)
                if found is not None:
                    yield from self._expand(found)
                else:
                    outcome.text = _compact_json(document.value)
                    outcome.is_document = True
        except NotJson as exc:
            if exc.committed:
                self.stats.malformed += 1
                self.stats.note(self.origin, f"a JSON document breaks off ({exc.reason})")
                self._push_back(exc.lines)
                return
            # Not JSON after all: the first line is a plain message, the rest is read again.
            first_text = exc.lines[0]
            self._push_back(exc.lines[1:])
            if isinstance(first_text, LongLine):
                self.stats.truncated_lines += 1
                first_text = first_text.text[:MAX_LINE_CHARS]
            outcome.text = first_text
            return
        self._push_back(self._rest_lines(walker.rest))

    def _context(self, scalars: dict[str, Any]) -> Context:
        group, stream = scalars.get("logGroup"), scalars.get("logStream")
        if not isinstance(group, str) and not isinstance(stream, str):
            return self._ctx
        return Context(
            self.origin,
            group if isinstance(group, str) else self.log_group,
            stream if isinstance(stream, str) else self.log_stream,
        )

    @staticmethod
    def _rest_lines(rest: str) -> list[Line]:
        """The text read past a JSON value: the rest of its last line, then whole lines."""
        if not rest:
            return []
        pieces = rest.split("\n")
        out: list[Line] = []
        head = pieces[0].lstrip(" \t,")
        if head.strip():
            out.append(head)
        out.extend(pieces[1:-1])
        if pieces[-1] and len(pieces) > 1:
            out.append(pieces[-1])
        return out

    # -- other formats -------------------------------------------------------------------------

    def _table_line(self, line: str) -> Optional[_Outcome]:
        """Logs Insights "Copy as markdown": header, separator, then one event per row."""
        header = table_header(line)
        if header is not None:
            self._table = header
            return _Outcome()
        if self._table is None:
            headless = headless_table_row(line)
            if headless is None:
                return None
            event = event_from_mapping(headless, self._ctx)
            return _Outcome(events=[event] if event is not None else None)
        if is_table_separator(line):
            return _Outcome()
        row = table_row(line, self._table)
        if row is None:
            return None
        event = event_from_mapping(row, self._ctx)
        return _Outcome(events=[event] if event is not None else None)

    def _csv(self, header: str) -> Iterator[LogEvent]:
        columns = next(csv.reader([header]))
        csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_CHARS))
        lines = (
            (self._truncated(line) if line.__class__ is LongLine else line) + "\n"  # type: ignore[operator]
            for line in self._src
        )
        reader = csv.reader(lines)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self.stats.malformed += 1
                self.stats.note(self.origin, f"CSV row {reader.line_num}: {exc}; skipped")
                continue
            if not row:
                continue
            event = event_from_mapping(dict(zip(columns, row)), self._ctx)
            if event is not None:
                yield event

    def _prefixed(self, first: Prefixed) -> Iterator[LogEvent]:
        """``aws logs tail`` / ``sam logs`` output: unprefixed lines continue the event above."""
        group = self.log_group
        origin = self.origin
        message, ts, stream = first.message, first.timestamp_ms, first.log_stream
        deco = first.decoration
        for line in self._src:
            if not line:
                if not isinstance(line, LongLine):
                    continue
                line = self._truncated(line)
            prefixed = split_prefix(line) if line[0] in PREFIX_START else None
            if prefixed is not None and prefixed.kind in ("tail", "sam"):
                yield LogEvent(message, ts, stream or self.log_stream, group, origin)
                message, ts, stream = prefixed.message, prefixed.timestamp_ms, prefixed.log_stream
                deco = prefixed.decoration
                continue
            if deco and line.startswith(deco):
                line = line[len(deco) :]
            message = f"{message}\n{line}"
        yield LogEvent(message, ts, stream or self.log_stream, group, origin)
