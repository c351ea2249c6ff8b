"""The report as one JSON document: the stable, documented schema every renderer reads.

Schema ``lambda-trace/analyze`` version 1 (docs/analyze.md describes every key). Additions keep
the version; renaming or removing a key bumps it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, Optional, TextIO

from lambda_trace.analyzer.aggregate import Aggregator, QuantileSketch
from lambda_trace.analyzer.findings import Baseline, Finding, compare_with_baseline

SCHEMA = "lambda-trace/analyze"
SCHEMA_VERSION = 1


def build_report(
    agg: Aggregator,
    findings: Iterable[Finding],
    *,
    join_stats: Any = None,
    source_stats: Any = None,
    parse_stats: Any = None,
    baseline: Optional[Baseline] = None,
    top: int = 20,
    functions: Optional[dict[str, Any]] = None,
) -> dict[str, Any]:
    """Everything the renderers show, as plain JSON-ready data.

    ``functions`` is the per-function view (``fleet.function_sections``); ``{}`` when the run
    named no function.
    """
    error_groups = [
        {
            "error_type": error_type,
            "top_frame": frame,
            "count": count,
            "example_request_id": example[0] if example else None,
            "message": _clip(example[1] if example else None, 500),
        }
        for (error_type, frame), count, _, example in agg.error_groups.items()[:top]
    ]
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        **summary_of(agg),
        "dependencies": dependency_rows(agg),
        "error_groups": error_groups,
        "slowest_invocations": [_slow(entry) for entry in agg.slowest.items()],
        "baseline": None,
        "findings": [f.to_dict() for f in findings],
        "functions": functions if functions is not None else {},
        "input": {
            "sources": _counters(source_stats),
            "parser": _counters(parse_stats),
            "join": _counters(join_stats),
            "events": dict(sorted(agg.events_by_type.items())),
            "orphan_events": agg.orphan_events,
            "emf_documents": agg.emf_documents,
            "environments": agg.environments,
        },
    }
    if baseline is not None:
        report["baseline"] = {
            "label": baseline.label,
            "invocations": baseline.invocations,
            "comparison": compare_with_baseline(agg, baseline),
        }
    return report


def summary_of(agg: Aggregator) -> dict[str, Any]:
    """The summary keys of a report (top level, and per function in ``functions``)."""
    memory = []
    for size, mem in sorted(agg.memory_sizes.items()):
        d50, d95 = mem.duration.quantiles([0.5, 0.95])
        m50, m99 = mem.peak.quantiles([0.5, 0.99])
        memory.append({
            "memory_size_mb": size if size > 0 else None,
            "invocations": mem.invocations,
            "duration_p50_ms": _r(d50),
            "duration_p95_ms": _r(d95),
            "max_memory_used_p50_mb": _r(m50),
            "max_memory_used_p99_mb": _r(m99),
            "max_memory_used_max_mb": _r(mem.peak.max if mem.peak.count else None),
            "billed_ms_total": _r(mem.billed_ms) if mem.billed_count else None,
            "failures": mem.failures,
        })
    return {
        "time_range": {"start": _iso(agg.first_ts), "end": _iso(agg.last_ts)},
        "invocations": agg.invocations,
        "cold_starts": agg.cold_starts,
        "errors": agg.errors,
        "timeouts": agg.timeouts,
        "out_of_memory": agg.out_of_memory,
        "error_rate": _r(agg.failure_rate, 4),
        "duration_ms": _percentiles(agg.duration),
        "init_duration_ms": _percentiles(agg.init_duration),
        "billed_ms_total": _r(agg.billed_total_ms) if agg.billed_count else None,
        "memory": memory,
    }


def dependency_rows(agg: Aggregator) -> list[dict[str, Any]]:
    """One row per call name, largest total first."""
    total = agg.duration_total_ms
    rows = []
    for dep in sorted(agg.dependencies.values(), key=lambda d: (-d.total_ms, d.name)):
        p50, p95, p99 = dep.sketch.quantiles([0.5, 0.95, 0.99])
        rows.append({
            "name": dep.name,
            "kind": dep.kind or None,
            "calls": dep.calls,
            "total_ms": _r(dep.total_ms),
            "p50_ms": _r(p50),
            "p95_ms": _r(p95),
            "p99_ms": _r(p99),
            "max_ms": _r(dep.max_ms),
            "errors": dep.errors,
            "share": _r(dep.total_ms / total, 4) if total else None,
            "invocations": dep.invocations,
            "throttled": dep.throttled,
            "retries": dep.retries,
        })
    return rows


def render_json(report: dict[str, Any], file: TextIO) -> None:
    json.dump(report, file, indent=2, ensure_ascii=False, allow_nan=False)
    file.write("\n")


def _percentiles(sketch: QuantileSketch) -> dict[str, Optional[float]]:
    p50, p95, p99 = sketch.quantiles([0.5, 0.95, 0.99])
    return {
        "p50": _r(p50),
        "p95": _r(p95),
        "p99": _r(p99),
        "max": _r(sketch.max if sketch.count else None),
        "mean": _r(sketch.mean),
        "count": sketch.count,
    }


def _slow(entry: dict[str, Any]) -> dict[str, Any]:
    size, peak = entry.get("memory_size_mb"), entry.get("max_memory_used_mb")
    return {
        "request_id": entry.get("request_id"),
        "log_stream": entry.get("log_stream"),
        "start": _iso(entry.get("start_ms")),
        "duration_ms": _r(entry.get("duration_ms")),
        "status": entry.get("status"),
        "memory_size_mb": None if size is None else int(size),
        "max_memory_used_mb": peak,
        "calls": [
            {**call, "start_ms": _r(call.get("start_ms"), 3),
             "duration_ms": _r(call["duration_ms"], 3)}
            # (a call still running at a timeout has "open": true and status "in_flight")
            for call in entry.get("calls", [])
        ],
        "calls_not_shown": entry.get("calls_not_shown", 0),
        # a timed-out invocation: the call running at the timeout warning (else None)
        "in_flight": _in_flight(entry.get("in_flight")),
    }


def _in_flight(call: Any) -> Optional[dict[str, Any]]:
    if not isinstance(call, dict):
        return None
    return {"name": call.get("name"), "kind": call.get("kind"),
            "running_ms": _r(call.get("running_ms"), 3)}


def _counters(stats: Any) -> dict[str, Any]:
    """A stats object's numeric counters (and dicts of them), whatever its class."""
    if stats is None:
        return {}
    if dataclasses.is_dataclass(stats) and not isinstance(stats, type):
        data = {f.name: getattr(stats, f.name) for f in dataclasses.fields(stats)}
    elif isinstance(stats, dict):
        data = dict(stats)
    else:
        data = {k: v for k, v in vars(stats).items() if not k.startswith("_")}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            out[key] = value
        elif isinstance(value, dict) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values()
        ):
            out[key] = {str(k): v for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            out[key] = list(value)[:50]
    return out


def _iso(epoch_ms: Optional[float]) -> Optional[str]:
    if epoch_ms is None:
        return None
    try:
        dt = datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _r(value: Optional[float], digits: int = 2) -> Optional[float]:
    return None if value is None else round(value, digits)


def _clip(text: Optional[str], limit: int) -> Optional[str]:
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"
