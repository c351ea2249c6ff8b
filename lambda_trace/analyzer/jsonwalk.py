"""A JSON document that spans lines, read one top-level value at a time without holding it whole.

``aws logs filter-log-events`` prints one pretty-printed document however many events it found,
so a day of logs can be a single JSON value of gigabytes. The walker reads the top level itself
and hands on each element of a top-level array (or of an array under a top-level key) as soon as
it is complete, when ``is_event`` says it is one log event; everything else is kept and returned
as the document. It pulls lines on demand and returns the text it read past the value's end.

If the text turns out not to be JSON (a truncated line, a ``{`` in a plain log), ``NotJson``
carries the text back so it can be read as plain lines again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from lambda_trace.analyzer.inputs import MAX_LINE_CHARS, Line, LongLine
from lambda_trace.analyzer.jsondepth import MAX_JSON_DEPTH, too_deep

#: Largest single JSON value (one event, or a document with no event array) held while parsing.
MAX_VALUE_CHARS = 64 * 1024 * 1024
#: Read ahead this much when a value is not complete yet (keeps re-parsing near linear).
_READ_AHEAD_CHARS = 64 * 1024
#: Text kept for reading again as plain lines if it turns out not to be JSON after all.
_MAX_PUSHBACK_CHARS = 1024 * 1024
#: Elements of a document's arrays kept when they are not events (beyond: not an envelope).
_MAX_KEPT = 100_000

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


@dataclass
class Element:
    """One event-like element of a streamed array; ``scalars`` holds the top-level keys so far."""

    key: Optional[str]
    value: Any
    scalars: dict[str, Any] = field(default_factory=dict)


@dataclass
class Document:
    """The top-level value, without the elements already handed on as ``Element``s."""

    value: Any
    streamed: int


class NotJson(Exception):
    """The text is not (or stops being) JSON; ``lines`` are to be read again as plain lines.

    ``committed`` means part of the value was already handed on or dropped, so ``lines`` only
    start at the line where the JSON broke.
    """

    def __init__(self, reason: str, lines: list[Line], *, committed: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.lines = lines
        self.committed = committed


class _Fail(Exception):
    def __init__(self, reason: str, pos: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pos = pos


class JsonWalker:
    """Reads one top-level JSON value that starts on ``first_line``."""

    def __init__(
        self,
        first_line: Line,
        pull: Callable[[], Optional[Line]],
        is_event: Callable[[Any], bool],
        *,
        max_value: int = MAX_VALUE_CHARS,
    ) -> None:
        if isinstance(first_line, LongLine):
            self._buf = first_line.text + "\n" if first_line.last else first_line.text
        else:
            self._buf = first_line + "\n"
        self._pos = 0
        self._pull = pull
        self._is_event = is_event
        self._max_value = max_value
        self._eof = False
        self._value_start = 0
        self._streamed = 0
        self._committed = False
        #: text after the value's end, returned by ``rest()``
        self.rest = ""

    # -- input ---------------------------------------------------------------------------------

    def _more(self, at_least: int = _READ_AHEAD_CHARS) -> bool:
        """Append at least ``at_least`` characters (whole lines); False at the end of input."""
        if self._eof:
            return False
        if len(self._buf) - self._value_start > self._max_value:
            raise _Fail(f"a JSON value longer than {self._max_value} characters", self._pos)
        pieces, got = [], 0
        while got < at_least:
            line = self._pull()
            if line is None:
                self._eof = True
                break
            if isinstance(line, LongLine):
                text = line.text + "\n" if line.last else line.text
            else:
                text = line + "\n"
            pieces.append(text)
            got += len(text)
        if not pieces:
            return False
        self._buf += "".join(pieces)
        return True

    def _char(self) -> Optional[str]:
        """The next non-blank character (not consumed); None at the end of input."""
        while True:
            self._pos = _WS.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._more():
                return None

    def _expect(self, chars: str) -> str:
        c = self._char()
        if c is None or c not in chars:
            raise _Fail(f"expected {chars!r} in JSON", self._pos)
        self._pos += 1
        return c

    def _value(self) -> Any:
        if self._char() is None:
            raise _Fail("the input ends inside a JSON value", self._pos)
        self._value_start = self._pos
        while True:
            try:
                value, end = _DECODER.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                if self._incomplete(exc) and self._more(max(_READ_AHEAD_CHARS, len(self._buf))):
                    continue
                raise _Fail(exc.msg, exc.pos) from None
            except RecursionError:  # the stdlib decoder recurses per level
                raise _Fail(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", self._pos) from None
            if end - self._pos > MAX_JSON_DEPTH and too_deep(self._buf[self._pos : end]):
                raise _Fail(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", self._pos)
            if end >= len(self._buf) and isinstance(value, (int, float)) and self._more():
                continue  # the number may go on in the next piece
            self._pos = end
            return value

    def _incomplete(self, exc: json.JSONDecodeError) -> bool:
        """Whether decoding failed because the input stopped, rather than because it is not JSON."""
        if exc.msg.startswith("Unterminated string"):
            return True  # strings cannot hold a raw newline, so this is the end of a long piece
        if exc.msg.startswith("Invalid control character"):
            return False  # a raw newline inside a string: a cut line, not a longer value
        tail = self._buf[exc.pos :]
        return not tail.strip() or (len(tail) < 8 and "\n" not in tail)

    def _compact(self, limit: int = _READ_AHEAD_CHARS) -> None:
        """Drop parsed text; once dropped, a failure can no longer give all of it back."""
        if self._pos > limit:
            self._buf = self._buf[self._pos :]
            self._pos = 0
            self._committed = True

    # -- structure -----------------------------------------------------------------------------

    def walk(self) -> Iterator[Union[Element, Document]]:
        """Elements as they complete, then the ``Document``; ``rest`` is set when it ends."""
        try:
            c = self._char()
            if c == "{":
                yield from self._object()
            elif c == "[":
                self._pos += 1
                kept: list[Any] = []
                yield from self._array(None, kept, {})
                yield Document(kept, self._streamed)
            else:
                raise _Fail("not a JSON object or array", self._pos)
        except _Fail as fail:
            raise self._not_json(fail) from None
        self.rest = self._buf[self._pos :]

    def _object(self) -> Iterator[Union[Element, Document]]:
        self._pos += 1
        doc: dict[str, Any] = {}
        if self._char() == "}":
            self._pos += 1
            yield Document(doc, 0)
            return
        while True:
            if self._char() != '"':
                raise _Fail("expected a key in JSON object", self._pos)
            key = self._value()
            self._expect(":")
            if self._char() == "[":
                self._pos += 1
                kept: list[Any] = []
                yield from self._array(key, kept, dict(doc))  # the keys read so far
                doc[key] = kept
            else:
                doc[key] = self._value()
                self._compact(_MAX_PUSHBACK_CHARS)
            if self._expect(",}") == "}":
                break
        yield Document(doc, self._streamed)

    def _array(
        self, key: Optional[str], kept: list[Any], scalars: dict[str, Any]
    ) -> Iterator[Element]:
        if self._char() == "]":
            self._pos += 1
            return
        while True:
            value = self._value()
            if self._is_event(value):
                self._streamed += 1
                self._committed = True
                yield Element(key, value, scalars)
                self._compact()
            else:
                if len(kept) >= _MAX_KEPT:
                    raise _Fail(
                        f"more than {_MAX_KEPT} array items that are not log events", self._pos
                    )
                kept.append(value)
                self._compact(_MAX_PUSHBACK_CHARS)
            if self._expect(",]") == "]":
                return

    def _not_json(self, fail: _Fail) -> NotJson:
        """What to read again as plain lines: all of it, or (after events) from the failing line."""
        start = 0
        if self._committed:
            start = self._buf.rfind("\n", 0, max(fail.pos, 0)) + 1
        # Read up to the end of the line being parsed, so nothing is lost or split.
        text = self._buf[start:]
        if text.endswith("\n"):
            text = text[:-1]
        lines: list[Line] = []
        for line in text.split("\n"):
            lines.append(
                LongLine(line, first=True, last=True) if len(line) > MAX_LINE_CHARS else line
            )
        return NotJson(fail.reason, lines, committed=self._committed)
