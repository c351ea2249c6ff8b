"""Recognise this project's own records and Embedded Metric Format documents in decoded JSON lines.

Both are single JSON objects: our records carry the ``lambda_trace`` marker (see
``lambda_trace.schema``), EMF documents an ``_aws.CloudWatchMetrics`` directive
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
This module also owns JSON decoding for the parser: orjson when installed, else the stdlib.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Optional

from lambda_trace.analyzer.jsondepth import MAX_JSON_DEPTH, TooDeep, too_deep
from lambda_trace.analyzer.model import Event, make_event
from lambda_trace.schema import MARKER, RECORD_CLASSES, histogram_pairs

#: What a v2 summary entry holds beyond the v1 counts: (histogram, kind, longest sequential run)
SummaryExtra = tuple[dict[int, int], Optional[str], Optional[int]]

try:  # orjson decodes a typical record line 3-5x faster than json.loads
    import orjson

    _decode: Callable[[Any], Any] = orjson.loads
    JSON_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, RecursionError)
except ImportError:  # pragma: no cover - exercised only where orjson is absent
    _decode = json.loads
    JSON_ERRORS = (ValueError, TypeError, RecursionError)


def loads(text: Any) -> Any:
    """The decoded JSON value; ``ValueError`` for invalid JSON or nesting past the depth limit."""
    # the two counts inline: nearly every line has fewer brackets than the limit (one call less)
    if (text.count("{") + text.count("[") > MAX_JSON_DEPTH if text.__class__ is str
            else True) and too_deep(text):
        raise TooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return _decode(text)


#: The decoder itself, for a caller that applies the depth guard of ``loads`` on its own.
json_decode = _decode

RECORD_TYPES = frozenset(RECORD_CLASSES)

#: Keys under which EMF producers put the Lambda request id (Rust crate, Powertools, our runtime).
_EMF_REQUEST_ID_KEYS = (
    "RequestId", "requestId", "request_id", "function_request_id", "AWSRequestId")


def decode_object(text: str) -> Optional[Any]:
    """The decoded JSON value of ``text``, or None when it is not valid JSON."""
    try:
        return loads(text)
    except JSON_ERRORS:  # incl. RecursionError: a pathologically nested line is just malformed
        return None


def is_our_record(obj: dict[str, Any]) -> bool:
    """True for a decoded object that is one of our records (same test as ``schema.is_record``)."""
    return MARKER in obj and obj.get("type") in RECORD_TYPES


def is_v2(record: Any) -> bool:
    """True for one of our records written with schema version 2 or later."""
    version = record.get(MARKER) if isinstance(record, dict) else None
    return type(version) is int and version >= 2


def summary_v1(summary: dict[str, Any]) -> tuple[dict[str, Any], dict[str, SummaryExtra]]:
    """A v2 ``calls`` object in the v1 layout (``count``, ``total_ms``, ``max_ms``, ``errors``),
    and per name what v2 adds (histogram, kind, sequential run); entries already in the v1
    layout pass unchanged."""
    out: dict[str, Any] = {}
    extras: dict[str, SummaryExtra] = {}
    for name, stats in summary.items():
        if not isinstance(stats, dict) or "n" not in stats or "count" in stats:
            out[name] = stats
            continue
        total = stats.get("ms")
        out[name] = {"count": stats.get("n"), "total_ms": total,
                     "max_ms": stats.get("max", total), "errors": stats.get("err", 0)}
        kind, seq = stats.get("k"), stats.get("seq")
        extras[name] = (histogram_pairs(stats.get("h")), kind if isinstance(kind, str) else None,
                        seq if type(seq) is int and seq >= 0 else None)
    return out, extras


def record_event(
    obj: dict[str, Any],
    timestamp_ms: Optional[int],
    log_stream: Optional[str],
    request_id: Optional[str] = None,
) -> Event:
    """The event for one of our records: the decoded object itself, with the common keys set.

    The record's keys stay as they are. ``request_id`` is the id found around the record (a log
    prefix, a JSON log wrapper); the record's own ``request_id`` wins when it has one. ``obj``
    must be freshly decoded: it becomes the event.
    """
    own = obj.get("request_id")
    if not (own and isinstance(own, str)):
        obj["request_id"] = request_id
    obj["timestamp_ms"] = timestamp_ms
    obj["log_stream"] = log_stream
    return obj


def is_emf(obj: dict[str, Any]) -> bool:
    """True for a decoded object with an ``_aws.CloudWatchMetrics`` directive list."""
    meta = obj.get("_aws")
    return isinstance(meta, dict) and isinstance(meta.get("CloudWatchMetrics"), list)


def emf_timestamp(obj: dict[str, Any]) -> Optional[int]:
    """The document's own ``_aws.Timestamp`` (epoch ms), when it is a number."""
    value = obj["_aws"].get("Timestamp")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    return None


def emf_event(
    obj: dict[str, Any],
    timestamp_ms: Optional[int],
    log_stream: Optional[str],
    request_id: Optional[str] = None,
) -> Event:
    """Normalise an EMF document: namespace, metric names, dimension values and metric values.

    ``dimensions`` maps every dimension key used by any dimension set to its value on the
    document's root; ``dimension_sets`` keeps the sets themselves; ``values`` maps each metric name
    to its root value (a number or a list of numbers).
    """
    directives = obj["_aws"]["CloudWatchMetrics"]
    namespace: Optional[str] = None
    names: list[str] = []
    sets: list[list[str]] = []
    for directive in directives:
        if not isinstance(directive, dict):
            continue
        if namespace is None and isinstance(directive.get("Namespace"), str):
            namespace = directive["Namespace"]
        for metric in directive.get("Metrics") or ():
            name = metric.get("Name") if isinstance(metric, dict) else None
            if isinstance(name, str) and name not in names:
                names.append(name)
        for dim_set in directive.get("Dimensions") or ():
            if isinstance(dim_set, list):
                sets.append([d for d in dim_set if isinstance(d, str)])
    dimensions = {key: obj.get(key) for dim_set in sets for key in dim_set}
    values = {name: obj[name] for name in names if name in obj}
    if request_id is None:
        for key in _EMF_REQUEST_ID_KEYS:
            value = obj.get(key)
            if isinstance(value, str) and value:
                request_id = value
                break
    return {
        "type": "emf",
        "request_id": request_id,
        "timestamp_ms": timestamp_ms,
        "log_stream": log_stream,
        "namespace": namespace,
        "metrics": names,
        "dimensions": dimensions,
        "values": values,
        "dimension_sets": sets,
        "truncated": False,
    }


def emf_counted(timestamp_ms: Optional[int], log_stream: Optional[str]) -> Event:
    """An EMF document as an event that is only counted (the analysis reads no more of it)."""
    return {"type": "emf", "request_id": None, "timestamp_ms": timestamp_ms,
            "log_stream": log_stream}


_EMF_NAMESPACE = re.compile(r'"Namespace"\s*:\s*"((?:[^"\\]|\\.)*)"')
_EMF_METRIC_NAME = re.compile(r'"Name"\s*:\s*"((?:[^"\\]|\\.)*)"')
_EMF_TIMESTAMP = re.compile(r'"Timestamp"\s*:\s*(\d{10,16})')


def salvage_emf(
    text: str, timestamp_ms: Optional[int], log_stream: Optional[str]
) -> Optional[Event]:
    """An EMF event from a document cut short (a collector's length limit, Lambda's 256 KB split).

    Only what is complete survives: the namespace and the metric names whose closing quote is
    present. ``truncated`` is True. Returns None when ``text`` does not start an EMF document.
    """
    start = text.find('"_aws"')
    if start < 0 or "CloudWatchMetrics" not in text:
        return None
    namespace = _EMF_NAMESPACE.search(text, start)
    names: list[str] = []
    for match in _EMF_METRIC_NAME.finditer(text, start):
        if match.group(1) not in names:
            names.append(match.group(1))
    if timestamp_ms is None:
        stamp = _EMF_TIMESTAMP.search(text, start)
        timestamp_ms = int(stamp.group(1)) if stamp else None
    return make_event(
        "emf",
        timestamp_ms=timestamp_ms,
        log_stream=log_stream,
        namespace=namespace.group(1) if namespace else None,
        metrics=names,
        dimensions={},
        values={},
        dimension_sets=[],
        truncated=True,
    )
