"""Lambda's platform lines in the Text log format: START/END/REPORT, INIT_*, RESTORE_*,
EXTENSION, TELEMETRY and LOGS (docs/formats.md §1.1-1.7). Each builder gets one line with the
wrapper prefixes already removed."""

from __future__ import annotations

import re
from typing import Any, Callable, Optional

from lambda_trace.analyzer.lines.ids import as_number, as_status, as_whole, clean_id, name_list
from lambda_trace.analyzer.model import Event, make_event

# --------------------------------------------------------------------------------------------
# START / END / REPORT (docs/formats.md §1.1-1.3)


#: Longest names first, so "Billed Restore Duration" never reads as "Restore Duration" and
#: "Billed Duration" never as "Duration" (docs/formats.md §9.2). Values are one token; fields may
#: be glued ("1470 msMemory Size", §9.1).
_REPORT_FIELD = re.compile(
    r"(Billed Restore Duration|Restore Duration|Billed Duration|Init Duration|Max Memory Used"
    r"|Memory Size|Duration|Status|Error Type|TraceId|SegmentId):[\t ]*([^\s]*)"
)
_KNOWN_STATUSES = frozenset(("success", "timeout", "error", "failure"))

#: A line that continues a REPORT cut in two by a copy (messy.log:32-33) or its XRAY line (§9.3).
REPORT_CONTINUATION = re.compile(
    r"[\t ]*(?:XRAY TraceId:|Duration:|Billed Duration:|Memory Size:|Max Memory Used:"
    r"|Init Duration:|Restore Duration:|Billed Restore Duration:|Status:|Error Type:)"
)


def _first_token(text: str) -> Optional[str]:
    parts = text.split(None, 1)
    return parts[0] if parts else None


def start_event(text: str, ts: Optional[int], stream: Optional[str]) -> Event:
    """``START RequestId: <id> Version: <$LATEST | n>`` (the id can be deleted in copies)."""
    at = text.find("Version:", 16)
    head = text[16:at] if at >= 0 else text[16:]
    version = _first_token(text[at + 8:]) if at >= 0 else None
    return {"type": "start", "request_id": clean_id(_first_token(head)), "timestamp_ms": ts,
            "log_stream": stream, "version": version}


def end_event(text: str, ts: Optional[int], stream: Optional[str]) -> Event:
    """``END RequestId: <id>``."""
    return {"type": "end", "request_id": clean_id(_first_token(text[14:])), "timestamp_ms": ts,
            "log_stream": stream}


def _report_status(raw: str) -> Optional[str]:
    return as_status(raw) if raw.lower() in _KNOWN_STATUSES else None


def _text(raw: str) -> Optional[str]:
    return raw or None


#: REPORT field name -> (event key, converter)
_REPORT_CONVERT: dict[str, tuple[str, Callable[[str], Any]]] = {
    "Duration": ("duration_ms", as_number),
    "Billed Duration": ("billed_duration_ms", as_whole),
    "Memory Size": ("memory_size_mb", as_whole),
    "Max Memory Used": ("max_memory_used_mb", as_whole),
    "Init Duration": ("init_duration_ms", as_number),
    "Restore Duration": ("restore_duration_ms", as_number),
    "Billed Restore Duration": ("billed_restore_duration_ms", as_whole),
    "Status": ("status", _report_status),
    "Error Type": ("error_type", _text),
    "TraceId": ("xray_trace_id", _text),
    "SegmentId": ("xray_segment_id", _text),
}
_REPORT_TEMPLATE: Event = make_event("report")


#: REPORT fields by name when the line keeps its tabs; the XRAY part follows after "\\n".
_TAB_FIELDS = {**_REPORT_CONVERT, "XRAY TraceId": ("xray_trace_id", _text)}
_TAB_SKIPPED = frozenset(("REPORT RequestId", "Sampled"))


def _report_values(text: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "\t" in text:
        # The usual line: one "Name: value unit" per tab-separated part; anything else (spaces
        # for tabs, glued fields, a cut-off label) takes the general pattern below.
        for part in text.split("\t"):
            name, sep, raw = part.partition(": ")
            if not sep:
                if part.strip():
                    break
                continue
            if ":" in raw:
                break
            entry = _TAB_FIELDS.get(name.strip())
            if entry is None:
                if name.strip() in _TAB_SKIPPED:
                    continue
                break
            key, convert = entry
            if key not in values:
                token = raw.split(None, 1)
                value = convert(token[0]) if token else None
                if value is not None:
                    values[key] = value
        else:
            return values
        values = {}
    for name, raw in _REPORT_FIELD.findall(text):
        key, convert = _REPORT_CONVERT[name]
        if key not in values:
            value = convert(raw)
            if value is not None:
                values[key] = value
    return values


#: The REPORT as Lambda writes it (tabs; "ms \\t" before 2021); the optional fields follow.
_CANONICAL_REPORT = re.compile(
    r"REPORT RequestId: (\S+)\tDuration: (\d+\.?\d*) ms\tBilled Duration: (\d+) ms ?\t"
    r"Memory Size: (\d+) MB\tMax Memory Used: (\d+) MB\t?(.*)",
    re.DOTALL,
)


def report_event(
    text: str,
    ts: Optional[int],
    stream: Optional[str],
    request_id: Optional[str] = None,
) -> Event:
    """A text REPORT (optionally with its XRAY part after ``\\n`` or on the same line).

    ``text`` starts with ``REPORT RequestId:``, or with the fields themselves when a copy cut the
    label off (then ``request_id`` is the id found before them). No ``Status`` means success.
    """
    match = _CANONICAL_REPORT.match(text)
    if match is not None:
        rest = match.group(6)
        event: Event = {
            "type": "report",
            "request_id": clean_id(match.group(1)),
            "timestamp_ms": ts,
            "log_stream": stream,
            "duration_ms": float(match.group(2)),
            "billed_duration_ms": int(match.group(3)),
            "memory_size_mb": int(match.group(4)),
            "max_memory_used_mb": int(match.group(5)),
            "init_duration_ms": None,
            "restore_duration_ms": None,
            "status": "success",
            "error_type": None,
            "xray_trace_id": None,
            "billed_restore_duration_ms": None,
            "xray_segment_id": None,
        }
        if rest and not rest.isspace():
            event.update(_report_values("\t" + rest))
        return event
    if text.startswith("REPORT RequestId:"):
        request_id = clean_id(_first_token(text[17:]))
    event = _REPORT_TEMPLATE.copy()
    event["request_id"] = request_id
    event["timestamp_ms"] = ts
    event["log_stream"] = stream
    event["status"] = "success"
    event.update(_report_values(text))
    return event


def amend_report(event: Event, text: str) -> bool:
    """Fill a REPORT's missing fields from a continuation line; True if the line belonged to it."""
    values = _report_values(text)
    changed = False
    for key, value in values.items():
        if key == "status":
            if event["status"] == "success" and value != "success":
                event["status"] = value
                changed = True
        elif event.get(key) is None and value is not None:
            event[key] = value
            changed = True
    return changed


# --------------------------------------------------------------------------------------------
# INIT_START / INIT_REPORT / RESTORE_* / EXTENSION / TELEMETRY / LOGS (docs/formats.md §1.4-1.7)

_RUNTIME_VERSION = re.compile(
    r"Runtime Version:[\t ]*(\S+)(?:[\t ]+Runtime Version ARN:[\t ]*(\S+))?"
)
_INIT_FIELD = re.compile(r"(Init Duration|Restore Duration|Phase|Status|Error Type):[\t ]*(\S*)")
_EXTENSION = re.compile(
    r"EXTENSION[\t ]+Name:[\t ]*(.*?)[\t ]+State:[\t ]*(\S+)"
    r"(?:[\t ]+Events:[\t ]*\[([^\]]*)\])?(?:.*?Error Type:[\t ]*(\S+))?"
)
# The state may be two words ("State: Already subscribed", when an extension subscribes twice).
_SUBSCRIPTION = re.compile(
    r"(TELEMETRY|LOGS)[\t ]+Name:[\t ]*(.*?)[\t ]+State:[\t ]*(\S+(?: [a-z]\w*)*)"
    r"(?:[\t ]+Types:[\t ]*\[([^\]]*)\])?"
)


def runtime_start_event(
    type_: str, text: str, ts: Optional[int], stream: Optional[str]
) -> Event:
    """``INIT_START`` / ``RESTORE_START Runtime Version: <v>\\tRuntime Version ARN: <arn>``."""
    match = _RUNTIME_VERSION.search(text)
    fields: dict[str, Any] = {
        "runtime_version": match.group(1) if match else None,
        "runtime_version_arn": match.group(2) if match else None,
    }
    return make_event(type_, timestamp_ms=ts, log_stream=stream, **fields)


def _init_fields(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, raw in _INIT_FIELD.findall(text):
        fields.setdefault(name, raw)
    return fields


def init_report_event(text: str, ts: Optional[int], stream: Optional[str]) -> Event:
    """``INIT_REPORT Init Duration: <ms>[\\tPhase: init|invoke\\tStatus: ...\\tError Type: ...]``.

    Without ``Status`` (SnapStart's snapshot-creation init) the init succeeded.
    """
    fields = _init_fields(text)
    return make_event(
        "init_report",
        timestamp_ms=ts,
        log_stream=stream,
        duration_ms=as_number(fields.get("Init Duration")),
        phase=fields.get("Phase") or None,
        status=as_status(fields.get("Status")) or "success",
        error_type=fields.get("Error Type") or None,
    )


def restore_report_event(text: str, ts: Optional[int], stream: Optional[str]) -> Event:
    """``RESTORE_REPORT Restore Duration: <ms>`` (SnapStart)."""
    fields = _init_fields(text)
    return make_event(
        "restore_report",
        timestamp_ms=ts,
        log_stream=stream,
        duration_ms=as_number(fields.get("Restore Duration")),
        status=as_status(fields.get("Status")) or "success",
        error_type=fields.get("Error Type") or None,
    )


def extension_event(text: str, ts: Optional[int], stream: Optional[str]) -> Optional[Event]:
    """``EXTENSION\\tName: <n>\\tState: <s>\\tEvents: [INVOKE, SHUTDOWN]``."""
    match = _EXTENSION.match(text)
    if not match:
        return None
    return make_event(
        "extension",
        timestamp_ms=ts,
        log_stream=stream,
        name=match.group(1),
        state=match.group(2),
        events=name_list(match.group(3)),
        error_type=match.group(4),
    )


def subscription_event(text: str, ts: Optional[int], stream: Optional[str]) -> Optional[Event]:
    """``TELEMETRY|LOGS\\tName: <n>\\tState: Subscribed\\tTypes: [...]`` (shape from the docs)."""
    match = _SUBSCRIPTION.match(text)
    if not match:
        return None
    return make_event(
        "subscription",
        timestamp_ms=ts,
        log_stream=stream,
        api=match.group(1).lower(),
        name=match.group(2),
        state=match.group(3),
        types=name_list(match.group(4)),
    )
