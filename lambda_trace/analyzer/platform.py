"""Lambda's own lines, in the Text and the JSON log format, turned into normalised events.

The builders live in ``lambda_trace.analyzer.lines``, one module per family of lines: platform
text lines (START/END/REPORT, INIT_*, RESTORE_*, EXTENSION/TELEMETRY/LOGS), the ``platform.*``
JSON records, fault lines (``Task timed out``, ``Runtime exited ...``), the runtimes' error
reports by language, AccessDenied messages of any AWS service, and JSON application records.
This module is the one name the parser (and the tests) use for all of them. Each builder gets
one line with the wrapper prefixes already removed (see ``parse.py``). Rules and sources:
docs/formats.md.
"""

from __future__ import annotations

from lambda_trace.analyzer.lines.access_denied import access_denied_event, has_access_denied
from lambda_trace.analyzer.lines.app_json import app_json_events
from lambda_trace.analyzer.lines.errors import (
    ERROR_LINE,
    NODE_ERROR_NAME,
    NODE_FRAME,
    NODE_LABEL,
    NODE_LEGACY_FAILURE,
    amend_error_from_doc,
    crash_line_event,
    error_event,
    guess_runtime,
    legacy_init_error_event,
    legacy_python_error_event,
    logged_error_event,
    node_error_event,
    node_legacy_error_event,
    platform_error_line_event,
    python_error_event,
    salvage_doc_fields,
    traceback_complete,
)
from lambda_trace.analyzer.lines.faults import amend_exit, runtime_exit_event, timeout_event
from lambda_trace.analyzer.lines.ids import REQUEST_ID, clean_id
from lambda_trace.analyzer.lines.platform_json import platform_json_events
from lambda_trace.analyzer.lines.platform_text import (
    REPORT_CONTINUATION,
    amend_report,
    end_event,
    extension_event,
    init_report_event,
    report_event,
    restore_report_event,
    runtime_start_event,
    start_event,
    subscription_event,
)

__all__ = [
    "ERROR_LINE", "NODE_ERROR_NAME", "NODE_FRAME", "NODE_LABEL", "NODE_LEGACY_FAILURE",
    "REPORT_CONTINUATION", "REQUEST_ID", "access_denied_event", "amend_error_from_doc",
    "amend_exit", "amend_report", "app_json_events", "clean_id", "crash_line_event",
    "end_event", "error_event", "extension_event", "guess_runtime", "has_access_denied",
    "init_report_event", "legacy_init_error_event", "legacy_python_error_event",
    "logged_error_event", "node_error_event", "node_legacy_error_event",
    "platform_error_line_event", "platform_json_events", "python_error_event", "report_event",
    "restore_report_event", "runtime_exit_event", "runtime_start_event", "salvage_doc_fields",
    "start_event", "subscription_event", "timeout_event", "traceback_complete",
]
