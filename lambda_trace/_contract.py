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
