"""The record contract's constants, importable without the dataclass machinery of ``schema``.

The runtime needs only these on its import path (``schema`` costs ≈4 ms of cold start for its
dataclasses); ``lambda_trace.schema`` re-exports them, and readers should keep using it.
"""

from __future__ import annotations

#: Bumped only for incompatible changes; additions keep the version. Version 2 (compact lines,
#: the tail-based call detail, the per-dependency histogram) is described in ``schema``; readers
#: accept 1 and 2.
SCHEMA_VERSION = 2

#: Relative accuracy of the per-dependency latency histogram in the invocation record (``h``):
#: a duration of ``v`` ms falls in bucket ``ceil(log(v) / log(gamma))`` with
#: ``gamma = (1 + a) / (1 - a)``, exactly the buckets of the analyzer's quantile sketch
#: (DDSketch, Masson et al., VLDB 2019), so a record's histogram merges into it without loss.
HISTOGRAM_ACCURACY = 0.01

#: Durations at or below this (ms) are counted in the histogram's lowest bucket.
HISTOGRAM_MIN_MS = 1e-3

#: The marker key that identifies our records among other JSON log lines.
MARKER = "lambda_trace"

#: CloudWatch Logs' event size limit; no record line may exceed it.
MAX_LINE_BYTES = 256 * 1024

#: Downstream error classes, from the most to the least specific.
ERROR_CLASSES = (
    "permission_denied",
    "throttled",
    "not_found",
    "validation",
    "conflict",
    "server",
    "network",
    "timeout",
    "client",
)

# -- record keys -------------------------------------------------------------------------------
# The one declaration of every key a record can carry, by record type, in the order the runtime
# writes them (``schema``'s dataclasses declare the same keys for readers; a test keeps the two
# equal). The runtime builds its pre-encoded JSON heads and fragments from these at import time
# (``key``/``field``): a key it writes but nobody declared fails at import, not in a reader.

#: Keys every record starts with.
COMMON_KEYS = (MARKER, "type", "request_id")

RECORD_KEYS: dict[str, tuple[str, ...]] = {
    "call": (
        *COMMON_KEYS, "function_name", "timestamp", "service", "name", "kind", "start_ms",
        "duration_ms", "status",
        # by kind: AWS, HTTP, db (see ``schema.CallRecord``); failures; segments
        "target", "http_status", "retries", "aws_request_id", "method", "host", "path",
        "route", "system", "operation", "command_count", "error_class", "error_code", "action",
        "resource", "action_inferred", "parent",
    ),
    "invocation": (
        *COMMON_KEYS, "function_name", "service", "timestamp", "cold_start", "init_type",
        "init_ms", "duration_ms", "self_ms", "remaining_ms", "memory_limit_mb", "memory_peak_mb",
        "status", "error_type", "error_message", "error_class", "status_code", "xray_trace_id",
        "correlation_id", "calls", "dropped_calls", "annotations", "timeout_warned", "detail",
        "calls_truncated", "annotations_truncated",
    ),
    "timeout_warning": (
        *COMMON_KEYS, "function_name", "service", "timestamp", "elapsed_ms", "remaining_ms",
        "timeout_ms", "in_flight", "calls",
    ),
    "memory_warning": (
        *COMMON_KEYS, "function_name", "service", "timestamp", "rss_mb", "limit_mb",
        "elapsed_ms", "in_flight",
    ),
}

#: Keys of one ``calls`` entry (v2): kind, count, total ms, longest, errors, sequential run,
#: histogram pairs (``schema.CallStats``).
SUMMARY_KEYS = ("k", "n", "ms", "max", "err", "seq", "h")

#: Keys of one ``in_flight`` entry of a warning (``schema.InFlight``).
IN_FLIGHT_KEYS = ("name", "kind", "running_ms")


def key(record_type: str, name: str) -> str:
    """``"name":`` (JSON) for a key declared for ``record_type`` (``summary``, ``in_flight``
    name the nested objects); KeyError for one that is not."""
    declared: tuple[str, ...]
    if record_type == "summary":
        declared = SUMMARY_KEYS
    elif record_type == "in_flight":
        declared = IN_FLIGHT_KEYS
    else:
        declared = RECORD_KEYS[record_type]
    if name not in declared:
        raise KeyError(f"{name!r} is not a declared key of {record_type!r} records")
    return f'"{name}":'


def field(record_type: str, name: str) -> str:
    """``,"name":``: the fragment that appends a declared key to a record being written."""
    return "," + key(record_type, name)
