"""``CliError``, re-exported from ``lambda_trace.errors`` (where it lives, below both halves)."""

from __future__ import annotations

from lambda_trace.errors import CliError

__all__ = ["CliError"]
