"""The HTML page's chart data: timelines of the slowest invocations, latency histograms, series."""

from __future__ import annotations

from typing import Any

import pytest
from join_builders import realistic_events
from report_fixtures import TIMED_OUT_ID, contract_report

from lambda_trace.analyzer.aggregate import aggregate_events
from lambda_trace.analyzer.report import report_from_aggregate
from lambda_trace.analyzer.report_charts import (
    LATENCY_SERIES,
    document_charts,
    invocation_timelines,
)


def test_timelines_carry_the_in_flight_call() -> None:
    rows = contract_report()["slowest_invocations"]
    timelines = {t["request_id"]: t for t in invocation_timelines(rows)}
    timed_out = timelines[TIMED_OUT_ID]
    assert timed_out["in_flight"] == {"name": "http GET api.example.com", "kind": "http",
                                      "running_ms": 2850.0}
    assert [c["name"] for c in timed_out["calls"]] == ["dynamodb.GetItem", "s3.GetObject"]


def test_the_first_timeline_drawn_is_the_first_invocation_with_calls() -> None:
    rows: list[dict[str, Any]] = [
        {"request_id": "a", "duration_ms": 90.0, "calls": [], "in_flight": None},
        {"request_id": "b", "duration_ms": 80.0, "in_flight": None,
         "calls": [{"name": "s3.GetObject", "start_ms": 30.0, "duration_ms": 5.0},
                   {"name": "sqs.SendMessage", "start_ms": 2.0, "duration_ms": 1.0},
                   {"name": "no start", "start_ms": None, "duration_ms": 1.0}]},
    ]
    charts = document_charts(rows)
    assert charts["first_with_calls"] == 1
    assert [c["name"] for c in charts["invocations"][1]["calls"]] == [
        "sqs.SendMessage", "s3.GetObject"]  # in start order; a call without a start is left out
    assert charts["latency"] is None and charts["timeline"] is None
    assert document_charts(None)["invocations"] == []


def test_latency_histograms_are_the_largest_dependencies_as_shares_of_their_calls() -> None:
    agg, _ = aggregate_events(realistic_events())
    charts = report_from_aggregate(agg, []).charts
    latency = charts["latency"]
    assert latency is not None
    by_total = sorted((d for d in agg.dependencies.values() if d.sketch.count),
                      key=lambda d: -d.total_ms)[:LATENCY_SERIES]
    assert [s["name"] for s in latency["series"]] == [d.name for d in by_total]
    for series in latency["series"]:
        assert len(series["shares"]) == len(latency["labels"])
        assert sum(series["shares"]) == pytest.approx(100.0, abs=0.05)


def test_the_time_series_has_one_label_per_point_and_the_largest_timeout() -> None:
    agg, _ = aggregate_events(realistic_events())
    timeline = report_from_aggregate(agg, []).charts["timeline"]
    assert timeline is not None
    n = len(agg.timeline.points())
    assert n > 0
    for key in ("labels", "duration_max", "duration_mean", "memory_used", "memory_size"):
        assert len(timeline[key]) == n, key  # type: ignore[literal-required]
    limits = [k for k, _, _, _ in agg.timeout_seconds.items()]
    assert timeline["timeout_ms"] == (max(limits) * 1000 if limits else None)
    assert timeline["bucket_ms"] == agg.timeline.bucket_ms
