"""The two data shapes the analyzer's stages pass along.

sources  ──LogEvent──▶  parse  ──Event (a dict)──▶  join / aggregate  ──▶  findings ──▶ render

* ``LogEvent`` is one CloudWatch log event as read from any source (file, stdin, the CloudWatch API,
  an envelope), after the envelope has been taken off.
* An ``Event`` is one recognised thing in a log event, normalised to a plain dict so that
  ``lambda-trace events`` can print it as it is. Every event has the keys in ``COMMON_KEYS``;
  the rest depend on ``type`` (see ``EVENT_KEYS``; the README documents them).
"""

from __future__ import annotations

from typing import Any, Optional

Event = dict[str, Any]


class LogEvent:
    """One CloudWatch log event (or one line of a plain copy), envelope removed.

    A plain slotted class, not a frozen dataclass: one is built per input line, and the frozen
    dataclass's ``__init__`` cost ~2 µs, most of the reading layer's time (measured on 1.1 M lines).
    """

    __slots__ = ("log_group", "log_stream", "message", "origin", "timestamp_ms")

    def __init__(
        self,
        message: str,
        timestamp_ms: Optional[int] = None,
        log_stream: Optional[str] = None,
        log_group: Optional[str] = None,
        origin: str = "",
    ) -> None:
        self.message = message
        #: epoch milliseconds from the envelope (CloudWatch ``timestamp``), when known
        self.timestamp_ms = timestamp_ms
        self.log_stream = log_stream
        self.log_group = log_group
        #: where it came from, for error messages: an input's name or ``cloudwatch``
        self.origin = origin

    def _key(self) -> tuple[Any, ...]:
        return (self.message, self.timestamp_ms, self.log_stream, self.log_group, self.origin)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LogEvent):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"LogEvent(message={self.message!r}, timestamp_ms={self.timestamp_ms!r}, "
            f"log_stream={self.log_stream!r}, log_group={self.log_group!r}, origin={self.origin!r})"
        )


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
