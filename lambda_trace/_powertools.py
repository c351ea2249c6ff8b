"""The keys that let our records and Powertools Logger's lines be read as one voice.

``xray_trace_id`` is the ``Root`` of ``_X_AMZN_TRACE_ID``, the key and value Powertools Logger
writes (https://docs.powertools.aws.dev/lambda/python/latest/core/logger/#standard-structured-keys);
``correlation_id`` is the one its Logger holds (``Logger.set_correlation_id``,
``inject_lambda_context(correlation_id_path=...)``). Powertools is never imported here: when its
logging module is not loaded, no Logger exists and there is nothing to read.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Optional

#: Lambda's environment variable with the invocation's X-Ray trace header.
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
TRACE_ENV = "_X_AMZN_TRACE_ID"

#: The attribute Powertools Logger sets on the stdlib logger it configures.
_HANDLER_ATTR = "powertools_handler"
#: Powertools' service when ``POWERTOOLS_SERVICE_NAME`` is not set.
_UNDEFINED_SERVICE = "service_undefined"
#: Longest id copied (a correlation id comes from the event: the caller controls it).
MAX_ID_CHARS = 256

#: (size of the logging manager's table when scanned, the Powertools loggers found then)
_found: list[Any] = [-1, []]


def xray_trace_id(header: Optional[str] = None) -> Optional[str]:
    """``1-5759e988-bd862e3fe1be46a994272793`` from ``Root=1-...;Parent=...;Sampled=1``."""
    if header is None:
        header = os.environ.get(TRACE_ENV)
    if not header:
        return None
    global _last_trace
    last = _last_trace  # one read of a tuple replaced whole: a matching pair in any thread
    if header == last[0]:  # the runtime sets a new header per invocation: parsed once each
        return last[1]
    found = _root(header)
    _last_trace = (header, found)
    return found


#: (the last trace header parsed, its Root)
_last_trace: tuple[Optional[str], Optional[str]] = (None, None)


def _root(header: str) -> Optional[str]:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == "Root" and value:
            return value[:MAX_ID_CHARS]
    return None


def correlation_id(service: Optional[str]) -> Optional[str]:
    """The correlation id of the function's Powertools Logger, or None (none, or no Logger)."""
    if "aws_lambda_powertools.logging.logger" not in sys.modules:
        return None
    import logging  # loaded already: Powertools Logger is built on it

    names = [service, os.environ.get("POWERTOOLS_SERVICE_NAME"), _UNDEFINED_SERVICE]
    table = logging.Logger.manager.loggerDict
    for name in names:
        if name and name in table:
            found = _read(table[name])
            if found is not None:
                return found
    # A Logger(service="...") named otherwise: look once per change of the logging table.
    if _found[0] != len(table):
        _found[0] = len(table)
        _found[1] = [lg for lg in list(table.values()) if getattr(lg, _HANDLER_ATTR, None)]
    for lg in _found[1]:
        found = _read(lg)
        if found is not None:
            return found
    return None


def _read(logger: Any) -> Optional[str]:
    handler = getattr(logger, _HANDLER_ATTR, None)
    log_format = getattr(getattr(handler, "formatter", None), "log_format", None)
    if not isinstance(log_format, dict):
        return None
    value = log_format.get("correlation_id")
    if value is None:
        return None
    return (value if isinstance(value, str) else str(value))[:MAX_ID_CHARS]
