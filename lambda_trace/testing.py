"""Helpers for testing traced handlers: a fake Lambda context, record capture, validators.

    from lambda_trace.testing import FakeContext, capture

    with capture() as records:
        handler({"id": 1}, FakeContext(memory_limit_in_mb="256"))
    assert records.invocations[0]["status"] == "ok"

Also used by lambda-trace's own tests: ``validate_record`` checks a record against the contract
in ``lambda_trace.schema``; ``emf_problems`` checks the EMF rules the JSON schema cannot express.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from lambda_trace.schema import ERROR_CLASSES, MARKER, MAX_LINE_BYTES, RECORD_CLASSES, is_record
from lambda_trace.sinks import get_default_sink, set_default_sink

__all__ = [
    "Capture",
    "FakeContext",
    "capture",
    "emf_problems",
    "invoke",
    "record_problems",
    "validate_emf",
    "validate_record",
]


@dataclass
class FakeContext:
    """A Lambda context like awslambdaric's: ``memory_limit_in_mb`` is a *string* there too.

    ``timeout_ms`` is the function's timeout; the remaining time counts down from creation.
    """

    function_name: str = "test-function"
    memory_limit_in_mb: str = "128"
    timeout_ms: int = 3000
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = "2026/11/27/[$LATEST]0123456789abcdef0123456789abcdef"
    _created: float = field(default_factory=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        self.memory_limit_in_mb = str(self.memory_limit_in_mb)
        if not self.invoked_function_arn:
            self.invoked_function_arn = (
                f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
            )
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = (time.monotonic() - self._created) * 1000
        return max(0, int(self.timeout_ms - elapsed))


class Capture:
    """A sink that keeps every line; properties decode them by kind."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()
        #: set by ``invoke``
        self.result: Any = None
        self.error: Optional[BaseException] = None

    def __call__(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)

    def _decoded(self) -> list[dict[str, Any]]:
        with self._lock:
            lines = list(self.lines)
        return [json.loads(line) for line in lines]

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every lambda-trace record, in the order written."""
        return [obj for obj in self._decoded() if is_record(obj)]

    def of_type(self, record_type: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["type"] == record_type]

    @property
    def calls(self) -> list[dict[str, Any]]:
        return self.of_type("call")

    @property
    def invocations(self) -> list[dict[str, Any]]:
        return self.of_type("invocation")

    @property
    def emf(self) -> list[dict[str, Any]]:
        """Every EMF document (objects with an ``_aws`` member)."""
        return [obj for obj in self._decoded() if isinstance(obj, dict) and "_aws" in obj]

    def clear(self) -> None:
        with self._lock:
            self.lines.clear()


@contextmanager
def capture() -> Iterator[Capture]:
    """Send every traced handler's lines (those decorated without ``sink=``) to a Capture.

    Downstream latencies batched across invocations (``DownstreamLatency``) are published at
    the start (to the previous sink) and at the end (into the capture): a capture holds every
    line of the invocations it saw, and only theirs.
    """
    from lambda_trace._lifecycle import flush_batch

    flush_batch(get_default_sink())
    sink = Capture()
    previous = set_default_sink(sink)
    try:
        yield sink
    finally:
        flush_batch(sink)
        set_default_sink(previous)


def invoke(
    handler: Callable[..., Any], event: Any = None, context: Optional[Any] = None
) -> Capture:
    """Call ``handler(event, context)`` once, capturing its lines, result and exception."""
    with capture() as sink:
        try:
            sink.result = handler(event, context if context is not None else FakeContext())
        except Exception as exc:
            sink.error = exc
    return sink


# -- record validation --------------------------------------------------------------------------

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

_STR, _INT, _NUM, _BOOL, _DICT, _LIST = "str", "int", "number", "bool", "dict", "list"

#: type -> {key: (expected type, required)}
_KEYS: dict[str, dict[str, tuple[str, bool]]] = {
    "call": {
        "name": (_STR, True),
        "kind": (_STR, True),
        "start_ms": (_NUM, True),
        "duration_ms": (_NUM, True),
        "status": (_STR, True),
        "error_class": (_STR, False),
        "error_code": (_STR, False),
        "service": (_STR, False),
        "operation": (_STR, False),
        "target": (_STR, False),
        "http_status": (_INT, False),
        "retries": (_INT, False),
        "aws_request_id": (_STR, False),
        "method": (_STR, False),
        "host": (_STR, False),
        "path": (_STR, False),
        "route": (_STR, False),
        "system": (_STR, False),
        "command_count": (_INT, False),
        "action": (_STR, False),
        "resource": (_STR, False),
        "action_inferred": (_BOOL, False),
        "parent": (_STR, False),
    },
    "invocation": {
        "cold_start": (_BOOL, True),
        "init_type": (_STR, False),
        "init_ms": (_NUM, False),
        "duration_ms": (_NUM, True),
        "self_ms": (_NUM, True),
        "remaining_ms": (_NUM, False),
        "memory_limit_mb": (_INT, False),
        "memory_peak_mb": (_NUM, False),
        "status": (_STR, True),
        "error_type": (_STR, False),
        "error_message": (_STR, False),
        "error_class": (_STR, False),
        "calls": (_DICT, True),
        "dropped_calls": (_INT, True),
        "annotations": (_DICT, True),
        "service": (_STR, False),
        "status_code": (_INT, False),
        "xray_trace_id": (_STR, False),
        "correlation_id": (_STR, False),
        "detail": (_STR, False),
        "timeout_warned": (_BOOL, False),
    },
    "timeout_warning": {
        "elapsed_ms": (_NUM, True),
        "remaining_ms": (_NUM, False),
        "timeout_ms": (_NUM, False),
        "in_flight": (_LIST, True),
        "calls": (_DICT, True),
    },
    "memory_warning": {
        "rss_mb": (_NUM, True),
        "limit_mb": (_INT, False),
        "elapsed_ms": (_NUM, False),
        "in_flight": (_LIST, True),
    },
}


#: Keys that version 2 leaves out when they hold nothing (the reader's defaults apply).
_OPTIONAL_IN_V2 = {"invocation": ("dropped_calls", "annotations")}

#: v2 ``calls`` entries: key -> (expected type, required)
_SUMMARY_V2 = {
    "k": (_STR, True), "n": (_INT, True), "ms": (_NUM, True), "max": (_NUM, False),
    "err": (_INT, False), "seq": (_INT, False), "h": (_LIST, True),
}
_SUMMARY_V1 = {"count": _INT, "total_ms": _NUM, "max_ms": _NUM, "errors": _INT}

#: Downstream call kinds (``db``: database and cache clients).
CALL_KINDS = ("aws", "http", "segment", "db")


def _type_ok(value: Any, expected: str) -> bool:
    if expected == _STR:
        return isinstance(value, str)
    if expected == _BOOL:
        return isinstance(value, bool)
    if expected == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == _NUM:
        return (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        )
    if expected == _DICT:
        return isinstance(value, dict)
    return isinstance(value, list)


def record_problems(obj: Any, line: Optional[str] = None) -> list[str]:
    """Every way ``obj`` (a decoded record; ``line`` its text) breaks the record contract."""
    if not isinstance(obj, dict):
        return ["not a JSON object"]
    problems = []
    if line is not None and len(line.encode()) + 1 > MAX_LINE_BYTES:
        problems.append(f"line is {len(line.encode())} bytes, over {MAX_LINE_BYTES}")
    if not isinstance(obj.get(MARKER), int) or isinstance(obj.get(MARKER), bool):
        problems.append(f"{MARKER!r} must be the schema version (int)")
    record_type = obj.get("type")
    if record_type not in RECORD_CLASSES:
        return [*problems, f"unknown type {record_type!r}"]
    version = obj.get(MARKER)
    v2 = isinstance(version, int) and version >= 2
    # v2 call lines name neither the function (the log group does) nor a time (the event has
    # one); they carry the service instead.
    lean_call = v2 and record_type == "call"
    for key in ("request_id",) if lean_call else ("request_id", "function_name"):
        if key not in obj:
            problems.append(f"missing {key!r}")
        elif obj[key] is not None and not isinstance(obj[key], str):
            problems.append(f"{key!r} must be a string or null")
    if v2 and (obj.get("service") is not None and not isinstance(obj["service"], str)):
        problems.append("'service' must be a string or null")
    if not lean_call and (
        not isinstance(obj.get("timestamp"), str) or not _TIMESTAMP.match(obj["timestamp"])
    ):
        problems.append(f"timestamp {obj.get('timestamp')!r} is not ISO 8601 UTC with ms")
    optional = _OPTIONAL_IN_V2.get(record_type, ()) if v2 else ()
    for key, (expected, required) in _KEYS[record_type].items():
        if key not in obj or obj[key] is None:
            if required and key not in optional:
                problems.append(f"{record_type}: missing {key!r}")
            continue
        if not _type_ok(obj[key], expected):
            problems.append(f"{record_type}: {key!r}={obj[key]!r} is not a {expected}")
    if "status" in obj and obj.get("status") not in ("ok", "error"):
        problems.append(f"status {obj.get('status')!r} is not ok|error")
    if record_type == "call" and obj.get("kind") not in CALL_KINDS:
        problems.append(f"kind {obj.get('kind')!r} is not one of {CALL_KINDS}")
    if obj.get("error_class") is not None and obj["error_class"] not in ERROR_CLASSES:
        problems.append(f"error_class {obj['error_class']!r} is not one of {ERROR_CLASSES}")
    for key in ("duration_ms", "self_ms", "start_ms", "elapsed_ms", "rss_mb"):
        value = obj.get(key)
        if value is not None and _type_ok(value, _NUM) and value < 0:
            problems.append(f"{key} is negative")
    if isinstance(obj.get("calls"), dict):
        for name, stats in obj["calls"].items():
            if not isinstance(stats, dict):
                problems.append(f"calls[{name!r}] is not an object")
            elif v2:
                problems.extend(_summary_v2_problems(name, stats))
            else:
                for key, expected in _SUMMARY_V1.items():
                    if not _type_ok(stats.get(key), expected):
                        problems.append(f"calls[{name!r}].{key} is not a {expected}")
    if isinstance(obj.get("in_flight"), list):
        for item in obj["in_flight"]:
            if not (
                isinstance(item, dict)
                and isinstance(item.get("name"), str)
                and isinstance(item.get("kind"), str)
                and _type_ok(item.get("running_ms"), _NUM)
            ):
                problems.append(f"in_flight item {item!r} needs name, kind, running_ms")
    return problems


def _summary_v2_problems(name: str, stats: dict[str, Any]) -> list[str]:
    problems = []
    for key, (expected, required) in _SUMMARY_V2.items():
        if key not in stats:
            if required:
                problems.append(f"calls[{name!r}]: missing {key!r}")
        elif not _type_ok(stats[key], expected):
            problems.append(f"calls[{name!r}].{key} is not a {expected}")
    hist = stats.get("h")
    if isinstance(hist, list):
        ints = all(isinstance(v, int) and not isinstance(v, bool) for v in hist)
        if not ints or len(hist) % 2:
            problems.append(f"calls[{name!r}].h is not [bucket, count, ...] integer pairs")
        elif sum(hist[1::2]) != stats.get("n"):
            problems.append(f"calls[{name!r}].h counts {sum(hist[1::2])} calls, n says "
                            f"{stats.get('n')}")
        elif hist[0::2] != sorted(set(hist[0::2])):
            problems.append(f"calls[{name!r}].h buckets are not distinct and ascending")
    return problems


def validate_record(obj: Union[dict[str, Any], str]) -> dict[str, Any]:
    """Return the record (decoded if given a line); raise ValueError listing every problem."""
    line = obj if isinstance(obj, str) else None
    decoded = json.loads(obj) if isinstance(obj, str) else obj
    problems = record_problems(decoded, line)
    if problems:
        raise ValueError("invalid lambda-trace record: " + "; ".join(problems))
    return decoded


# -- EMF validation -------------------------------------------------------------------------------

_EMF_UNITS_RE = re.compile(
    r"^(Seconds|Microseconds|Milliseconds|Bytes|Kilobytes|Megabytes|Gigabytes|Terabytes|Bits|"
    r"Kilobits|Megabits|Gigabits|Terabits|Percent|Count|Bytes/Second|Kilobytes/Second|"
    r"Megabytes/Second|Gigabytes/Second|Terabytes/Second|Bits/Second|Kilobits/Second|"
    r"Megabits/Second|Gigabits/Second|Terabits/Second|Count/Second|None)$"
)


def _finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def emf_problems(doc: Any, line: Optional[str] = None, now_ms: Optional[int] = None) -> list[str]:
    """The EMF rules the JSON schema cannot express (CloudWatch's specification and limits).

    ``now_ms`` is the clock the timestamp window is judged by (default: this machine's now):
    CloudWatch takes a document stamped at most 14 days before and 2 hours after it.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("_aws"), dict):
        return ["not an EMF document (no _aws object)"]
    problems = []
    if line is not None and len(line.encode()) > MAX_LINE_BYTES:
        problems.append(f"document is {len(line.encode())} bytes, over {MAX_LINE_BYTES}")
    aws = doc["_aws"]
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    stamp = aws.get("Timestamp")
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        problems.append("Timestamp is not an integer")
    elif not now_ms - 14 * 86_400_000 <= stamp <= now_ms + 2 * 3_600_000:
        problems.append("Timestamp is more than 14 days in the past or 2 hours in the future")
    directives = aws.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return [*problems, "CloudWatchMetrics is not a non-empty list"]
    for directive in directives:
        if not isinstance(directive, dict):
            problems.append("a directive is not an object")
            continue
        if not isinstance(directive.get("Namespace"), str) or not directive["Namespace"]:
            problems.append("directive without a Namespace")
        for dims in directive.get("Dimensions") or []:
            if not isinstance(dims, list) or not 1 <= len(dims) <= 30:
                problems.append(f"dimension set {dims!r} must hold 1 to 30 keys")
                continue
            for key in dims:
                value = doc.get(key)
                if not isinstance(value, str):
                    problems.append(f"dimension {key!r} is not a root string member")
                elif len(value) > 1024:
                    problems.append(f"dimension {key!r} value is over 1024 characters")
        metrics = directive.get("Metrics")
        if not isinstance(metrics, list) or not 1 <= len(metrics) <= 100:
            problems.append("a directive must hold 1 to 100 metrics")
            continue
        for metric in metrics:
            name = metric.get("Name") if isinstance(metric, dict) else None
            if not isinstance(name, str) or not name:
                problems.append(f"metric definition {metric!r} has no Name")
                continue
            unit = metric.get("Unit")
            if unit is not None and not _EMF_UNITS_RE.match(str(unit)):
                problems.append(f"metric {name!r}: unit {unit!r} is not a CloudWatch unit")
            value = doc.get(name)
            if isinstance(value, list):
                if not 1 <= len(value) <= 100 or not all(_finite_number(v) for v in value):
                    problems.append(f"metric {name!r}: array must hold 1..100 finite numbers")
            elif not _finite_number(value):
                problems.append(f"metric {name!r}: root member is not a finite number")
    return problems


def validate_emf(doc: Union[dict[str, Any], str], now_ms: Optional[int] = None) -> dict[str, Any]:
    """Return the EMF document (decoded if given a line); raise ValueError on any problem.

    ``now_ms`` as for ``emf_problems``: the moment the timestamp window is judged against.
    """
    line = doc if isinstance(doc, str) else None
    decoded = json.loads(doc) if isinstance(doc, str) else doc
    problems = emf_problems(decoded, line, now_ms=now_ms)
    if problems:
        raise ValueError("invalid EMF document: " + "; ".join(problems))
    return decoded
