"""JSON envelopes around CloudWatch log events, taken off (docs/formats.md §7).

Pure functions from decoded JSON to ``LogEvent``: the CLI's ``get-log-events`` /
``filter-log-events`` output, boto3 event dicts, subscription-filter payloads (decoded, or as
``awslogs.data`` / Kinesis / Firehose base64 gzip), Logs Insights rows and result sets, the
``LogResult`` of ``invoke --log-type Tail`` and Apex Up entries. The message stays exactly as
CloudWatch stored it, trailing ``\\n`` included.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Optional, Union

from lambda_trace.analyzer.jsondepth import too_deep
from lambda_trace.analyzer.model import LogEvent
from lambda_trace.analyzer.sourcestats import SourceStats
from lambda_trace.analyzer.timestamps import iso_to_ms

#: Decompressed size allowed for one embedded base64 gzip blob (a subscription payload is at most
#: a few MB; anything far larger is not a log payload).
MAX_EMBEDDED_BYTES = 64 * 1024 * 1024

#: Keys that only CloudWatch's own event dicts carry (API, CLI, boto3, subscription payloads).
_EVENT_ONLY_KEYS = ("ingestionTime", "eventId", "logStreamName")
#: The fields Apex Up's JSON log handler writes around each Lambda line (docs/formats.md §7.11).
_UP_KEYS = frozenset({"fields", "level", "timestamp", "message"})
#: First keys of documents that are envelopes (cheap test before decoding a JSON line).
ENVELOPE_FIRST_KEYS = frozenset(
    {
        "events",
        "nextForwardToken",
        "nextBackwardToken",
        "searchedLogStreams",
        "nextToken",
        "logStreamName",
        "eventId",
        "ingestionTime",
        "awslogs",
        "messageType",
        "owner",
        "logGroup",
        "logStream",
        "subscriptionFilters",
        "logEvents",
        "StatusCode",
        "LogResult",
        "ExecutedVersion",
        "FunctionError",
        "@timestamp",
        "@message",
        "@logStream",
        "@log",
        "@ptr",
        "results",
        "fields",
        "Records",
        "records",
    }
)
#: First keys that raw JSON log lines share with envelopes; decoded only with an envelope-only key.
AMBIGUOUS_FIRST_KEYS = frozenset({"timestamp", "message", "id"})


@dataclass(frozen=True)
class Context:
    """Where the events of one envelope come from."""

    origin: str
    log_group: Optional[str] = None
    log_stream: Optional[str] = None


@dataclass(frozen=True)
class EmbeddedText:
    """Plain log text found inside an envelope (``LogResult``), to be read line by line."""

    text: str
    origin: str


Item = Union[LogEvent, EmbeddedText]


def to_ms(value: Any) -> Optional[int]:
    """Epoch ms from an envelope timestamp: a number, digits, or an ISO/Insights string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        return iso_to_ms(value)
    return None


def _group_from_at_log(value: Any) -> Optional[str]:
    """Insights ``@log`` is ``<account>:<log group>``."""
    if not isinstance(value, str) or not value:
        return None
    account, sep, group = value.partition(":")
    return group if sep and account.isdigit() else value


def row_to_mapping(row: Any) -> Optional[dict[str, Any]]:
    """An Insights result row (``[{"field": …, "value": …}, …]``) as a dict; None otherwise."""
    if not isinstance(row, list) or not row:
        return None
    out: dict[str, Any] = {}
    for cell in row:
        if not isinstance(cell, dict) or "field" not in cell:
            return None
        out[cell["field"]] = cell.get("value")
    return out


def is_event_like(value: Any) -> bool:
    """Whether an element of an envelope's list is one log event (API dict or Insights row)."""
    if isinstance(value, dict):
        return isinstance(value.get("message"), str) or isinstance(value.get("@message"), str)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        mapping = row_to_mapping(value)
        return mapping is not None and isinstance(mapping.get("@message"), str)
    return False


def event_from_mapping(item: Any, ctx: Context) -> Optional[LogEvent]:
    """One LogEvent from an API event dict, a subscription ``logEvents`` item or an Insights row."""
    mapping = row_to_mapping(item) if isinstance(item, list) else item
    if not isinstance(mapping, dict):
        return None
    message = mapping.get("message")
    if not isinstance(message, str):
        message = mapping.get("@message")
        if not isinstance(message, str):
            return None
    ts = mapping.get("timestamp")
    if ts is None:
        ts = mapping.get("@timestamp")
    stream = mapping.get("logStreamName") or mapping.get("@logStream") or ctx.log_stream
    group = mapping.get("logGroupName") or _group_from_at_log(mapping.get("@log")) or ctx.log_group
    return LogEvent(
        message,
        to_ms(ts),
        stream if isinstance(stream, str) else None,
        group if isinstance(group, str) else None,
        ctx.origin,
    )


def is_single_event(doc: dict[str, Any]) -> bool:
    """A lone event dict (boto3 / CLI / Up / Insights row), not an app's JSON log line."""
    if not isinstance(doc.get("message"), str):
        return isinstance(doc.get("@message"), str)
    if any(key in doc for key in _EVENT_ONLY_KEYS):
        return True
    if "id" in doc and isinstance(doc.get("timestamp"), int):
        return True  # a subscription payload's logEvents item
    return doc.keys() == _UP_KEYS


def events_from_document(doc: Any, ctx: Context, stats: SourceStats) -> Optional[list[Item]]:
    """The log events inside a decoded JSON document, or None when it is no envelope we know."""
    if isinstance(doc, list):
        return _events_from_list(doc, ctx, stats)
    if not isinstance(doc, dict):
        return None
    if "logEvents" in doc and isinstance(doc["logEvents"], list):
        return list(_subscription_events(doc, ctx))
    awslogs = doc.get("awslogs")
    if isinstance(awslogs, dict) and isinstance(awslogs.get("data"), str):
        return decode_embedded(awslogs["data"], ctx, stats)
    log_result = doc.get("LogResult")
    if isinstance(log_result, str):
        return _log_result(log_result, ctx, stats)
    if is_single_event(doc):
        event = event_from_mapping(doc, ctx)
        return [event] if event is not None else None
    data = doc.get("data")
    if isinstance(data, str) and data.startswith("H4sI"):
        return decode_embedded(data, ctx, stats)  # a Kinesis / Firehose record
    kinesis = doc.get("kinesis")
    if isinstance(kinesis, dict) and isinstance(kinesis.get("data"), str):
        return decode_embedded(kinesis["data"], ctx, stats)
    found: Optional[list[Item]] = None
    for key, value in doc.items():
        if key in ("searchedLogStreams", "subscriptionFilters") or not isinstance(value, list):
            continue
        inner = _events_from_list(value, _context_with(doc, ctx), stats)
        if inner is not None:
            found = inner if found is None else found + inner
    return found


def _context_with(doc: dict[str, Any], ctx: Context) -> Context:
    group, stream = doc.get("logGroup"), doc.get("logStream")
    if not isinstance(group, str) and not isinstance(stream, str):
        return ctx
    return Context(
        ctx.origin,
        group if isinstance(group, str) else ctx.log_group,
        stream if isinstance(stream, str) else ctx.log_stream,
    )


def _events_from_list(items: list[Any], ctx: Context, stats: SourceStats) -> Optional[list[Item]]:
    found: Optional[list[Item]] = None
    for item in items:
        if is_event_like(item):
            event = event_from_mapping(item, ctx)
            inner: Optional[list[Item]] = [event] if event is not None else None
        else:
            inner = events_from_document(item, ctx, stats)
        if inner is not None:
            if found is None:
                found = []
            found.extend(inner)
    return found


def is_control_message(doc: dict[str, Any]) -> bool:
    """CloudWatch's health-check payload, whose one event is no log line (docs/formats.md §7.7)."""
    return doc.get("messageType") == "CONTROL_MESSAGE"


def _subscription_events(doc: dict[str, Any], ctx: Context) -> Iterator[LogEvent]:
    if is_control_message(doc):
        return
    inner = _context_with(doc, ctx)
    for item in doc["logEvents"]:
        event = event_from_mapping(item, inner)
        if event is not None:
            yield event


def _b64(text: str) -> bytes:
    text = text.strip()
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def decode_embedded(data: str, ctx: Context, stats: SourceStats) -> Optional[list[Item]]:
    """Events in a base64 (gzip) subscription payload; counted as malformed if it cannot be read."""
    try:
        raw = _b64(data)
        if raw[:2] == b"\x1f\x8b":
            inflater = zlib.decompressobj(wbits=31)
            raw = inflater.decompress(raw, MAX_EMBEDDED_BYTES)
            if inflater.unconsumed_tail:
                raise ValueError(f"more than {MAX_EMBEDDED_BYTES} bytes decompressed")
        text = raw.decode("utf-8", "replace")
    except (binascii.Error, ValueError, zlib.error) as exc:
        stats.malformed += 1
        stats.note(ctx.origin, f"base64/gzip payload could not be decoded ({exc}); skipped")
        return []
    docs = _json_documents(text)
    if docs is None:
        stats.malformed += 1
        stats.note(ctx.origin, "decoded payload is not JSON; skipped")
        return []
    found: list[Item] = []
    for doc in docs:
        inner = events_from_document(doc, ctx, stats)
        if inner:
            found.extend(inner)
    return found


def _json_documents(text: str) -> Optional[list[Any]]:
    """One or more JSON documents written back to back (Firehose concatenates payloads)."""
    if too_deep(text):
        return None
    decoder = json.JSONDecoder()
    docs: list[Any] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            return docs
        try:
            doc, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            return docs or None
        docs.append(doc)


def _log_result(data: str, ctx: Context, stats: SourceStats) -> list[Item]:
    """``invoke --log-type Tail``: the last 4 KB of the log as base64; the first line may be cut."""
    try:
        text = _b64(data).decode("utf-8", "replace")
    except (binascii.Error, ValueError) as exc:
        stats.malformed += 1
        stats.note(ctx.origin, f"LogResult is not base64 ({exc}); skipped")
        return []
    return [EmbeddedText(text, ctx.origin)]
