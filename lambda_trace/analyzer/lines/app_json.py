"""JSON application records (docs/formats.md §3): our records or EMF carried in ``message``,
errors, AccessDenied."""

from __future__ import annotations

from typing import Any, Optional

from lambda_trace.analyzer.lines.access_denied import access_denied_event, has_access_denied
from lambda_trace.analyzer.lines.errors import NODE_LABEL, doc_fields, error_event
from lambda_trace.analyzer.model import Event
from lambda_trace.analyzer.records import (
    decode_object,
    emf_event,
    emf_timestamp,
    is_emf,
    is_our_record,
    record_event,
)

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
        error_type, error_message, stack = doc_fields(obj)
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
