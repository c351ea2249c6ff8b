"""The record contract's constants, importable without the dataclass machinery of ``schema``.

The runtime needs only these on its import path (``schema`` costs ≈4 ms of cold start for its
dataclasses); ``lambda_trace.schema`` re-exports them, and readers should keep using it.
"""

from __future__ import annotations

#: Bumped only for incompatible changes; additions keep the version.
SCHEMA_VERSION = 1

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
