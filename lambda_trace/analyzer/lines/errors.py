"""The runtimes' error reports, by language: Python ``[ERROR]`` and tracebacks, Node.js
``Invoke Error`` and stack frames, Go panics, Java's uncaught exceptions, the JSON error
documents (docs/formats.md §2, §3)."""

from __future__ import annotations

import re
from typing import Any, Optional

from lambda_trace.analyzer.lines.ids import LINE_BREAK
from lambda_trace.analyzer.model import Event, make_event
from lambda_trace.analyzer.records import decode_object

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
        for line in LINE_BREAK.split(frame):
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
    lines = LINE_BREAK.split(body)
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


def doc_fields(doc: dict[str, Any]) -> tuple[Optional[str], Optional[str], Optional[list[str]]]:
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
            error_type, found, stack = doc_fields(doc)
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
        error_type, message, stack = doc_fields(doc)
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
    lines = LINE_BREAK.split(message)
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
