"""Lines that hold JSON: decoded, salvaged when cut short, reassembled when pretty-printed
over several lines of a copy (docs/formats.md §3-5, §9)."""

from __future__ import annotations

import re
from typing import Any, Optional

from lambda_trace.analyzer import platform as pf
from lambda_trace.analyzer.lines.iso import iso_to_ms
from lambda_trace.analyzer.lines.state import LineState
from lambda_trace.analyzer.model import Event
from lambda_trace.analyzer.records import (
    RECORD_TYPES,
    decode_object,
    emf_counted,
    emf_event,
    emf_timestamp,
    is_emf,
    record_event,
    salvage_emf,
)
from lambda_trace.schema import MARKER

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_JSON_VALUE_START = frozenset('"{}[],-0123456789tfn')
#: A pretty-printed document longer than this is not being reassembled.
_MAX_JSON_LINES = 20000
_MAX_JSON_CHARS = 4 * 1024 * 1024


def _json_depth(text: str) -> int:
    if "{" not in text and "}" not in text and "[" not in text and "]" not in text:
        return 0
    bare = _JSON_STRING.sub("", text) if '"' in text else text
    return bare.count("{") + bare.count("[") - bare.count("}") - bare.count("]")


class JsonLines(LineState):
    """JSON lines: our records, EMF, platform and app records, pretty-printed documents."""

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
            ts = ts if ts is not None else self._console_ts
            if not self.emf_detail:
                return [emf_counted(ts, self._stream)]
            return [emf_event(obj, ts, self._stream, request_id)]
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
