"""Lambda's fault lines: ``Task timed out``, ``Runtime exited ...``, ``RequestId: ... Error:``
(docs/formats.md §1.8)."""

from __future__ import annotations

import re
from typing import Optional

from lambda_trace.analyzer.lines.ids import clean_id, id_before
from lambda_trace.analyzer.model import Event, make_event

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
    found = id_before(text, match.start())
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
        request_id=id_before(text, match.start()) or request_id,
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
