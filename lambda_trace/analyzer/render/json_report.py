"""The report as one JSON document: schema ``lambda-trace/analyze`` (docs/analyze.md)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lambda_trace.analyzer.report import Report


def render_json(report: Report) -> str:
    """The document, indented, non-ASCII as it is; never NaN (it is not JSON)."""
    return json.dumps(report.document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
