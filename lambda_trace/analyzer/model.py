"""The two data shapes the analyzer's stages pass along.

sources  ──LogEvent──▶  parse  ──Event (a dict)──▶  join / aggregate  ──▶  findings ──▶ render

* ``LogEvent`` is one CloudWatch log event as read from any source (file, stdin, the CloudWatch API,
  an envelope), after the envelope has been taken off. It lives in ``lambda_trace.logevent``,
  below the analyzer and the local runner, which writes the same shape.
* An ``Event`` is one recognised thing in a log event, normalised to a plain dict so that
  ``lambda-trace events`` can print it as it is. Every event has the keys in ``COMMON_KEYS``;
  the rest depend on ``type`` (see ``EVENT_KEYS``; the README documents them).
"""

from __future__ import annotations

from typing import Any, Optional

from lambda_trace.logevent import LogEvent

__all__ = ["COMMON_KEYS", "EVENT_KEYS", "Event", "LogEvent", "make_event"]

Event = dict[str, Any]

#: Keys on every normalised event. ``timestamp_ms`` comes from the envelope or, failing that, from
#: the line itself; ``request_id`` is None when the line carries none (the join attributes it).
COMMON_KEYS = ("type", "request_id", "timestamp_ms", "log_stream")

#: type -> the type-specific keys (absent values are None).
EVENT_KEYS: dict[str, tuple[str, ...]] = {
    "start": ("version",),
    "end": (),
    "report": (
        "duration_ms",
        "billed_duration_ms",
        "memory_size_mb",
        "max_memory_used_mb",
        "init_duration_ms",
        "restore_duration_ms",
        "status",  # "success" | "timeout" | "error"
        "error_type",
        "xray_trace_id",
        "billed_restore_duration_ms",  # SnapStart
        "xray_segment_id",
    ),
    # instance_id / memory_size_mb: JSON platform.initStart only (instanceMaxMemory is in bytes)
    "init_start": ("runtime_version", "runtime_version_arn", "init_type", "instance_id",
                   "memory_size_mb"),
    "init_report": ("duration_ms", "phase", "status", "error_type", "init_type"),
    "timeout": ("seconds",),
    "runtime_exit": ("reason", "exit_status", "signal", "oom", "error_type"),
    # unhandled: written by the runtime for an exception the handler did not catch (else logged)
    "error": ("error_type", "message", "stack", "runtime", "unhandled"),
    # operation: the API operation called ("GetObject"); action falls back to it
    "access_denied": ("code", "principal", "action", "resource", "message", "operation"),
    # truncated: salvaged from a document cut short (only complete names survive)
    "emf": ("namespace", "metrics", "dimensions", "values", "dimension_sets", "truncated"),
    # SnapStart and the other platform lines / JSON platform records (docs/formats.md §1.6-1.7, §5)
    "restore_start": ("runtime_version", "runtime_version_arn"),
    "restore_report": ("duration_ms", "status", "error_type"),
    "extension": ("name", "state", "events", "error_type"),
    "subscription": ("api", "name", "state", "types"),  # api: "telemetry" | "logs"
    "runtime_done": ("phase", "status", "error_type", "duration_ms", "produced_bytes"),
    "logs_dropped": ("reason", "dropped_records", "dropped_bytes"),
    # Our own records (lambda_trace.schema): the record's own keys are kept as they are.
    "call": (),
    "invocation": (),
    "timeout_warning": (),
    "memory_warning": (),
}


def make_event(
    type_: str,
    *,
    request_id: Optional[str] = None,
    timestamp_ms: Optional[int] = None,
    log_stream: Optional[str] = None,
    **fields: Any,
) -> Event:
    """Build a normalised event with the common keys first and the type's keys defaulted."""
    event: Event = {
        "type": type_,
        "request_id": request_id,
        "timestamp_ms": timestamp_ms,
        "log_stream": log_stream,
    }
    for key in EVENT_KEYS.get(type_, ()):
        event[key] = fields.pop(key, None)
    event.update(fields)
    return event
