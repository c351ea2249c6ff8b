"""Build the invocation, timeout_warning and memory_warning records (schema v2) as bounded lines."""

from __future__ import annotations

import math
import time

from lambda_trace._contract import MARKER, SCHEMA_VERSION, field, key
from lambda_trace._encode import dumps, fits, jstr, ms, ms_text, timestamp

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Optional

    from lambda_trace._invocation import Invocation

#: In-flight calls listed in a warning at most (longest running first).
MAX_IN_FLIGHT = 50


def _base(inv: Invocation, record_type: str, epoch_ns: Optional[int] = None) -> dict[str, Any]:
    return {
        MARKER: SCHEMA_VERSION,
        "type": record_type,
        "request_id": inv.request_id,
        "function_name": inv.function_name,
        "service": inv.service,
        "timestamp": timestamp(epoch_ns if epoch_ns is not None else time.time_ns()),
    }


#: Names with at least this many calls carry ``seq`` (their longest sequential run: N+1).
SEQ_MIN_CALLS = 3


def summary_entry(
    kind: str, count: int, total: int, longest: int, errors: int, hist: dict[int, int], seq: int
) -> str:
    """One name's v2 summary: ``{"k","n","ms"[,"max"][,"err"][,"seq"],"h"}`` (JSON text).

    ``max`` is left out for a single call (it is ``ms``), ``err`` when 0, ``seq`` under
    ``SEQ_MIN_CALLS`` calls; ``h`` is the latency histogram as flat ``[bucket, count, ...]``
    pairs, buckets ascending (see ``_contract.HISTOGRAM_ACCURACY``).
    """
    parts = [_S_HEAD, jstr(kind), _S_N, str(count), _S_MS, ms_text(total)]
    if count != 1:
        parts += (_S_MAX, ms_text(longest))
    if errors:
        parts += (_S_ERR, str(errors))
    if count >= SEQ_MIN_CALLS:
        parts += (_S_SEQ, str(seq))
    parts += (_S_H, ",".join([f"{k},{hist[k]}" for k in sorted(hist)]), "]}")
    return "".join(parts)


# The summary entry's fragments, from the declared keys.
_S_HEAD = "{" + key("summary", "k")
_S_N, _S_MS, _S_MAX, _S_ERR, _S_SEQ = (
    field("summary", k) for k in ("n", "ms", "max", "err", "seq"))
_S_H = field("summary", "h") + "["


def calls_text(inv: Invocation) -> str:
    """The ``calls`` object of the invocation's aggregates, as JSON text (v2 layout)."""
    if not inv.stats:
        return "{}"
    entries = ",".join(
        f"{jstr(name)}:{summary_entry(s[4], s[0], s[1], s[2], s[3], s[5], s[6])}"
        for name, s in inv.summary_snapshot().items()
    )
    return f"{{{entries}}}"


def calls_summary(inv: Invocation) -> dict[str, dict[str, Any]]:
    """The ``calls`` object as a dict (the bounded, general path)."""
    import json  # only for a record too large for the hand-encoded line

    return dict(json.loads(calls_text(inv)))


def in_flight(inv: Invocation, now_ns: int) -> list[dict[str, Any]]:
    return [
        {"name": name, "kind": kind, "running_ms": ms(running)}
        for name, kind, running in inv.in_flight_snapshot(now_ns)[:MAX_IN_FLIGHT]
    ]


def _text(value: Optional[str]) -> str:
    return "null" if value is None else jstr(value)


def _number(value: Optional[float]) -> str:
    if value is None or not math.isfinite(value):
        return "null"
    return repr(value)


def invocation_line(
    inv: Invocation,
    end_ns: int,
    *,
    cold_start: bool,
    init_type: Optional[str],
    init_ms: Optional[float],
    remaining_ms: Optional[float],
    memory_peak_mb: Optional[float],
    error: Optional[dict[str, Any]],
    status_code: Optional[int] = None,
    xray_trace_id: Optional[str] = None,
    correlation_id: Optional[str] = None,
    detail: Optional[str] = None,
) -> str:
    """The invocation record (v2), hand-encoded (≈4x faster than json.dumps of the dict).

    Optional keys are left out when they hold nothing (a warm start's ``init_*``, a success's
    ``error_*``, no annotations, no dropped calls). Falls back to the dict and ``bounded`` when
    the line would exceed 256 KB.
    """
    duration = end_ns - inv.start_ns
    self_ns = duration - inv.busy_ns(end_ns)
    if self_ns < 0:
        self_ns = 0
    fixed = _fixed_parts(inv.function_name, inv.service, inv.memory_limit_mb)
    parts = [
        _I_HEAD, _text(inv.request_id), fixed[0], timestamp(inv.start_epoch_ns + duration),
        _I_COLD if cold_start else _I_WARM,
    ]
    if init_type is not None:
        parts += (_I_INIT_TYPE, jstr(init_type))
    if init_ms is not None and math.isfinite(init_ms):
        parts += (_I_INIT_MS, repr(init_ms))
    parts += (
        _I_DURATION, ms_text(duration), _I_SELF, ms_text(self_ns), _I_REMAINING,
        "null" if remaining_ms is None else _number(
            remaining_ms if type(remaining_ms) is float and remaining_ms.is_integer()
            else round(remaining_ms, 3)),
        fixed[1], _number(memory_peak_mb),
    )
    if error:
        parts += (
            _I_ERROR_TYPE, _text(error["error_type"]), _I_ERROR_MESSAGE,
            _text(error["error_message"]), _I_ERROR_CLASS, _text(error["error_class"]),
        )
    else:
        parts.append(_I_OK)
    if status_code is not None:
        parts += (_I_STATUS_CODE, str(status_code))
    if xray_trace_id is not None:
        parts += (_I_XRAY, jstr(xray_trace_id))
    if correlation_id is not None:
        parts += (_I_CORRELATION, jstr(correlation_id))
    parts += (_I_CALLS, calls_text(inv))
    if inv.dropped_calls:
        parts += (_I_DROPPED, str(inv.dropped_calls))
    if inv.annotations:
        parts += (_I_ANNOTATIONS, dumps(inv.annotations))
    if inv.timed_out:
        parts.append(_I_TIMEOUT_WARNED)
    if detail is not None:
        parts += (_I_DETAIL, '"', detail, '"')
    line = "".join(parts) + "}"
    if fits(line):
        return line
    import json  # a record over 256 KB (a huge summary or annotations): rare

    return bounded(json.loads(line))


def _inv(name: str) -> str:
    return field("invocation", name)


# The invocation record's fragments, built once from the declared keys (``_contract``).
_I_HEAD = (
    "{" + key("invocation", MARKER) + str(SCHEMA_VERSION) + _inv("type") + '"invocation"'
    + _inv("request_id")
)
_I_COLD = '"' + _inv("cold_start") + "true"  # the quote closes the timestamp
_I_WARM = '"' + _inv("cold_start") + "false"
_I_INIT_TYPE, _I_INIT_MS = _inv("init_type"), _inv("init_ms")
_I_DURATION, _I_SELF, _I_REMAINING = _inv("duration_ms"), _inv("self_ms"), _inv("remaining_ms")
_I_OK = _inv("status") + '"ok"'
_I_ERROR_TYPE = _inv("status") + '"error"' + _inv("error_type")
_I_ERROR_MESSAGE, _I_ERROR_CLASS = _inv("error_message"), _inv("error_class")
_I_STATUS_CODE, _I_XRAY = _inv("status_code"), _inv("xray_trace_id")
_I_CORRELATION, _I_CALLS = _inv("correlation_id"), _inv("calls")
_I_DROPPED, _I_ANNOTATIONS = _inv("dropped_calls"), _inv("annotations")
_I_TIMEOUT_WARNED = _inv("timeout_warned") + "true"
_I_DETAIL = _inv("detail")

#: (function_name, service, memory limit) -> the record's fragments that hold them (constant
#: for a handler): from ``"function_name"`` to the timestamp's quote, and the memory limit.
_fixed: dict[tuple[Optional[str], Optional[str], Optional[int]], tuple[str, str]] = {}


def _fixed_parts(
    function_name: Optional[str], service: Optional[str], memory_limit_mb: Optional[int]
) -> tuple[str, str]:
    found = _fixed.get((function_name, service, memory_limit_mb))
    if found is None:
        if len(_fixed) >= 64:
            _fixed.clear()  # names that vary (a test's doubles) must not grow it unbounded
        found = _fixed[(function_name, service, memory_limit_mb)] = (
            _inv("function_name") + _text(function_name) + _inv("service") + _text(service)
            + _inv("timestamp") + '"',
            _inv("memory_limit_mb") + _number(memory_limit_mb) + _inv("memory_peak_mb"),
        )
    return found


def timeout_warning_line(inv: Invocation, now_ns: int, remaining_ms: Optional[float]) -> str:
    record = _base(inv, "timeout_warning")
    record.update(
        elapsed_ms=ms(now_ns - inv.start_ns),
        remaining_ms=None if remaining_ms is None else round(remaining_ms, 3),
        timeout_ms=inv.remaining_ms_at_start,
        in_flight=in_flight(inv, now_ns),
        calls=calls_summary(inv),
    )
    return bounded(record)


def memory_warning_line(inv: Invocation, now_ns: int, rss_bytes: int) -> str:
    record = _base(inv, "memory_warning")
    record.update(
        rss_mb=round(rss_bytes / (1024 * 1024), 1),
        limit_mb=inv.memory_limit_mb,
        elapsed_ms=ms(now_ns - inv.start_ns),
        in_flight=in_flight(inv, now_ns),
    )
    return bounded(record)


def bounded(record: dict[str, Any]) -> str:
    """Encode ``record`` in one line under CloudWatch's 256 KB event limit.

    Too big (a huge summary): keep the ``calls`` names with the most total time and say how many
    were left out in ``calls_truncated``; then shorten annotations; never drop required keys.
    """
    line = dumps(record)
    if fits(line):
        return line
    calls = record.get("calls")
    if isinstance(calls, dict) and calls:
        ranked = sorted(calls.items(), key=lambda item: -item[1].get("ms", 0))
        keep = len(ranked)
        while keep > 0 and not fits(line):
            keep //= 2
            record["calls"] = dict(ranked[:keep])
            record["calls_truncated"] = len(ranked) - keep
            line = dumps(record)
    if not fits(line) and record.get("annotations"):
        record["annotations"] = {}
        record["annotations_truncated"] = True
        line = dumps(record)
    if not fits(line) and record.get("in_flight"):
        record["in_flight"] = record["in_flight"][:5]
        line = dumps(record)
    if not fits(line):
        for key in ("error_message", "error_type"):
            if isinstance(record.get(key), str):
                record[key] = record[key][:300]
        line = dumps(record)
    return line
