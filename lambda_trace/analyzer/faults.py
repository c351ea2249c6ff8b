"""What ended an invocation when it was not the function's own code: the platform, an extension,
a failed dependency, or a returned 5xx. The aggregate counts these; ``causes`` reports them.

Lambda names its own failures by error type (Lambda API reference, Invoke "Errors";
https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html):
``Runtime.ImportModuleError`` / ``Runtime.HandlerNotFound`` / ``Runtime.UserCodeSyntaxError`` /
``Runtime.InvalidEntrypoint`` mean the handler could not even be loaded (the init failed),
``Extension.*`` that an extension failed to launch, crashed or timed out, and
``Runtime.ExitError`` that the runtime process died.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

from lambda_trace.analyzer.model import Event
from lambda_trace.analyzer.numbers import json_number

#: error types that say the function never got as far as running the handler
INIT_ERROR_TYPES = frozenset({
    "Runtime.ImportModuleError",
    "Runtime.HandlerNotFound",
    "Runtime.UserCodeSyntaxError",
    "Runtime.InvalidEntrypoint",
    "Runtime.InvalidRuntime",
    "Runtime.MalformedHandlerName",
})

EXTENSION, INIT, CRASH = "extension", "init", "crash"

#: error classes of a call record that are the dependency's failure, not the caller's bug
DEPENDENCY_CLASSES = frozenset({"server", "throttled", "network", "timeout", "not_found"})

#: exception types client libraries raise for a failed request (requests, urllib3, httpx,
#: botocore, aiohttp); an unhandled one right after a failed call is that call's failure
CLIENT_EXCEPTIONS = frozenset({
    "HTTPError", "ConnectionError", "ConnectTimeout", "ReadTimeout", "Timeout",
    "ConnectTimeoutError", "ReadTimeoutError", "MaxRetryError", "ProtocolError",
    "HTTPStatusError", "ConnectError", "TimeoutException", "ClientError",
    "EndpointConnectionError", "ConnectionClosedError", "ClientResponseError",
    "ServerDisconnectedError", "ClientConnectorError", "NoSuchKey", "ResourceNotFoundException",
    "ThrottlingException", "ProvisionedThroughputExceededException", "TooManyRequestsException",
    "ServiceUnavailable", "SlowDown", "RequestTimeout",
})

_HOST = re.compile(r"https?://([^/\s:'\"]+)")


def category(error_type: Any) -> Optional[str]:
    """``extension`` or ``init`` for the platform's own error types, else None."""
    if not isinstance(error_type, str) or not error_type:
        return None
    if error_type.startswith("Extension."):
        return EXTENSION
    if error_type in INIT_ERROR_TYPES:
        return INIT
    return None


@dataclass
class FaultStats:
    """One platform failure (a category and an error type), across invocations and inits."""

    category: str
    error_type: Optional[str]
    invocations: int = 0
    #: INIT_REPORT lines that reported it (Lambda retries a failed init in the invoke phase)
    init_reports: int = 0
    phases: set[str] = field(default_factory=set)
    example_request_id: Optional[str] = None
    reason: Optional[str] = None
    extensions: set[str] = field(default_factory=set)


def invocation_fault(inv: Any, oom: bool) -> Optional[tuple[str, Optional[str], Optional[str]]]:
    """``(category, error type, reason)`` when the platform says why the invocation failed.

    A process exit is a crash of its own only when nothing else explains it: not an
    out-of-memory kill, and no unhandled exception of the code's (that is the cause).
    """
    exit_ = inv.runtime_exit
    report = inv.report
    candidates = []
    if exit_ is not None:
        candidates.append(exit_.get("error_type"))
    if report is not None:
        candidates.append(report.get("error_type"))
    candidates.extend(e.get("error_type") for e in inv.errors)
    reason = exit_.get("reason") if exit_ is not None else None
    for error_type in candidates:
        found = category(error_type)
        if found is not None:
            return found, error_type, reason
    if oom or any(e.get("unhandled") and e.get("error_type") for e in inv.errors):
        return None
    if exit_ is not None:
        return CRASH, exit_.get("error_type"), reason
    if report is not None and report.get("error_type") == "Runtime.ExitError":
        return CRASH, "Runtime.ExitError", None
    return None


def dependency_failure(inv: Any, error: Event) -> Optional[tuple[str, str]]:
    """``(call name, error class)`` when the unhandled ``error`` is a failed call's failure.

    The call failed with a class that is the dependency's (5xx, throttling, network, timeout, not
    found) and the exception is that failure: it names the call's host or operation or status,
    or it is what a client library raises for a failed request, and no later call succeeded.
    """
    failed = None
    for call in inv.calls:
        status, error_class = call.status, call.error_class
        if status == "error" and error_class in DEPENDENCY_CLASSES:
            failed = call
        elif failed is not None and status == "ok":
            start, failed_start = json_number(call.start_ms), json_number(failed.start_ms)
            if start is not None and failed_start is not None and start > failed_start:
                failed = None  # the code went on after it: recovered
    if failed is None:
        return None
    name = str(failed.name or "")
    error_type = str(error.get("error_type") or "")
    short_type = error_type.rsplit(".", 1)[-1]
    text = f"{error_type} {error.get('message') or ''}"
    if short_type in CLIENT_EXCEPTIONS or _names_call(text, name):
        return name, str(failed.error_class)
    return None


def _names_call(text: str, name: str) -> bool:
    """The error text mentions the call: its host, or its operation (``s3.GetObject``)."""
    for host in _HOST.findall(text):
        if host and host in name:
            return True
    operation = name.replace(" ", ".").rsplit(".", 1)[-1]
    return len(operation) > 3 and f"the {operation} operation" in text


def returned_5xx(record: Optional[Event]) -> Optional[int]:
    """The ``statusCode`` >= 500 the handler returned (our invocation record), else None."""
    if record is None:
        return None
    code = record.get("status_code")
    if isinstance(code, int) and not isinstance(code, bool) and 500 <= code <= 599:
        return code
    return None

