"""Lambda's ``platform.*`` records in the JSON log format (docs/formats.md §4-5)."""

from __future__ import annotations

from typing import Any, Callable, Optional

from lambda_trace.analyzer.lines.ids import as_number, as_status, as_whole
from lambda_trace.analyzer.model import Event, make_event


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
    number = as_number(value)
    return int(number // (1024 * 1024)) if number is not None else None


Record = dict[str, Any]
Common = dict[str, Any]


def _start(kind: str, record: Record, metrics: Record, common: Common) -> Event:
    # start and report, most of a JSON-format log, are built directly: make_event's keyword
    # handling costs more than the rest (same keys, same order).
    version = record.get("version")
    return {**common, "version": version if isinstance(version, str) else None}


def _report(kind: str, record: Record, metrics: Record, common: Common) -> Event:
    get = metrics.get
    return {
        **common,
        "duration_ms": as_number(get("durationMs")),
        "billed_duration_ms": as_whole(get("billedDurationMs")),
        "memory_size_mb": as_whole(get("memorySizeMB")),
        "max_memory_used_mb": as_whole(get("maxMemoryUsedMB")),
        "init_duration_ms": as_number(get("initDurationMs")),
        "restore_duration_ms": as_number(get("restoreDurationMs")),
        "status": as_status(record.get("status")) or "success",
        "error_type": _str(record.get("errorType")),
        "xray_trace_id": _trace_root(record),
        "billed_restore_duration_ms": as_whole(get("billedRestoreDurationMs")),
        "xray_segment_id": None,
    }


def _init_start(kind: str, record: Record, metrics: Record, common: Common) -> Event:
    return make_event(
        "init_start",
        runtime_version=_str(record.get("runtimeVersion")),
        runtime_version_arn=_str(record.get("runtimeVersionArn")),
        init_type=_str(record.get("initializationType")),
        instance_id=_str(record.get("instanceId")),
        memory_size_mb=_mb(record.get("instanceMaxMemory")),
        **common,
    )


def _init_report(kind: str, record: Record, metrics: Record, common: Common) -> Event:
    return make_event(
        "init_report",
        duration_ms=as_number(metrics.get("durationMs")),
        phase=_str(record.get("phase")),
        status=as_status(record.get("status")),
        error_type=_str(record.get("errorType")),
        init_type=_str(record.get("initializationType")),
        **common,
    )


_DEFAULT_PHASE = {"runtimeDone": "invoke", "initRuntimeDone": "init",
                  "restoreRuntimeDone": "restore"}


def _runtime_done(kind: str, record: Record, metrics: Record, common: Common) -> Event:
    return make_event(
        "runtime_done",
        phase=_str(record.get("phase")) or _DEFAULT_PHASE[kind],
        status=as_status(record.get("status")),
        error_type=_str(record.get("errorType")),
        duration_ms=as_number(metrics.get("durationMs")),
        produced_bytes=as_whole(metrics.get("producedBytes")),
        **common,
    )


def _restore_start(kind: str, record: Record, metrics: Record, common: Common) -> Event:
    return make_event(
        "restore_start",
        runtime_version=_str(record.get("runtimeVersion")),
        runtime_version_arn=_str(record.get("runtimeVersionArn")),
        **common,
    )


def _restore_report(kind: str, record: Record, metrics: Record, common: Common) -> Event:
    return make_event(
        "restore_report",
        duration_ms=as_number(metrics.get("durationMs")),
        status=as_status(record.get("status")),
        error_type=_str(record.get("errorType")),
        **common,
    )


def _extension(kind: str, record: Record, metrics: Record, common: Common) -> Event:
    events = record.get("events")
    return make_event(
        "extension",
        name=_str(record.get("name")),
        state=_str(record.get("state")),
        events=[e for e in events if isinstance(e, str)] if isinstance(events, list) else [],
        error_type=_str(record.get("errorType")),
        **common,
    )


def _subscription(kind: str, record: Record, metrics: Record, common: Common) -> Event:
    types = record.get("types")
    return make_event(
        "subscription",
        api="telemetry" if kind == "telemetrySubscription" else "logs",
        name=_str(record.get("name")),
        state=_str(record.get("state")),
        types=[t for t in types if isinstance(t, str)] if isinstance(types, list) else [],
        **common,
    )


def _logs_dropped(kind: str, record: Record, metrics: Record, common: Common) -> Event:
    return make_event(
        "logs_dropped",
        reason=_str(record.get("reason")),
        dropped_records=as_whole(record.get("droppedRecords")),
        dropped_bytes=as_whole(record.get("droppedBytes")),
        **common,
    )


_Builder = Callable[[str, Record, Record, Common], Event]

#: ``platform.<x>`` -> (event type, builder). The Telemetry API's record types:
#: https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html
_BUILDERS: dict[str, tuple[str, _Builder]] = {
    "start": ("start", _start),
    "report": ("report", _report),
    "initStart": ("init_start", _init_start),
    "initReport": ("init_report", _init_report),
    "runtimeDone": ("runtime_done", _runtime_done),
    "initRuntimeDone": ("runtime_done", _runtime_done),
    "restoreRuntimeDone": ("runtime_done", _runtime_done),
    "restoreStart": ("restore_start", _restore_start),
    "restoreReport": ("restore_report", _restore_report),
    "extension": ("extension", _extension),
    "telemetrySubscription": ("subscription", _subscription),
    "logsSubscription": ("subscription", _subscription),
    "logsDropped": ("logs_dropped", _logs_dropped),
}


def platform_json_events(
    obj: dict[str, Any], ts: Optional[int], stream: Optional[str]
) -> Optional[list[Event]]:
    """The event for a ``{"time", "type": "platform.<x>", "record"}`` object; None if unknown."""
    kind = obj["type"][9:]
    found = _BUILDERS.get(kind)
    if found is None:
        return None
    event_type, build = found
    record = obj.get("record")
    if not isinstance(record, dict):
        record = {}
    request_id = _str(record.get("requestId"))
    if event_type == "start" or event_type == "report":
        common: Common = {"type": event_type, "request_id": request_id, "timestamp_ms": ts,
                          "log_stream": stream}
    else:
        common = {"request_id": request_id, "timestamp_ms": ts, "log_stream": stream}
    return [build(kind, record, _metrics(record), common)]
