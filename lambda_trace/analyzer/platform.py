"""Lambda's own lines, in the Text and the JSON log format, turned into normalised events.

Covers the platform lines (START/END/REPORT, INIT_*, RESTORE_*, EXTENSION/TELEMETRY/LOGS and the
``platform.*`` JSON records), the fault lines (``Task timed out``, ``Runtime exited ...``), the
runtimes' error reports (Python ``[ERROR]``, Node ``Invoke Error``, the JSON error documents) and
AccessDenied messages of any AWS service. Each builder gets one line with the wrapper prefixes
already removed (see ``parse.py``). Rules and sources: docs/formats.md.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Optional

from lambda_trace.analyzer.model import Event, make_event
from lambda_trace.analyzer.records import (
    decode_object,
    emf_event,
    emf_timestamp,
    is_emf,
    is_our_record,
    record_event,
)

# --------------------------------------------------------------------------------------------
# Request ids

#: An unlabelled request id at the start of a line: a UUID (the docs redact parts with "xmpl"),
#: or a hex id shortened by whoever copied the log (docs/formats.md §1.1).
REQUEST_ID = (
    r"(?:[0-9a-fA-F]{8}-[0-9a-zA-Z]{4}-[0-9a-zA-Z]{4}-[0-9a-zA-Z]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-f]{12,32}|undefined)"
)
_LABELLED_ID = re.compile(r"RequestId:[\t ]*(\S*)")
_BARE_ID = re.compile(REQUEST_ID + r"(?![\w-])")


def clean_id(token: Optional[str]) -> Optional[str]:
    """The request id in ``token``, or None where a copy deleted it or Node wrote ``undefined``."""
    if not token:
        return None
    token = token.strip(" \t,")
    if not token or token.endswith(":") or token == "undefined":
        return None
    return token


def _id_before(text: str, end: int) -> Optional[str]:
    """The request id written before position ``end``: labelled (``RequestId: x``) or bare."""
    head = text[:end]
    match = _LABELLED_ID.search(head)
    if match:
        return clean_id(match.group(1))
    match = _BARE_ID.search(head)
    return clean_id(match.group(0)) if match else None


# --------------------------------------------------------------------------------------------
# Numbers and small shared shapes


def _number(text: Any) -> Optional[float]:
    if text is None:  # the usual absent field: cheaper than the exception
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _whole(text: Any) -> Optional[int]:
    if text is None:
        return None
    try:
        return int(text)
    except (TypeError, ValueError):
        value = _number(text)
        return int(value) if value is not None else None


def _status(value: Any) -> Optional[str]:
    """A platform status as success | timeout | error (Telemetry's "failure" is an error)."""
    if not isinstance(value, str) or not value:
        return None
    status: str = value.lower()
    return status if status in ("success", "timeout", "error") else "error"


def _name_list(text: Optional[str]) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


# --------------------------------------------------------------------------------------------
# START / END / REPORT (docs/formats.md §1.1-1.3)


#: Longest names first, so "Billed Restore Duration" never reads as "Restore Duration" and
#: "Billed Duration" never as "Duration" (docs/formats.md §9.2). Values are one token; fields may
#: be glued ("1470 msMemory Size", §9.1).
_REPORT_FIELD = re.compile(
    r"(Billed Restore Duration|Restore Duration|Billed Duration|Init Duration|Max Memory Used"
    r"|Memory Size|Duration|Status|Error Type|TraceId|SegmentId):[\t ]*([^\s]*)"
)
_KNOWN_STATUSES = frozenset(("success", "timeout", "error", "failure"))

#: A line that continues a REPORT cut in two by a copy (messy.log:32-33) or its XRAY line (§9.3).
REPORT_CONTINUATION = re.compile(
    r"[\t ]*(?:XRAY TraceId:|Duration:|Billed Duration:|Memory Size:|Max Memory Used:"
    r"|Init Duration:|Restore Duration:|Billed Restore Duration:|Status:|Error Type:)"
)


def _first_token(text: str) -> Optional[str]:
    parts = text.split(None, 1)
    return parts[0] if parts else None


def start_event(text: str, ts: Optional[int], stream: Optional[str]) -> Event:
    """``START RequestId: <id> Version: <$LATEST | n>`` (the id can be deleted in copies)."""
    at = text.find("Version:", 16)
    head = text[16:at] if at >= 0 else text[16:]
    version = _first_token(text[at + 8:]) if at >= 0 else None
    return {"type": "start", "request_id": clean_id(_first_token(head)), "timestamp_ms": ts,
            "log_stream": stream, "version": version}


def end_event(text: str, ts: Optional[int], stream: Optional[str]) -> Event:
    """``END RequestId: <id>``."""
    return {"type": "end", "request_id": clean_id(_first_token(text[14:])), "timestamp_ms": ts,
            "log_stream": stream}


def _report_status(raw: str) -> Optional[str]:
    return _status(raw) if raw.lower() in _KNOWN_STATUSES else None


def _text(raw: str) -> Optional[str]:
    return raw or None


#: REPORT field name -> (event key, converter)
_REPORT_CONVERT: dict[str, tuple[str, Callable[[str], Any]]] = {
    "Duration": ("duration_ms", _number),
    "Billed Duration": ("billed_duration_ms", _whole),
    "Memory Size": ("memory_size_mb", _whole),
    "Max Memory Used": ("max_memory_used_mb", _whole),
    "Init Duration": ("init_duration_ms", _number),
    "Restore Duration": ("restore_duration_ms", _number),
    "Billed Restore Duration": ("billed_restore_duration_ms", _whole),
    "Status": ("status", _report_status),
    "Error Type": ("error_type", _text),
    "TraceId": ("xray_trace_id", _text),
    "SegmentId": ("xray_segment_id", _text),
}
_REPORT_TEMPLATE: Event = make_event("report")


#: REPORT fields by name when the line keeps its tabs; the XRAY part follows after "\\n".
_TAB_FIELDS = {**_REPORT_CONVERT, "XRAY TraceId": ("xray_trace_id", _text)}
_TAB_SKIPPED = frozenset(("REPORT RequestId", "Sampled"))


def _report_values(text: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "\t" in text:
        # The usual line: one "Name: value unit" per tab-separated part; anything else (spaces
        # for tabs, glued fields, a cut-off label) takes the general pattern below.
        for part in text.split("\t"):
            name, sep, raw = part.partition(": ")
            if not sep:
                if part.strip():
                    break
                continue
            if ":" in raw:
                break
            entry = _TAB_FIELDS.get(name.strip())
            if entry is None:
                if name.strip() in _TAB_SKIPPED:
                    continue
                break
            key, convert = entry
            if key not in values:
                token = raw.split(None, 1)
                value = convert(token[0]) if token else None
                if value is not None:
                    values[key] = value
        else:
            return values
        values = {}
    for name, raw in _REPORT_FIELD.findall(text):
        key, convert = _REPORT_CONVERT[name]
        if key not in values:
            value = convert(raw)
            if value is not None:
                values[key] = value
    return values


#: The REPORT as Lambda writes it (tabs; "ms \\t" before 2021); the optional fields follow.
_CANONICAL_REPORT = re.compile(
    r"REPORT RequestId: (\S+)\tDuration: (\d+\.?\d*) ms\tBilled Duration: (\d+) ms ?\t"
    r"Memory Size: (\d+) MB\tMax Memory Used: (\d+) MB\t?(.*)",
    re.DOTALL,
)


def report_event(
    text: str,
    ts: Optional[int],
    stream: Optional[str],
    request_id: Optional[str] = None,
) -> Event:
    """A text REPORT (optionally with its XRAY part after ``\\n`` or on the same line).

    ``text`` starts with ``REPORT RequestId:``, or with the fields themselves when a copy cut the
    label off (then ``request_id`` is the id found before them). No ``Status`` means success.
    """
    match = _CANONICAL_REPORT.match(text)
    if match is not None:
        rest = match.group(6)
        event: Event = {
            "type": "report",
            "request_id": clean_id(match.group(1)),
            "timestamp_ms": ts,
            "log_stream": stream,
            "duration_ms": float(match.group(2)),
            "billed_duration_ms": int(match.group(3)),
            "memory_size_mb": int(match.group(4)),
            "max_memory_used_mb": int(match.group(5)),
            "init_duration_ms": None,
            "restore_duration_ms": None,
            "status": "success",
            "error_type": None,
            "xray_trace_id": None,
            "billed_restore_duration_ms": None,
            "xray_segment_id": None,
        }
        if rest and not rest.isspace():
            event.update(_report_values("\t" + rest))
        return event
    if text.startswith("REPORT RequestId:"):
        request_id = clean_id(_first_token(text[17:]))
    event = _REPORT_TEMPLATE.copy()
    event["request_id"] = request_id
    event["timestamp_ms"] = ts
    event["log_stream"] = stream
    event["status"] = "success"
    event.update(_report_values(text))
    return event


def amend_report(event: Event, text: str) -> bool:
    """Fill a REPORT's missing fields from a continuation line; True if the line belonged to it."""
    values = _report_values(text)
    changed = False
    for key, value in values.items():
        if key == "status":
            if event["status"] == "success" and value != "success":
                event["status"] = value
                changed = True
        elif event.get(key) is None and value is not None:
            event[key] = value
            changed = True
    return changed


# --------------------------------------------------------------------------------------------
# INIT_START / INIT_REPORT / RESTORE_* / EXTENSION / TELEMETRY / LOGS (docs/formats.md §1.4-1.7)

_RUNTIME_VERSION = re.compile(
    r"Runtime Version:[\t ]*(\S+)(?:[\t ]+Runtime Version ARN:[\t ]*(\S+))?"
)
_INIT_FIELD = re.compile(r"(Init Duration|Restore Duration|Phase|Status|Error Type):[\t ]*(\S*)")
_EXTENSION = re.compile(
    r"EXTENSION[\t ]+Name:[\t ]*(.*?)[\t ]+State:[\t ]*(\S+)"
    r"(?:[\t ]+Events:[\t ]*\[([^\]]*)\])?(?:.*?Error Type:[\t ]*(\S+))?"
)
# The state may be two words ("State: Already subscribed", when an extension subscribes twice).
_SUBSCRIPTION = re.compile(
    r"(TELEMETRY|LOGS)[\t ]+Name:[\t ]*(.*?)[\t ]+State:[\t ]*(\S+(?: [a-z]\w*)*)"
    r"(?:[\t ]+Types:[\t ]*\[([^\]]*)\])?"
)


def runtime_start_event(
    type_: str, text: str, ts: Optional[int], stream: Optional[str]
) -> Event:
    """``INIT_START`` / ``RESTORE_START Runtime Version: <v>\\tRuntime Version ARN: <arn>``."""
    match = _RUNTIME_VERSION.search(text)
    fields: dict[str, Any] = {
        "runtime_version": match.group(1) if match else None,
        "runtime_version_arn": match.group(2) if match else None,
    }
    return make_event(type_, timestamp_ms=ts, log_stream=stream, **fields)


def _init_fields(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, raw in _INIT_FIELD.findall(text):
        fields.setdefault(name, raw)
    return fields


def init_report_event(text: str, ts: Optional[int], stream: Optional[str]) -> Event:
    """``INIT_REPORT Init Duration: <ms>[\\tPhase: init|invoke\\tStatus: ...\\tError Type: ...]``.

    Without ``Status`` (SnapStart's snapshot-creation init) the init succeeded.
    """
    fields = _init_fields(text)
    return make_event(
        "init_report",
        timestamp_ms=ts,
        log_stream=stream,
        duration_ms=_number(fields.get("Init Duration")),
        phase=fields.get("Phase") or None,
        status=_status(fields.get("Status")) or "success",
        error_type=fields.get("Error Type") or None,
    )


def restore_report_event(text: str, ts: Optional[int], stream: Optional[str]) -> Event:
    """``RESTORE_REPORT Restore Duration: <ms>`` (SnapStart)."""
    fields = _init_fields(text)
    return make_event(
        "restore_report",
        timestamp_ms=ts,
        log_stream=stream,
        duration_ms=_number(fields.get("Restore Duration")),
        status=_status(fields.get("Status")) or "success",
        error_type=fields.get("Error Type") or None,
    )


def extension_event(text: str, ts: Optional[int], stream: Optional[str]) -> Optional[Event]:
    """``EXTENSION\\tName: <n>\\tState: <s>\\tEvents: [INVOKE, SHUTDOWN]``."""
    match = _EXTENSION.match(text)
    if not match:
        return None
    return make_event(
        "extension",
        timestamp_ms=ts,
        log_stream=stream,
        name=match.group(1),
        state=match.group(2),
        events=_name_list(match.group(3)),
        error_type=match.group(4),
    )


def subscription_event(text: str, ts: Optional[int], stream: Optional[str]) -> Optional[Event]:
    """``TELEMETRY|LOGS\\tName: <n>\\tState: Subscribed\\tTypes: [...]`` (shape from the docs)."""
    match = _SUBSCRIPTION.match(text)
    if not match:
        return None
    return make_event(
        "subscription",
        timestamp_ms=ts,
        log_stream=stream,
        api=match.group(1).lower(),
        name=match.group(2),
        state=match.group(3),
        types=_name_list(match.group(4)),
    )


# --------------------------------------------------------------------------------------------
# Fault lines (docs/formats.md §1.8)

_TIMED_OUT = re.compile(r"Task timed out after[\t ]+(\d+(?:\.\d+)?)[\t ]*seconds")
_EXITED = re.compile(
    r"Runtime exited with error:?[\t ]*(?:signal:[\t ]*(\w+)|exit status[\t ]*(-?\d+))"
    r"|Runtime exited without providing a reason"
    r"|Process exited before completing request"
)
_ERROR_TYPE_TOKEN = re.compile(r"\b((?:Runtime|Sandbox|Extension)\.\w+)")
#: Any other platform fault: "RequestId: <id> Error: <what>", its error type ("Extension.Crash",
#: "Runtime.InvalidEntrypoint") after a space or on the next line (FORMATS §1.8; the Lambda
#: docs' troubleshooting pages show "Error: fork/exec /var/task/bootstrap: ..." and
#: "Error: exit code 0 Extension.Crash").
_PLATFORM_FAULT = re.compile(r"RequestId:[\t ]*(\S+)[\t ]+Error:[\t ]*(.*)", re.DOTALL)
_TRAILING_TYPE = re.compile(r"(?:^|[\t \n])((?:Runtime|Sandbox|Extension)\.\w+)[\t \r\n]*$")
_MANAGED_FAULT = re.compile(
    r"RequestId:[\t ]*(\S+)[\t ]+Status:[\t ]*(\w+)[\t ]+ErrorType:[\t ]*(\S+)"
)
#: Line-level out-of-memory markers; "signal: killed" is how Lambda ends a function that hit its
#: memory limit (docs/formats.md §1.8), confirmed by Max Memory Used == Memory Size on the REPORT.
_OOM_TEXT = re.compile(r"OutOfMemory|out of memory|MemoryError", re.IGNORECASE)


def timeout_event(
    text: str,
    ts: Optional[int],
    stream: Optional[str],
    request_id: Optional[str] = None,
) -> Optional[Event]:
    """``[<ts> <id> ]Task timed out after <N.NN> seconds``; the id may precede the phrase."""
    match = _TIMED_OUT.search(text)
    if not match:
        return None
    found = _id_before(text, match.start())
    return make_event(
        "timeout",
        request_id=found or request_id,
        timestamp_ms=ts,
        log_stream=stream,
        seconds=float(match.group(1)),
    )


def runtime_exit_event(
    text: str,
    ts: Optional[int],
    stream: Optional[str],
    request_id: Optional[str] = None,
) -> Optional[Event]:
    """``RequestId: <id> Error: Runtime exited with error: signal: killed`` and its relatives.

    ``Runtime.ExitError`` may follow after ``\\n`` or a space (docs/formats.md §9.5).
    """
    match = _EXITED.search(text)
    if match is None:
        return _managed_fault(text, ts, stream) or _platform_fault(text, ts, stream)
    signal, status = match.group(1), match.group(2)
    if signal is not None:
        reason = f"signal: {signal}"
    elif status is not None:
        reason = f"exit status {status}"
    else:
        reason = match.group(0)
    token = _ERROR_TYPE_TOKEN.search(text, match.end())
    return make_event(
        "runtime_exit",
        request_id=_id_before(text, match.start()) or request_id,
        timestamp_ms=ts,
        log_stream=stream,
        reason=reason,
        exit_status=int(status) if status is not None else None,
        signal=signal,
        oom=signal == "killed" or bool(_OOM_TEXT.search(text)),
        error_type=token.group(1) if token else None,
    )


def _managed_fault(text: str, ts: Optional[int], stream: Optional[str]) -> Optional[Event]:
    # Lambda Managed Instances: "RequestId: %s\tStatus: %s\tErrorType: %s" (RIE events_api.go:187).
    match = _MANAGED_FAULT.search(text)
    if not match:
        return None
    request_id, status, error_type = clean_id(match.group(1)), match.group(2), match.group(3)
    if status.lower() == "timeout":
        return make_event("timeout", request_id=request_id, timestamp_ms=ts, log_stream=stream)
    return make_event(
        "runtime_exit",
        request_id=request_id,
        timestamp_ms=ts,
        log_stream=stream,
        reason=f"status: {status}",
        oom=bool(_OOM_TEXT.search(error_type)),
        error_type=error_type,
    )


def _platform_fault(text: str, ts: Optional[int], stream: Optional[str]) -> Optional[Event]:
    match = _PLATFORM_FAULT.match(text)
    if not match:
        return None
    what = match.group(2)
    token = _TRAILING_TYPE.search(what)
    reason = (what[: token.start(1)] if token else what).strip() or None
    return make_event(
        "runtime_exit",
        request_id=clean_id(match.group(1)),
        timestamp_ms=ts,
        log_stream=stream,
        reason=reason[:300] if reason else None,
        oom=bool(_OOM_TEXT.search(what)),
        error_type=token.group(1) if token else None,
    )


def amend_exit(event: Event, text: str) -> bool:
    """Take the ``Runtime.ExitError`` line that follows a fault line in a copy."""
    match = _ERROR_TYPE_TOKEN.match(text.strip())
    if not match or event.get("error_type"):
        return False
    event["error_type"] = match.group(1)
    if _OOM_TEXT.search(text):
        event["oom"] = True
    return True


# --------------------------------------------------------------------------------------------
# Runtime error reports (docs/formats.md §2, §3)

_TRACEBACK = "Traceback (most recent call last):"
_TYPE_AND_MESSAGE = re.compile(r"([A-Za-z_][\w.]*)(?::[\t ]*(.*))?$", re.DOTALL)
#: Python before 2020: "<message>: <ErrorType>" then the traceback (docs/formats.md §2.1 legacy).
_LEGACY_PYTHON = re.compile(
    r"(?P<message>.*?):[\t ]+(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))"
    r"(?:[\t ]+Traceback \(most recent call last\):(?P<rest>.*))?[\t ]*$",
    re.DOTALL,
)
_LEGACY_ENDINGS = ("Error", "Exception", "Exit", "Interrupt")
_LEGACY_MAX_CHARS = 8192
#: The last line of a traceback, or a Node "TypeError: ..." line: "<Type>: <message>".
#: Node's Error.prototype.toString(): "<name>: <message>", the name one CamelCase word.
NODE_ERROR_NAME = re.compile(
    r"([A-Z][A-Za-z0-9]*(?:Error|Exception|Denied|Fault|NotFound|Throttling|Timeout|Expired"
    r"|Invalid\w*|Limit\w*)):[\t ]+(.*)",
    re.DOTALL,
)
#: A Node.js stack frame, indented or not (copies lose the indent).
NODE_FRAME = re.compile(r"[\t ]*at [^\s].*(?::\d+:\d+\)?|\(native\)|\(<anonymous>\))[\t ]*\Z")
ERROR_LINE = re.compile(r"([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)):[\t ](.*)")
_PLATFORM_ERROR_LINE = re.compile(r"((?:Runtime|Sandbox|Function|Extension)\.\w+):[\t ]*(.*)")
NODE_LABEL = re.compile(
    r"(Invoke Error|Uncaught Exception|Unhandled Promise Rejection)[\t ]*(.*)", re.DOTALL
)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DOC_STRING_FIELD = re.compile(r'"(errorType|errorMessage|code|message)"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _stack_lines(lines: Any) -> Optional[list[str]]:
    """A stack as a list of lines (a JSON frame may hold several); NBSP indents become spaces."""
    if isinstance(lines, str):
        lines = [lines]
    if not isinstance(lines, list):
        return None
    out: list[str] = []
    for frame in lines:
        if not isinstance(frame, str):
            continue
        for line in _LINE_BREAK.split(frame):
            line = line.replace("\u00a0", " ").rstrip()
            if line and line != _TRACEBACK:
                out.append(line)
    return out


def guess_runtime(stack: Optional[list[str]]) -> Optional[str]:
    """The language a stack trace was written by, from the shape of its frames."""
    for line in stack or ():
        if line.lstrip().startswith('File "'):
            return "python"
        if line.lstrip().startswith("at ") or ".js:" in line or ".mjs:" in line:
            return "nodejs"
        if ".java:" in line:
            return "java"
        if ".cs:line" in line:
            return "dotnet"
    return None


def error_event(
    error_type: Optional[str],
    message: Optional[str],
    stack: Optional[list[str]],
    *,
    runtime: Optional[str],
    unhandled: bool,
    request_id: Optional[str],
    ts: Optional[int],
    stream: Optional[str],
) -> Event:
    return make_event(
        "error",
        request_id=request_id,
        timestamp_ms=ts,
        log_stream=stream,
        error_type=error_type,
        message=message,
        stack=stack,
        runtime=runtime if runtime is not None else guess_runtime(stack),
        unhandled=unhandled,
    )


def _split_type(head: str) -> tuple[Optional[str], str]:
    match = _TYPE_AND_MESSAGE.match(head)
    if match:
        return match.group(1), (match.group(2) or "").strip()
    return None, head.strip()


def _collapsed_stack(rest: str) -> list[str]:
    """Frames of a traceback a copy flattened onto one line (" | " joins, or plain spaces)."""
    parts = rest.split(" | ") if " | " in rest else re.split(r"(?=\bFile \")", rest)
    return [part.strip() for part in parts if part.strip()]


def python_error_event(
    body: str,
    ts: Optional[int],
    stream: Optional[str],
    request_id: Optional[str] = None,
) -> Event:
    """The runtime's unhandled-exception report: ``[ERROR] <Type>: <message>\\r<traceback>``.

    ``body`` is the text after ``[ERROR] ``. The traceback lines are separated by ``\\r`` (or
    ``\\n`` through the framed log sink) and indented with NBSP (docs/formats.md §2.1, §9.6).
    """
    lines = _LINE_BREAK.split(body)
    head = lines[0]
    stack: Optional[list[str]] = _stack_lines(lines[1:]) if len(lines) > 1 else None
    cut = head.find(_TRACEBACK)
    if cut >= 0:
        collapsed = head[cut + len(_TRACEBACK):]
        head = head[:cut].rstrip(" \t|")
        if collapsed.strip():
            stack = (stack or []) + _collapsed_stack(collapsed)
        elif stack is None:
            stack = []
    error_type, message = _split_type(head)
    return error_event(error_type, message, stack, runtime="python", unhandled=True,
                       request_id=request_id, ts=ts, stream=stream)


_ENDS_WITH_ERROR_LINE = re.compile(r"[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt):[\t ]")


def traceback_complete(event: Event) -> bool:
    """True when a flattened traceback already ends with its ``<Type>: <message>`` line."""
    stack = event.get("stack")
    if not stack:
        return False
    return _ENDS_WITH_ERROR_LINE.search(stack[-1]) is not None


def legacy_python_error_event(
    text: str, ts: Optional[int], stream: Optional[str], request_id: Optional[str] = None
) -> Optional[Event]:
    """``<message>: <ErrorType>`` (python2.7-3.7), optionally with a flattened traceback."""
    stripped = text.rstrip()
    # The lazy pattern below backtracks per colon: a legacy error header is never this long.
    if len(stripped) > _LEGACY_MAX_CHARS or not (
            stripped.endswith(_LEGACY_ENDINGS) or _TRACEBACK in stripped):
        return None
    match = _LEGACY_PYTHON.match(stripped)
    if not match or not match.group("message").strip():
        return None
    rest = match.group("rest")
    stack = _collapsed_stack(rest) if rest and rest.strip() else None
    return error_event(match.group("type"), match.group("message").strip(), stack,
                       runtime="python", unhandled=True, request_id=request_id, ts=ts,
                       stream=stream)


def platform_error_line_event(
    text: str, ts: Optional[int], stream: Optional[str], request_id: Optional[str] = None
) -> Optional[Event]:
    """``Runtime.HandlerNotFound: <message>`` quoted without its ``[ERROR]`` prefix."""
    match = _PLATFORM_ERROR_LINE.match(text)
    if not match:
        return None
    return error_event(match.group(1), match.group(2).strip(), None, runtime=None,
                       unhandled=True, request_id=request_id, ts=ts, stream=stream)


#: Node.js 0.10 (2015): "Failure while running task: TypeError: <message>", then its stack.
NODE_LEGACY_FAILURE = "Failure while running task: "


def node_legacy_error_event(
    text: str, ts: Optional[int], stream: Optional[str], request_id: Optional[str] = None
) -> Optional[Event]:
    """The Node.js 0.10 runtime's report of an uncaught exception (its process then exits)."""
    match = ERROR_LINE.match(text[len(NODE_LEGACY_FAILURE):].strip())
    if match is None:
        return None
    return error_event(match.group(1), match.group(2).strip(), None, runtime="nodejs",
                       unhandled=True, request_id=request_id, ts=ts, stream=stream)


_GO_PANIC = re.compile(r"(panic|fatal error): (.*)", re.DOTALL)
_JAVA_UNCAUGHT = re.compile(r'Exception in thread "[^"]*" ([\w.$]+)(?::[\t ]*(.*))?', re.DOTALL)


def crash_line_event(
    text: str, ts: Optional[int], stream: Optional[str], request_id: Optional[str] = None
) -> Optional[Event]:
    """A Go ``panic:`` / ``fatal error:`` or a Java ``Exception in thread "main" X: msg`` line."""
    match = _GO_PANIC.match(text)
    if match is not None:
        return error_event(match.group(1), match.group(2).strip(), None, runtime="go",
                           unhandled=True, request_id=request_id, ts=ts, stream=stream)
    match = _JAVA_UNCAUGHT.match(text)
    if match is not None:
        return error_event(match.group(1), (match.group(2) or "").strip(), None,
                           runtime="java", unhandled=True, request_id=request_id, ts=ts,
                           stream=stream)
    return None


def legacy_init_error_event(
    text: str, ts: Optional[int], stream: Optional[str]
) -> Optional[Event]:
    """Pre-2019 init failures: ``module initialization error: ...``, ``Unable to import module``."""
    for phrase in ("module initialization error", "Unable to import module"):
        at = text.find(phrase)
        if at >= 0:
            return error_event(None, text[at:].strip(), None, runtime=None, unhandled=True,
                               request_id=None, ts=ts, stream=stream)
    return None


def _doc_fields(doc: dict[str, Any]) -> tuple[Optional[str], Optional[str], Optional[list[str]]]:
    # errorType/errorMessage/stackTrace: the runtimes; stack/trace: Node's error objects;
    # exception_name/exception: Powertools' Logger (a formatted traceback in one string).
    error_type = doc.get("errorType", doc.get("exception_name"))
    message = doc.get("errorMessage")
    if message is None and isinstance(doc.get("message"), str):
        message = doc["message"]
    stack = doc.get("stackTrace")
    if stack is None:
        stack = doc.get("stack", doc.get("trace", doc.get("exception")))
    return (
        error_type if isinstance(error_type, str) else None,
        message if isinstance(message, str) else None,
        _stack_lines(stack) if stack is not None else None,
    )


def salvage_doc_fields(text: str) -> dict[str, str]:
    """String fields of an error document that was cut short or never closed."""
    fields: dict[str, str] = {}
    for key, raw in _DOC_STRING_FIELD.findall(text):
        if key not in fields:
            decoded = decode_object(f'"{raw}"')
            fields[key] = decoded if isinstance(decoded, str) else raw
    return fields


def node_error_event(
    label: str,
    rest: str,
    request_id: Optional[str],
    ts: Optional[int],
    stream: Optional[str],
) -> Event:
    """Node's ``Invoke Error`` / ``Uncaught Exception`` / ``Unhandled Promise Rejection`` report.

    The JSON after the label may be cut short, or, in console copies, follow on the next lines
    (then the event has ``message == label`` until ``amend_error_from_doc`` fills it in). A
    ``requestId`` inside that JSON is the AWS SDK's, never the Lambda request id
    (docs/formats.md §2.2).
    """
    rest = rest.strip()
    error_type: Optional[str] = None
    message: Optional[str] = label
    stack: Optional[list[str]] = None
    if rest.startswith("{"):
        doc = decode_object(rest)
        if isinstance(doc, dict):
            error_type, found, stack = _doc_fields(doc)
            message = found if found is not None else message
        else:
            fields = salvage_doc_fields(rest)
            error_type = fields.get("errorType")
            message = fields.get("errorMessage", fields.get("message", message))
    return error_event(error_type, message, stack, runtime="nodejs", unhandled=True,
                       request_id=request_id, ts=ts, stream=stream)


def amend_error_from_doc(event: Event, doc: Any, text: str) -> None:
    """Complete an error event from the JSON document that followed it (decoded, or salvaged)."""
    if isinstance(doc, dict):
        error_type, message, stack = _doc_fields(doc)
    else:
        fields = salvage_doc_fields(text)
        error_type = fields.get("errorType")
        message = fields.get("errorMessage", fields.get("message"))
        stack = None
    if error_type:
        event["error_type"] = error_type
    if message is not None:
        event["message"] = message
    if stack:
        event["stack"] = stack


def logged_error_event(
    message: str,
    *,
    runtime: Optional[str],
    request_id: Optional[str],
    ts: Optional[int],
    stream: Optional[str],
) -> Event:
    """An ERROR-level line written by the function's logger (not an unhandled exception).

    A logged traceback (``logger.exception``) arrives in the same event after ``\\r``/``\\n``; its
    last line names the exception type.
    """
    lines = _LINE_BREAK.split(message)
    error_type: Optional[str] = None
    stack: Optional[list[str]] = None
    if len(lines) > 1:
        stack = _stack_lines(lines[1:])
        last = ERROR_LINE.match(lines[-1].strip()) if lines[-1].strip() else None
        if last is None and stack:
            last = ERROR_LINE.match(stack[-1].strip())
        if last:
            error_type = last.group(1)
    first = lines[0].strip()
    if error_type is None and runtime == "nodejs":
        # console.error(err) prints err.toString(), "<name>: <message>": an AWS SDK error's name
        # is its code ("AccessDenied"), which ends in neither Error nor Exception.
        named = NODE_ERROR_NAME.match(first)
        if named is not None:
            error_type, first = named.group(1), named.group(2).strip()
    return error_event(error_type, first, stack, runtime=runtime, unhandled=False,
                       request_id=request_id, ts=ts, stream=stream)


# --------------------------------------------------------------------------------------------
# AccessDenied, from any service, in any of its shapes

_AD_CALL = re.compile(
    r"An error occurred \(([^)]*)\) when calling the (\w+) operation"
    r"(?: \(reached max retries: \d+\))?"
)
_AD_API_ERROR = re.compile(r"api error (\w+):")  # AWS SDK for Go v2
_AD_CODE = re.compile(r"([A-Za-z.]*AccessDenied(?:Exception)?)")
_AD_PRINCIPAL = re.compile(
    r"User(?::|[\t ]+with accountId:)[\t ]*(\S+?)[\t ]+is not authorized to perform"
)
_AD_ACTION = re.compile(r"not authorized to perform:?[\t ]*([\w.-]+:[\w*.-]+)")
_AD_POLICY_ACTION = re.compile(r"allows the ([\w.-]+:[\w*.-]+) action")
_AD_RESOURCE = re.compile(r"on resource:?[\t ]*\"?([^\s\"]+)")
_AD_STARTS = ("An error occurred (", "User: ", "User with accountId", "Access Denied")
_TRAILING_JUNK = " \t\",.;'"


def has_access_denied(text: str) -> bool:
    """Cheap test for text worth handing to ``access_denied_event``."""
    return "AccessDenied" in text or "not authorized to perform" in text or "Access Denied" in text


def access_denied_event(
    text: str,
    request_id: Optional[str],
    ts: Optional[int],
    stream: Optional[str],
    code: Optional[str] = None,
) -> Optional[Event]:
    """An ``access_denied`` event from an AWS error message, or None when it is not one.

    Recognised: botocore's ``An error occurred (<Code>) when calling the <Op> operation: ...``,
    IAM's ``User: <arn> is not authorized to perform: <action> on resource: <arn> because ...``,
    S3's ``Access Denied``, the JS SDK's ``AccessDenied: User: ...`` and the Go SDK's ``api error
    <Code>: ...``. ``action`` is the IAM action only when the message names one (S3's bare
    "Access Denied" names none, and ``PutObject`` alone is not an IAM action: its service is not in
    the message); the API operation is kept in ``operation``. ``code`` is a hint from a
    surrounding JSON error document.
    """
    text = _LINE_BREAK.split(text, 1)[0] if ("\r" in text or "\n" in text) else text
    call = _AD_CALL.search(text)
    principal = _AD_PRINCIPAL.search(text)
    action = _AD_ACTION.search(text)
    if call is None and principal is None and action is None and "AccessDenied" not in text \
            and "Access Denied" not in text and not (code and "AccessDenied" in code):
        return None
    operation = call.group(2) if call else None
    if call and call.group(1):
        code = call.group(1)
    elif code is None or "Denied" not in code:
        api = _AD_API_ERROR.search(text)
        token = _AD_CODE.search(text)
        code = api.group(1) if api else (token.group(1) if token else code)
    iam_action = action.group(1) if action else None
    if iam_action is None:
        policy = _AD_POLICY_ACTION.search(text)
        iam_action = policy.group(1) if policy else None
    resource = _AD_RESOURCE.search(text)
    starts = [at for at in (text.find(s) for s in _AD_STARTS) if at >= 0]
    message_start = min(starts) if starts else 0
    return make_event(
        "access_denied",
        request_id=request_id,
        timestamp_ms=ts,
        log_stream=stream,
        code=code or None,
        principal=principal.group(1) if principal else None,
        action=iam_action,
        resource=resource.group(1).rstrip(_TRAILING_JUNK) if resource else None,
        message=text[message_start:].strip().rstrip(_TRAILING_JUNK) or None,
        operation=operation,
    )


# --------------------------------------------------------------------------------------------
# JSON log format: platform records (docs/formats.md §4-5) and application records (§3)


def _metrics(record: dict[str, Any]) -> dict[str, Any]:
    metrics = record.get("metrics")
    return metrics if isinstance(metrics, dict) else {}


def _trace_root(record: dict[str, Any]) -> Optional[str]:
    tracing = record.get("tracing")
    value = tracing.get("value") if isinstance(tracing, dict) else None
    if not isinstance(value, str):
        return None
    for part in value.split(";"):
        if part.startswith("Root="):
            return part[5:]
    return None


def _str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None


def _mb(value: Any) -> Optional[int]:
    """Bytes to MB (``instanceMaxMemory`` is in bytes, docs/formats.md §9.11)."""
    number = _number(value)
    return int(number // (1024 * 1024)) if number is not None else None


def platform_json_events(
    obj: dict[str, Any], ts: Optional[int], stream: Optional[str]
) -> Optional[list[Event]]:
    """The event for a ``{"time", "type": "platform.<x>", "record"}`` object; None if unknown."""
    kind = obj["type"][9:]
    record = obj.get("record")
    if not isinstance(record, dict):
        record = {}
    request_id = _str(record.get("requestId"))
    # start and report, most of a JSON-format log, are built directly: make_event's keyword
    # handling costs more than the rest (same keys, same order).
    if kind == "start":
        version = record.get("version")
        return [{"type": "start", "request_id": request_id, "timestamp_ms": ts,
                 "log_stream": stream, "version": version if isinstance(version, str) else None}]
    metrics = _metrics(record)
    if kind == "report":
        get = metrics.get
        return [{
            "type": "report",
            "request_id": request_id,
            "timestamp_ms": ts,
            "log_stream": stream,
            "duration_ms": _number(get("durationMs")),
            "billed_duration_ms": _whole(get("billedDurationMs")),
            "memory_size_mb": _whole(get("memorySizeMB")),
            "max_memory_used_mb": _whole(get("maxMemoryUsedMB")),
            "init_duration_ms": _number(get("initDurationMs")),
            "restore_duration_ms": _number(get("restoreDurationMs")),
            "status": _status(record.get("status")) or "success",
            "error_type": _str(record.get("errorType")),
            "xray_trace_id": _trace_root(record),
            "billed_restore_duration_ms": _whole(get("billedRestoreDurationMs")),
            "xray_segment_id": None,
        }]
    common: dict[str, Any] = {"request_id": request_id, "timestamp_ms": ts, "log_stream": stream}
    if kind == "initStart":
        return [make_event(
            "init_start",
            runtime_version=_str(record.get("runtimeVersion")),
            runtime_version_arn=_str(record.get("runtimeVersionArn")),
            init_type=_str(record.get("initializationType")),
            instance_id=_str(record.get("instanceId")),
            memory_size_mb=_mb(record.get("instanceMaxMemory")),
            **common,
        )]
    if kind == "initReport":
        return [make_event(
            "init_report",
            duration_ms=_number(metrics.get("durationMs")),
            phase=_str(record.get("phase")),
            status=_status(record.get("status")),
            error_type=_str(record.get("errorType")),
            init_type=_str(record.get("initializationType")),
            **common,
        )]
    if kind in ("runtimeDone", "initRuntimeDone", "restoreRuntimeDone"):
        default_phase = {"runtimeDone": "invoke", "initRuntimeDone": "init"}.get(kind, "restore")
        return [make_event(
            "runtime_done",
            phase=_str(record.get("phase")) or default_phase,
            status=_status(record.get("status")),
            error_type=_str(record.get("errorType")),
            duration_ms=_number(metrics.get("durationMs")),
            produced_bytes=_whole(metrics.get("producedBytes")),
            **common,
        )]
    if kind == "restoreStart":
        return [make_event(
            "restore_start",
            runtime_version=_str(record.get("runtimeVersion")),
            runtime_version_arn=_str(record.get("runtimeVersionArn")),
            **common,
        )]
    if kind == "restoreReport":
        return [make_event(
            "restore_report",
            duration_ms=_number(metrics.get("durationMs")),
            status=_status(record.get("status")),
            error_type=_str(record.get("errorType")),
            **common,
        )]
    if kind == "extension":
        events = record.get("events")
        return [make_event(
            "extension",
            name=_str(record.get("name")),
            state=_str(record.get("state")),
            events=[e for e in events if isinstance(e, str)] if isinstance(events, list) else [],
            error_type=_str(record.get("errorType")),
            **common,
        )]
    if kind in ("telemetrySubscription", "logsSubscription"):
        types = record.get("types")
        return [make_event(
            "subscription",
            api="telemetry" if kind == "telemetrySubscription" else "logs",
            name=_str(record.get("name")),
            state=_str(record.get("state")),
            types=[t for t in types if isinstance(t, str)] if isinstance(types, list) else [],
            **common,
        )]
    if kind == "logsDropped":
        return [make_event(
            "logs_dropped",
            reason=_str(record.get("reason")),
            dropped_records=_whole(record.get("droppedRecords")),
            dropped_bytes=_whole(record.get("droppedBytes")),
            **common,
        )]
    return None


#: Where JSON application records keep the Lambda request id (runtimes, Powertools, our records).
_APP_REQUEST_ID_KEYS = ("requestId", "function_request_id", "request_id", "AWSRequestId")
_ERROR_LEVELS = frozenset(("ERROR", "CRITICAL", "FATAL"))


def _embedded(message: Any) -> Optional[dict[str, Any]]:
    """A JSON object carried in a log record's ``message`` (Node logs JSON-in-a-string, §9.8)."""
    if isinstance(message, dict):
        return message
    if isinstance(message, str) and message[:1] == "{" and message.rstrip()[-1:] == "}":
        inner = decode_object(message)
        return inner if isinstance(inner, dict) else None
    return None


def app_json_events(
    obj: dict[str, Any],
    ts: Optional[int],
    stream: Optional[str],
    request_id: Optional[str] = None,
) -> list[Event]:
    """Events in a JSON app record: our records or EMF in ``message``, errors, AccessDenied.

    Python's unhandled-exception record uses ``log_level`` (not ``level``, docs/formats.md §3); a
    record with ``errorType`` is an exception; an ERROR-level record without one is a logged error.
    A top-level ``requestId`` is trusted only on a runtime-written record: on a bare error object
    (Node's ``Invoke Error`` payload) it is the AWS SDK's id.
    """
    runtime_written = "level" in obj or "log_level" in obj or "stackTrace" in obj
    if runtime_written:
        for key in _APP_REQUEST_ID_KEYS:
            value = obj.get(key)
            if isinstance(value, str) and value:
                request_id = value
                break
    message = obj.get("message")
    inner = _embedded(message)
    if inner is not None:
        if is_our_record(inner):
            return [record_event(inner, ts, stream, request_id)]
        if is_emf(inner):
            return [emf_event(inner, ts if ts is not None else emf_timestamp(inner), stream,
                              request_id)]
        message = inner.get("message", inner.get("msg", message))
    level = obj.get("level", obj.get("log_level"))
    level = level.upper() if isinstance(level, str) else None
    has_exception = "errorType" in obj or "errorMessage" in obj or "exception_name" in obj
    events: list[Event] = []
    if has_exception or level in _ERROR_LEVELS:
        error_type, error_message, stack = _doc_fields(obj)
        if not isinstance(obj.get("errorMessage"), str):
            error_message = message if isinstance(message, str) else error_message
        if error_type is None and inner is not None and isinstance(inner.get("errorType"), str):
            error_type = inner["errorType"]
        label = NODE_LABEL.match(message) if isinstance(message, str) else None
        runtime = None
        if "log_level" in obj or "logger" in obj or "location" in obj or "exception" in obj:
            runtime = "python"
        elif label is not None:
            runtime = "nodejs"
        unhandled = "log_level" in obj or label is not None or (has_exception and level is None)
        events.append(error_event(error_type, error_message, stack, runtime=runtime,
                                  unhandled=unhandled, request_id=request_id, ts=ts,
                                  stream=stream))
    text = obj.get("errorMessage")
    if not isinstance(text, str):
        text = message if isinstance(message, str) else None
    if text and has_access_denied(text):
        code = obj.get("code") if isinstance(obj.get("code"), str) else obj.get("errorType")
        denied = access_denied_event(text, request_id, ts, stream,
                                     code=code if isinstance(code, str) else None)
        if denied is not None:
            events.append(denied)
    return events
