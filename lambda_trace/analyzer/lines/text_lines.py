"""Text lines: classified from their first bytes, then with wrapper prefixes (copied timestamps,
log-group and stream names, markdown markers) stripped, then searched for fault phrases, glued
platform lines, embedded JSON and AccessDenied messages (docs/formats.md §1-2, §7, §9)."""

from __future__ import annotations

import re
from typing import Optional

from lambda_trace.analyzer import platform as pf
from lambda_trace.analyzer.lines.continuation import GLUED, Continuation
from lambda_trace.analyzer.lines.iso import iso_to_ms
from lambda_trace.analyzer.lines.state import JSON_MAY_FOLLOW, TRACEBACK_MAY_FOLLOW
from lambda_trace.analyzer.model import Event, make_event

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
_PREFIX_START = frozenset("0123456789 \t\u00a0[`*#>-")
_ID_START = frozenset("0123456789abcdefABCDEFu")
_ERROR_LEVELS = frozenset(("ERROR", "FATAL", "CRITICAL", "error", "fatal", "critical", "crit",
                           "fail"))
_BLANKS = "\t \u00a0"

#: "[ERROR] [1764102960370] LAMBDA_RUNTIME Failed to post handler success response. ..." (the
#: Node.js runtime's own log line; not Python's "[ERROR]\t<timestamp>" format)
_NODE_RUNTIME_LINE = re.compile(r"[\t ]*\[(\d{12,14})\][\t ]*LAMBDA_RUNTIME[\t ]+(.*)", re.DOTALL)
#: "REPORT RequestId: <id>" with its fields on the next lines (a copy that split them)
_BARE_REPORT = re.compile(r"REPORT RequestId:[\t ]*\S+[\t ]*\Z")
_TRACEBACK = "Traceback (most recent call last):"
#: a Python traceback's frame line
_PY_FRAME = re.compile(r'[\t ]*File "[^"]+", line \d+, in ')


class TextLines(Continuation):
    """Text lines: platform keywords, runtime-logger lines, wrapper prefixes, weak phrases."""

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
        absorbing = error is not None and mode == TRACEBACK_MAY_FOLLOW and self._copy \
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
        self._open_error(event, TRACEBACK_MAY_FOLLOW)
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
                self._open_error(event, TRACEBACK_MAY_FOLLOW)
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
        self._open_error(event, JSON_MAY_FOLLOW)
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
                self._open_error(error, JSON_MAY_FOLLOW)
            elif rest in ("{", "[") and self._copy:
                # A copy that breaks the JSON after its first "{" (linter-bot#158's paste).
                self._json_start(rest, request_id, ts, error)
                self._open_error(error, 0)  # open (not final) until the document closes
        elif level in _ERROR_LEVELS:
            error = pf.logged_error_event(message, runtime=runtime, request_id=request_id, ts=ts,
                                          stream=self._stream)
            if error["stack"] is None and self._env_ts is None:
                self._open_error(error, TRACEBACK_MAY_FOLLOW)
        elif level is None and runtime == "nodejs":
            match = pf.ERROR_LINE.match(message)
            if match is not None:
                error = pf.error_event(match.group(1), match.group(2).strip(), None,
                                       runtime=runtime, unhandled=False, request_id=request_id,
                                       ts=ts, stream=self._stream)
                self._open_error(error, TRACEBACK_MAY_FOLLOW)
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
        for marker in GLUED:
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
            self._open_error(event, TRACEBACK_MAY_FOLLOW)
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
            self._open_error(event, TRACEBACK_MAY_FOLLOW)
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
        self._open_error(event, TRACEBACK_MAY_FOLLOW)
        return [event]
