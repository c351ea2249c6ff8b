"""Lines that complete an earlier event: an XRAY line after its REPORT, ``Runtime.ExitError``
after its fault line, a traceback after its ``[ERROR]`` line, the JSON document after Node's
``Uncaught Exception`` (docs/formats.md §0, §9)."""

from __future__ import annotations

from typing import Optional

from lambda_trace.analyzer import platform as pf
from lambda_trace.analyzer.lines.json_lines import JsonLines
from lambda_trace.analyzer.lines.state import JSON_MAY_FOLLOW
from lambda_trace.analyzer.model import Event
from lambda_trace.analyzer.records import decode_object

GLUED = ("END RequestId:", "START RequestId:", "REPORT RequestId:")


class Continuation(JsonLines):
    """Lines that complete an event returned for an earlier line (copies split events)."""

    def _continue(self, text: str) -> bool:
        """Complete an open event with this line; True when the line belonged to it."""
        if self._report is not None and pf.REPORT_CONTINUATION.match(text):
            return pf.amend_report(self._report, text)
        if self._exit is not None and pf.amend_exit(self._exit, text):
            return True
        if self._error is not None and self._error_mode == JSON_MAY_FOLLOW and self._copy:
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
        for marker in GLUED:
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
