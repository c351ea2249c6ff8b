"""The report, built once from an analysis: what every renderer shows and ``--baseline`` reads.

A :class:`Report` is the JSON document (schema ``lambda-trace/analyze`` version 1; docs/analyze.md
describes every key: additions keep the version, renaming or removing a key bumps it) and the
HTML page's chart data, which needs what the document does not carry (the sketches' buckets, the
time series; :mod:`~lambda_trace.analyzer.report_charts`). The renderers in ``render/`` take a
Report and return text; a saved ``--format json`` report is loaded back into one
(:func:`report_from_json`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, TypedDict, cast

from lambda_trace.analyzer.aggregate import Aggregator
from lambda_trace.analyzer.findings import Baseline, Finding, compare_with_baseline
from lambda_trace.analyzer.findings.model import FindingEntry, clip
from lambda_trace.analyzer.report_charts import ChartData, chart_data, document_charts
from lambda_trace.analyzer.sketches import QuantileSketch
from lambda_trace.analyzer.slowest_entry import SlowEntry
from lambda_trace.analyzer.timestamps import ms_to_iso_or_none

if TYPE_CHECKING:
    from lambda_trace.analyzer.pipeline import Analysis
    from lambda_trace.analyzer.sourcestats import SourceStats

SCHEMA = "lambda-trace/analyze"
SCHEMA_VERSION = 1

__all__ = ["SCHEMA", "SCHEMA_VERSION", "FindingEntry", "Report", "ReportDocument",
           "build_report", "report_from_aggregate", "report_from_json"]


# -- the document's parts (docs/analyze.md, "The JSON report") -----------------------------------


class TimeRange(TypedDict):
    start: Optional[str]
    end: Optional[str]


class Percentiles(TypedDict):
    p50: Optional[float]
    p95: Optional[float]
    p99: Optional[float]
    max: Optional[float]
    mean: Optional[float]
    count: int


class MemoryRow(TypedDict):
    memory_size_mb: Optional[int]
    invocations: int
    duration_p50_ms: Optional[float]
    duration_p95_ms: Optional[float]
    max_memory_used_p50_mb: Optional[float]
    max_memory_used_p99_mb: Optional[float]
    max_memory_used_max_mb: Optional[float]
    billed_ms_total: Optional[float]
    failures: int


class Summary(TypedDict):
    """The summary keys: the report's top level, and each function's ``summary``."""

    time_range: TimeRange
    invocations: int
    cold_starts: int
    errors: int
    timeouts: int
    out_of_memory: int
    error_rate: Optional[float]
    duration_ms: Percentiles
    init_duration_ms: Percentiles
    billed_ms_total: Optional[float]
    memory: list[MemoryRow]


class DependencyRow(TypedDict):
    name: str
    kind: Optional[str]
    calls: int
    total_ms: Optional[float]
    p50_ms: Optional[float]
    p95_ms: Optional[float]
    p99_ms: Optional[float]
    max_ms: Optional[float]
    errors: int
    share: Optional[float]
    invocations: int
    throttled: int
    retries: int


class ErrorGroup(TypedDict):
    error_type: str
    top_frame: Optional[str]
    count: int
    example_request_id: Optional[str]
    message: Optional[str]


class InFlight(TypedDict):
    name: Any
    kind: Any
    running_ms: Optional[float]


class SlowInvocation(TypedDict):
    request_id: Optional[str]
    log_stream: Optional[str]
    start: Optional[str]
    duration_ms: Optional[float]
    status: Optional[str]
    memory_size_mb: Optional[int]
    max_memory_used_mb: Optional[float]
    #: name, start_ms, duration_ms, status (and ``open`` for the call in flight at a timeout)
    calls: list[dict[str, Any]]
    calls_not_shown: int
    in_flight: Optional[InFlight]


class BaselineSection(TypedDict):
    label: str
    invocations: int
    comparison: list[dict[str, Any]]


class FunctionSection(TypedDict):
    summary: Summary
    dependencies: list[DependencyRow]
    findings: list[FindingEntry]


class InputSection(TypedDict):
    sources: dict[str, Any]
    parser: dict[str, Any]
    join: dict[str, Any]
    events: dict[str, int]
    orphan_events: int
    emf_documents: int
    environments: int


class _Document(Summary):
    schema: str
    schema_version: int
    dependencies: list[DependencyRow]
    error_groups: list[ErrorGroup]
    slowest_invocations: list[SlowInvocation]
    baseline: Optional[BaselineSection]
    findings: list[FindingEntry]
    functions: dict[str, FunctionSection]
    input: InputSection


class ReportDocument(_Document, total=False):
    """The whole JSON document; the keys below are ``analyze --function``'s (function_checks)."""

    metrics: dict[str, Any]
    metrics_period_s: Any
    function_config: dict[str, Any]
    aws_checks: dict[str, Any]


@dataclass(frozen=True)
class Report:
    """What the renderers show: the JSON document and the HTML page's chart data."""

    document: ReportDocument
    charts: ChartData


# -- building ------------------------------------------------------------------------------------


def build_report(
    analysis: Analysis,
    findings: list[Finding],
    *,
    source_stats: Optional[SourceStats] = None,
    baseline: Optional[Baseline] = None,
    top: int = 20,
    sections: Optional[Mapping[str, Any]] = None,
) -> Report:
    """The report of one analysis: its combined view, each named function's, and ``sections``
    (``analyze --function``'s metrics and configuration) after them."""
    return report_from_aggregate(
        analysis.combined, findings, join_stats=analysis.join_stats, source_stats=source_stats,
        parse_stats=analysis.parse_stats, baseline=baseline, top=top,
        functions=function_sections(analysis, findings), sections=sections,
    )


def report_from_aggregate(
    agg: Aggregator,
    findings: Iterable[Finding],
    *,
    join_stats: Any = None,
    source_stats: Any = None,
    parse_stats: Any = None,
    baseline: Optional[Baseline] = None,
    top: int = 20,
    functions: Optional[dict[str, FunctionSection]] = None,
    sections: Optional[Mapping[str, Any]] = None,
) -> Report:
    """The report of one aggregate (a live ``--follow`` view has no per-function sections)."""
    error_groups: list[ErrorGroup] = [
        {
            "error_type": error_type,
            "top_frame": frame,
            "count": count,
            "example_request_id": example[0] if example else None,
            "message": clip(example[1] if example else None, 500),
        }
        for (error_type, frame), count, _, example in agg.error_groups.items()[:top]
    ]
    summary = summary_of(agg)
    document: ReportDocument = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "time_range": summary["time_range"],
        "invocations": summary["invocations"],
        "cold_starts": summary["cold_starts"],
        "errors": summary["errors"],
        "timeouts": summary["timeouts"],
        "out_of_memory": summary["out_of_memory"],
        "error_rate": summary["error_rate"],
        "duration_ms": summary["duration_ms"],
        "init_duration_ms": summary["init_duration_ms"],
        "billed_ms_total": summary["billed_ms_total"],
        "memory": summary["memory"],
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
        document["baseline"] = {
            "label": baseline.label,
            "invocations": baseline.invocations,
            "comparison": compare_with_baseline(agg, baseline),
        }
    if sections:
        # (keys of function_checks' own; they come last, in its order)
        cast(dict[str, Any], document).update(sections)
    return Report(document, chart_data(agg, document["slowest_invocations"]))


def function_sections(analysis: Analysis, findings: list[Finding]) -> dict[str, FunctionSection]:
    """The ``functions`` key: each named function's summary, dependencies and findings."""
    fleet = analysis.fleet
    sections: dict[str, FunctionSection] = {}
    for function in fleet.functions:
        if function is None:
            continue
        agg = fleet.by_function[function]
        sections[function] = {
            "summary": summary_of(agg),
            "dependencies": dependency_rows(agg),
            "findings": [f.to_dict() for f in findings if f.function == function],
        }
    return sections


def summary_of(agg: Aggregator) -> Summary:
    """The summary keys of a report (top level, and per function in ``functions``)."""
    memory: list[MemoryRow] = []
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
        "time_range": {"start": ms_to_iso_or_none(agg.first_ts),
                       "end": ms_to_iso_or_none(agg.last_ts)},
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


def dependency_rows(agg: Aggregator) -> list[DependencyRow]:
    """One row per call name, largest total first."""
    total = agg.duration_total_ms
    rows: list[DependencyRow] = []
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


# -- loading -------------------------------------------------------------------------------------


def report_from_json(data: Any) -> Report:
    """A saved ``--format json`` report (parsed) as a Report; ``ValueError`` when it is not one.

    Only the schema name is checked: a saved file may come from another version or be edited
    by hand, so what reads it (``Baseline.from_report``) still reads each value defensively.
    Its chart data is what the document holds (the slowest invocations' timelines).
    """
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ValueError("not a lambda-trace analyze JSON report")
    document = cast(ReportDocument, data)
    return Report(document, document_charts(document.get("slowest_invocations")))


# -- helpers -------------------------------------------------------------------------------------


def _percentiles(sketch: QuantileSketch) -> Percentiles:
    p50, p95, p99 = sketch.quantiles([0.5, 0.95, 0.99])
    return {
        "p50": _r(p50),
        "p95": _r(p95),
        "p99": _r(p99),
        "max": _r(sketch.max if sketch.count else None),
        "mean": _r(sketch.mean),
        "count": sketch.count,
    }


def _slow(entry: SlowEntry) -> SlowInvocation:
    size, peak = entry.get("memory_size_mb"), entry.get("max_memory_used_mb")
    return {
        "request_id": entry.get("request_id"),
        "log_stream": entry.get("log_stream"),
        "start": ms_to_iso_or_none(entry.get("start_ms")),
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


def _in_flight(call: Any) -> Optional[InFlight]:
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


def _r(value: Optional[float], digits: int = 2) -> Optional[float]:
    return None if value is None else round(value, digits)
