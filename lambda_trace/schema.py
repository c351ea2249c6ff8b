"""The record contract between the runtime (writer) and the analyzer (reader).

Every record is one JSON object on one line of stdout. Readers are tolerant: unknown keys are
kept in ``extra`` and ignored, missing optional keys get their defaults, and a record whose
``lambda_trace`` version is newer than ours is still read field by field.

Version 2 (what the runtime writes; readers accept 1 and 2) differs from 1 in:

* ``call`` lines carry no ``function_name`` and no ``timestamp`` (the log group and the log
  event have them; ``start_ms`` places the call in its invocation) but the function's
  ``service``; AWS calls no longer repeat ``service``/``operation``, which the name
  ``<service>.<Operation>`` holds (``aws_service_operation``).
* ``invocation`` leaves out what holds nothing (warm starts' ``init_type``/``init_ms``, a
  success's ``error_*``, ``dropped_calls`` 0, empty ``annotations``) and adds ``service``,
  ``status_code``, ``xray_trace_id``, ``correlation_id`` and ``detail`` (why every call of the
  invocation got its line: ``error``, ``5xx``, ``slow`` or ``warning``).
* ``calls`` entries are ``{"k": kind, "n": count, "ms": total, "max": longest (left out for one
  call), "err": errors (left out when 0), "seq": longest sequential run (3+ calls), "h":
  [bucket, count, ...]}``: ``h`` is a log-bucket latency histogram with the analyzer's sketch
  buckets (``HISTOGRAM_ACCURACY``), so quantiles survive calls that got no line.

This module is stdlib only and imports nothing of ours but ``_contract`` (its constants, which
the runtime imports alone to keep its cold start small): both halves depend on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, ClassVar, Literal, Optional, Union

# Re-exported: readers import the contract's constants from here.
from lambda_trace._contract import ERROR_CLASSES as ERROR_CLASSES
from lambda_trace._contract import HISTOGRAM_ACCURACY as HISTOGRAM_ACCURACY
from lambda_trace._contract import MARKER as MARKER
from lambda_trace._contract import MAX_LINE_BYTES as MAX_LINE_BYTES
from lambda_trace._contract import SCHEMA_VERSION as SCHEMA_VERSION

RecordType = Literal["call", "invocation", "timeout_warning", "memory_warning"]
CallKind = Literal["aws", "http", "segment", "db"]
Status = Literal["ok", "error"]


def format_timestamp(epoch_seconds: float) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. ``2026-11-27T04:43:42.123Z``."""
    dt = datetime.fromtimestamp(epoch_seconds, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> Optional[float]:
    """Epoch seconds from our ISO timestamp (or any ISO 8601 with offset); None if unreadable."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (ValueError, AttributeError, TypeError):
        return None


@dataclass
class CallStats:
    """Per-name aggregate carried in ``invocation.calls`` and ``timeout_warning.calls``."""

    count: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0
    errors: int = 0
    #: v2 only: the calls' kind, longest sequential run, latency histogram (bucket -> count)
    kind: Optional[str] = None
    seq: Optional[int] = None
    hist: dict[int, int] = field(default_factory=dict)

    def to_dict(self, version: int = SCHEMA_VERSION) -> dict[str, Any]:
        if version < 2:
            return {
                "count": self.count,
                "total_ms": round(self.total_ms, 3),
                "max_ms": round(self.max_ms, 3),
                "errors": self.errors,
            }
        out: dict[str, Any] = {"k": self.kind or "", "n": self.count,
                               "ms": round(self.total_ms, 3)}
        if self.count != 1:
            out["max"] = round(self.max_ms, 3)
        if self.errors:
            out["err"] = self.errors
        if self.seq is not None:
            out["seq"] = self.seq
        out["h"] = [v for key in sorted(self.hist) for v in (key, self.hist[key])]
        return out

    @classmethod
    def from_dict(cls, data: Any) -> CallStats:
        """Either layout: v1 ``count/total_ms/max_ms/errors``, v2 ``k/n/ms/max/err/seq/h``."""
        if not isinstance(data, dict):
            return cls()
        if "n" in data and "count" not in data:
            total = _float(data.get("ms"))
            seq = data.get("seq")
            return cls(
                count=_int(data.get("n")),
                total_ms=total,
                max_ms=_float(data.get("max"), total),
                errors=_int(data.get("err")),
                kind=data["k"] if isinstance(data.get("k"), str) else None,
                seq=_int(seq, None) if seq is not None else None,
                hist=histogram_pairs(data.get("h")),
            )
        return cls(
            count=_int(data.get("count")),
            total_ms=_float(data.get("total_ms")),
            max_ms=_float(data.get("max_ms")),
            errors=_int(data.get("errors")),
        )


def histogram_pairs(value: Any) -> dict[int, int]:
    """``{bucket: count}`` of a v2 ``h`` list; pairs that are not two integers are skipped."""
    out: dict[int, int] = {}
    if not isinstance(value, list):
        return out
    for i in range(0, len(value) - 1, 2):
        key, count = value[i], value[i + 1]
        if type(key) is int and type(count) is int and count > 0:
            out[key] = out.get(key, 0) + count
    return out


def aws_service_operation(call: dict[str, Any]) -> tuple[Optional[str], Optional[str]]:
    """The AWS service and operation of a call record of either version.

    v1 lines carry them as ``service``/``operation``; in v2 ``service`` is the function's
    service and the name ``<service>.<Operation>`` holds both.
    """
    version = call.get(MARKER)
    if isinstance(version, int) and version >= 2:
        name = call.get("name")
        if call.get("kind") == "aws" and isinstance(name, str) and "." in name:
            service, _, operation = name.partition(".")
            return service, operation
        return None, call.get("operation")
    return call.get("service"), call.get("operation")


@dataclass
class InFlight:
    """A call that had started and not finished when a warning was written."""

    name: str
    kind: str
    running_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "running_ms": round(self.running_ms, 3)}

    @classmethod
    def from_dict(cls, data: Any) -> InFlight:
        data = data if isinstance(data, dict) else {}
        return cls(
            name=str(data.get("name", "")),
            kind=str(data.get("kind", "")),
            running_ms=_float(data.get("running_ms")),
        )


@dataclass
class Record:
    """Keys every record carries."""

    TYPE: ClassVar[str] = ""

    request_id: Optional[str] = None
    function_name: Optional[str] = None
    timestamp: Optional[str] = None
    version: int = SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {MARKER: self.version, "type": self.TYPE}
        for f in fields(self):
            if f.name in ("version", "extra"):
                continue
            value = getattr(self, f.name)
            if f.name == "calls" and isinstance(value, dict):
                value = {k: v.to_dict(self.version) if isinstance(v, CallStats) else v
                         for k, v in value.items()}
            elif isinstance(value, dict):
                value = {k: _plain(v) for k, v in value.items()}
            elif isinstance(value, list):
                value = [_plain(v) for v in value]
            out[f.name] = value
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out


@dataclass
class CallRecord(Record):
    """``type: "call"``: one downstream call or user segment."""

    TYPE: ClassVar[str] = "call"

    name: str = ""
    kind: str = "segment"
    start_ms: float = 0.0
    duration_ms: float = 0.0
    status: str = "ok"
    error_class: Optional[str] = None
    error_code: Optional[str] = None
    #: v1, AWS calls: botocore's service and operation names; v2: ``service`` is the function's
    #: service (as in every v2 record) and the name holds both (``aws_service_operation``).
    #: ``target``: the resource acted on (bucket, table, queue, topic, function...) taken from
    #: an allow-list of parameter names.
    service: Optional[str] = None
    operation: Optional[str] = None
    target: Optional[str] = None
    http_status: Optional[int] = None
    retries: Optional[int] = None
    aws_request_id: Optional[str] = None
    #: HTTP calls: method, host (never userinfo) and ``route``, the path as a template
    #: (``/v1/orders/{id}``: no query string, id-like segment or object key). ``path`` is
    #: no longer written; kept for older records.
    method: Optional[str] = None
    host: Optional[str] = None
    path: Optional[str] = None
    route: Optional[str] = None
    #: db calls (``kind: "db"``): ``system`` (postgresql, mysql, sqlite, redis), ``operation``
    #: (SQL verb, Redis command, CONNECT, PIPELINE), ``target`` (first table; never a Redis
    #: key), ``host``; ``command_count`` for a Redis pipeline. Never statement text or values.
    system: Optional[str] = None
    command_count: Optional[int] = None
    #: permission_denied only: the IAM action and resource parsed from the error message.
    action: Optional[str] = None
    resource: Optional[str] = None
    #: True when the message named no action (S3's "Access Denied") and ``action`` was derived
    #: from service and operation.
    action_inferred: Optional[bool] = None
    #: segments only: the enclosing segment of the same thread / asyncio task.
    parent: Optional[str] = None


@dataclass
class InvocationRecord(Record):
    """``type: "invocation"``: exactly one per invocation, written even when the handler raises."""

    TYPE: ClassVar[str] = "invocation"

    cold_start: bool = False
    init_type: Optional[str] = None
    init_ms: Optional[float] = None
    duration_ms: float = 0.0
    self_ms: float = 0.0
    remaining_ms: Optional[float] = None
    memory_limit_mb: Optional[int] = None
    memory_peak_mb: Optional[float] = None
    status: str = "ok"
    error_type: Optional[str] = None
    error_message: Optional[str] = None
    error_class: Optional[str] = None
    calls: dict[str, CallStats] = field(default_factory=dict)
    dropped_calls: int = 0
    annotations: dict[str, Any] = field(default_factory=dict)
    #: True when a timeout_warning was written during this invocation.
    timeout_warned: Optional[bool] = None
    #: v2: POWERTOOLS_SERVICE_NAME (or the service option), else the function's name.
    service: Optional[str] = None
    #: v2: the int ``statusCode`` of a dict the handler returned (nothing else of it is kept).
    status_code: Optional[int] = None
    #: v2: the ``Root`` of ``_X_AMZN_TRACE_ID`` and Powertools Logger's correlation id, the keys
    #: Powertools Logger writes, so both tools' lines join on them.
    xray_trace_id: Optional[str] = None
    correlation_id: Optional[str] = None
    #: v2: why every call got its line (``error``, ``5xx``, ``slow``, ``warning``); None: only
    #: slow and failed calls did (mode ``slow``) or the mode decided alone.
    detail: Optional[str] = None
    #: a record over CloudWatch's 256 KB event limit: how many ``calls`` names were left out
    #: (those with the least total time), and whether the annotations were dropped
    calls_truncated: Optional[int] = None
    annotations_truncated: Optional[bool] = None


@dataclass
class TimeoutWarningRecord(Record):
    """``type: "timeout_warning"``: written by the watchdog before Lambda's timeout kill."""

    TYPE: ClassVar[str] = "timeout_warning"

    #: v2: the function's service, as on every v2 record
    service: Optional[str] = None
    elapsed_ms: float = 0.0
    remaining_ms: float = 0.0
    timeout_ms: Optional[float] = None
    in_flight: list[InFlight] = field(default_factory=list)
    calls: dict[str, CallStats] = field(default_factory=dict)


@dataclass
class MemoryWarningRecord(Record):
    """``type: "memory_warning"``: written when RSS crosses a share of the memory limit."""

    TYPE: ClassVar[str] = "memory_warning"

    #: v2: the function's service, as on every v2 record
    service: Optional[str] = None
    rss_mb: float = 0.0
    limit_mb: Optional[int] = None
    elapsed_ms: Optional[float] = None
    in_flight: list[InFlight] = field(default_factory=list)


AnyRecord = Union[CallRecord, InvocationRecord, TimeoutWarningRecord, MemoryWarningRecord]

RECORD_CLASSES: dict[str, type[Record]] = {
    cls.TYPE: cls
    for cls in (CallRecord, InvocationRecord, TimeoutWarningRecord, MemoryWarningRecord)
}


def is_record(obj: Any) -> bool:
    """True for a decoded JSON object that is one of our records."""
    return isinstance(obj, dict) and MARKER in obj and obj.get("type") in RECORD_CLASSES


def from_dict(obj: dict[str, Any]) -> AnyRecord:
    """Build the record for a decoded line; unknown keys go to ``extra``, bad values to defaults.

    Raises ``ValueError`` when ``obj`` is not one of our records.
    """
    if not is_record(obj):
        raise ValueError("not a lambda_trace record")
    cls = RECORD_CLASSES[obj["type"]]
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {"version": _int(obj.get(MARKER), SCHEMA_VERSION)}
    extra: dict[str, Any] = {}
    for key, value in obj.items():
        if key in (MARKER, "type"):
            continue
        f = known.get(key)
        if f is None or key in ("version", "extra"):
            extra[key] = value
            continue
        kwargs[key] = _coerce(key, value, f.default)
    kwargs["extra"] = extra
    return cls(**kwargs)  # type: ignore[return-value]


def _coerce(key: str, value: Any, default: Any) -> Any:
    if key == "calls":
        if not isinstance(value, dict):
            return {}
        return {str(k): CallStats.from_dict(v) for k, v in value.items()}
    if key == "in_flight":
        return [InFlight.from_dict(v) for v in value] if isinstance(value, list) else []
    if key == "annotations":
        return dict(value) if isinstance(value, dict) else {}
    if value is None:
        return None
    if isinstance(default, bool):
        return bool(value)
    if isinstance(default, int) and not isinstance(default, bool):
        return _int(value, default)
    if isinstance(default, float):
        return _float(value, default)
    if key in ("init_ms", "remaining_ms", "memory_peak_mb", "timeout_ms", "elapsed_ms"):
        return _float(value, None)
    if key in ("memory_limit_mb", "limit_mb", "http_status", "retries", "status_code",
                "command_count"):
        return _int(value, None)
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def _plain(value: Any) -> Any:
    return value.to_dict() if hasattr(value, "to_dict") else value


def _float(value: Any, default: Any = 0.0) -> Any:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return out if math.isfinite(out) else default


def _int(value: Any, default: Any = 0) -> Any:
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError, OverflowError):
            return default
