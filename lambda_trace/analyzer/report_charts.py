"""The HTML page's chart data, taken from the aggregate when the report is built.

What the page's script draws: every slowest invocation's calls (the timeline shown on a click),
latency histograms per dependency (from the sketches' buckets) and the duration and memory time
series. The JSON document carries only the first, so a report loaded from a saved JSON file has
timelines and no histograms or series.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Optional, TypedDict

from lambda_trace.analyzer.render.common import fmt_ms

if TYPE_CHECKING:
    from collections.abc import Mapping

    from lambda_trace.analyzer.aggregate import Aggregator

#: dependencies shown in the latency-distribution chart
LATENCY_SERIES = 6


class TimelineCall(TypedDict):
    name: str
    kind: Any
    start_ms: float
    duration_ms: float
    status: Any


class TimelineInFlight(TypedDict):
    name: str
    kind: Any
    running_ms: Any


class InvocationTimeline(TypedDict):
    request_id: Any
    function: Any
    status: Any
    duration_ms: Any
    duration_label: str
    calls: list[TimelineCall]
    in_flight: Optional[TimelineInFlight]


class LatencySeries(TypedDict):
    name: str
    shares: list[float]


class LatencyChart(TypedDict):
    labels: list[str]
    series: list[LatencySeries]


class TimeSeriesChart(TypedDict):
    labels: list[str]
    duration_max: list[Optional[float]]
    duration_mean: list[Optional[float]]
    memory_used: list[Any]
    memory_size: list[Any]
    timeout_ms: Optional[int]
    bucket_ms: int


class ChartData(TypedDict):
    invocations: list[InvocationTimeline]
    #: the invocation whose timeline is drawn first (the first with calls)
    first_with_calls: int
    latency: Optional[LatencyChart]
    timeline: Optional[TimeSeriesChart]


def chart_data(agg: Aggregator, slowest: Sequence[Mapping[str, Any]]) -> ChartData:
    """The charts of one aggregate, whose slowest invocations are ``slowest`` (report rows)."""
    data = document_charts(slowest)
    deps = [d for d in sorted(agg.dependencies.values(), key=lambda d: -d.total_ms)
            if d.sketch.count][:LATENCY_SERIES]
    if deps:
        low = min(d.sketch.min for d in deps)
        high = max(d.sketch.max for d in deps)
        first = math.floor(math.log2(max(low, 0.125)))
        last = max(first + 1, math.ceil(math.log2(max(high, 0.25))))
        edges = [2.0**k for k in range(first, last + 1)]
        labels = [f"<= {_ms_label(edges[0])}"] + [
            f"{_ms_label(a)} to {_ms_label(b)}" for a, b in zip(edges, edges[1:])
        ]
        series: list[LatencySeries] = []
        for dep in deps:
            counts = [0] * len(labels)
            for lower, upper, n in dep.sketch.buckets():
                mid = math.sqrt(lower * upper) if lower > 0 else 0.0
                i = 0 if mid <= edges[0] else math.ceil(math.log2(mid)) - first
                counts[min(i, len(labels) - 1)] += n
            total = sum(counts) or 1
            series.append({"name": dep.name, "shares": [round(100 * c / total, 2) for c in counts]})
        data["latency"] = {"labels": labels, "series": series}
    points = agg.timeline.points()
    if points:
        limits = [k for k, _, _, _ in agg.timeout_seconds.items()]
        data["timeline"] = {
            "labels": [_time_label(p["start_ms"], agg.timeline.bucket_ms) for p in points],
            "duration_max": [_round(p["duration_max_ms"]) for p in points],
            "duration_mean": [_round(p["duration_mean_ms"]) for p in points],
            "memory_used": [p["max_memory_used_mb"] for p in points],
            "memory_size": [p["memory_size_mb"] for p in points],
            "timeout_ms": max(limits) * 1000 if limits else None,
            "bucket_ms": agg.timeline.bucket_ms,
        }
    return data


def document_charts(slowest: Optional[Sequence[Mapping[str, Any]]]) -> ChartData:
    """The charts the report's rows alone give: the slowest invocations' timelines."""
    data: ChartData = {"invocations": invocation_timelines(slowest or []),
                       "first_with_calls": 0, "latency": None, "timeline": None}
    for i, inv in enumerate(data["invocations"]):
        if inv["calls"] or inv["in_flight"]:
            data["first_with_calls"] = i
            break
    return data


def invocation_timelines(slowest: Sequence[Mapping[str, Any]]) -> list[InvocationTimeline]:
    """The slowest invocations with their calls in start order, for the click-to-show timeline."""
    out: list[InvocationTimeline] = []
    for row in slowest:
        calls: list[TimelineCall] = sorted(
            (
                {"name": str(c.get("name") or "?"), "kind": c.get("kind"),
                 "start_ms": c["start_ms"], "duration_ms": c.get("duration_ms") or 0.0,
                 "status": c.get("status")}
                for c in row.get("calls") or [] if c.get("start_ms") is not None
            ),
            key=lambda c: c["start_ms"],
        )
        in_flight = row.get("in_flight")
        if not (isinstance(in_flight, dict) and in_flight.get("name")):
            in_flight = None
        out.append({
            "request_id": row.get("request_id"),
            "function": row.get("function"),
            "status": row.get("status"),
            "duration_ms": row.get("duration_ms"),
            "duration_label": fmt_ms(row.get("duration_ms")),
            "calls": calls,
            "in_flight": None if in_flight is None else {
                "name": str(in_flight["name"]), "kind": in_flight.get("kind"),
                "running_ms": in_flight.get("running_ms")},
        })
    return out


def _ms_label(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:g} s"
    return f"{ms:g} ms"


def _time_label(epoch_ms: float, bucket_ms: int) -> str:
    dt = datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)
    if bucket_ms >= 86_400_000:
        return dt.strftime("%Y-%m-%d")
    if bucket_ms >= 60_000:
        return dt.strftime("%m-%d %H:%M")
    return dt.strftime("%H:%M:%S")


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 2)
