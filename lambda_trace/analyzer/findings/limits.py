"""The ``resource_limit`` finder: invocations that hit a quota of the Lambda execution
environment (/tmp full, no file descriptor or thread left), which the code raised as an
ordinary exception but which no fix at the raising line would cure.

The errors are classified as they are aggregated (``Aggregator.resource_limits``, by
:mod:`lambda_trace.analyzer.resource_limits`) and are kept out of the code-error groups, so
one failure is reported once. It follows ``findings.Finder``.
"""

from __future__ import annotations

from typing import Any, Optional

from lambda_trace.analyzer.aggregate import Aggregator
from lambda_trace.analyzer.findings.baseline import Baseline
from lambda_trace.analyzer.findings.model import Finding, Thresholds, clip, ratio, round_to
from lambda_trace.analyzer.resource_limits import BY_KEY, LIMITS


def resource_limits(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    """One finding per quota hit, with the places (error type, innermost frame) it surfaced."""
    rows: dict[str, list[tuple[str, Optional[str], int, Any]]] = {}
    for (limit, error_type, frame), count, _, example in agg.resource_limits.items():
        rows.setdefault(str(limit), []).append((error_type, frame, count, example))
    found = []
    for limit in LIMITS:
        sites = rows.get(limit.key)
        if not sites:
            continue
        error_type, frame, _, example = sites[0]  # the most frequent place
        request_id, text = example if example else (None, None)
        count = sum(n for _, _, n, _ in sites)
        evidence: dict[str, Any] = {
            "limit": limit.key,
            "quota": limit.quota,
            "count": count,
            "invocations": agg.invocations,
            # errors outside any invocation count too: no share of invocations then
            "rate": (round_to(ratio(count, agg.invocations), 4)
                     if count <= agg.invocations else None),
            "example_request_id": request_id,
            "message": clip(text, 300),
            "error_type": error_type,
            "top_frame": frame,
            "setting": limit.setting,
            "doc": limit.doc,
        }
        if len(sites) > 1:
            evidence["sites"] = [
                {"error_type": et, "top_frame": fr, "count": n} for et, fr, n, _ in sites[:5]
            ]
        rate = evidence["rate"]
        severity = "high" if rate is None or rate >= 0.05 else "medium"
        advice = f"{limit.advice} See {limit.doc}"
        found.append(Finding("resource_limit", severity, BY_KEY[limit.key].subject, evidence,
                             advice))
    return found
