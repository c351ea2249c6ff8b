"""Specification of the JSON report: a stable schema, documented and machine-checked."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import jsonschema
import pytest
from join_builders import HOSTILE, realistic_events

from lambda_trace.analyzer.aggregate import aggregate_events
from lambda_trace.analyzer.findings import Baseline, find_all
from lambda_trace.analyzer.render.json_report import render_json
from lambda_trace.analyzer.report import SCHEMA, report_from_aggregate

TOP_LEVEL = {
    "schema", "schema_version", "time_range", "invocations", "cold_starts", "errors", "timeouts",
    "out_of_memory", "error_rate", "duration_ms", "init_duration_ms", "billed_ms_total",
    "memory", "dependencies", "error_groups", "slowest_invocations", "baseline", "findings",
    "functions", "input",
}
DEPENDENCY_KEYS = {"name", "kind", "calls", "total_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms",
                   "errors", "share", "invocations", "throttled", "retries"}


@dataclass
class FakeSourceStats:
    bytes_read: int = 1234
    events: int = 99
    undecodable_lines: int = 2
    notes: list[str] = field(default_factory=lambda: ["a.log: 2 bad lines"])


def schema() -> dict:
    text = (resources.files("lambda_trace.analyzer.render") / "assets" /
            "report.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def report(hostile: bool = False, **kwargs: object) -> dict[str, Any]:
    agg, join_stats = aggregate_events(realistic_events(hostile=hostile))
    return dict(report_from_aggregate(agg, find_all(agg), join_stats=join_stats, **kwargs).document)


def test_report_has_the_documented_top_level_keys_and_validates() -> None:
    """Every documented key is present and the report validates against the shipped schema."""
    data = report(source_stats=FakeSourceStats())
    assert set(data) == TOP_LEVEL
    assert data["schema"] == SCHEMA and data["schema_version"] == 1
    jsonschema.validate(data, schema())


def test_dependencies_are_sorted_by_total_time_with_shares() -> None:
    """Rows carry the documented keys, largest total first; share is total / invocation time."""
    data = report()
    deps = data["dependencies"]
    assert [set(d) for d in deps] == [DEPENDENCY_KEYS] * len(deps)
    totals = [d["total_ms"] for d in deps]
    assert totals == sorted(totals, reverse=True)
    get_item = next(d for d in deps if d["name"] == "dynamodb.GetItem")
    assert get_item["calls"] > data["invocations"] - 1  # several per invocation
    assert get_item["p50_ms"] <= get_item["p95_ms"] <= get_item["p99_ms"] <= get_item["max_ms"]
    assert 0 < get_item["share"] < 1


def test_counters_of_every_stage_are_reported() -> None:
    """Source, parser and join counters land under ``input`` whatever their classes are."""
    data = report(source_stats=FakeSourceStats(), parse_stats={"unparsed": 3, "events": {"x": 1}})
    assert data["input"]["sources"] == {"bytes_read": 1234, "events": 99, "undecodable_lines": 2,
                                        "notes": ["a.log: 2 bad lines"]}
    assert data["input"]["parser"] == {"unparsed": 3, "events": {"x": 1}}
    assert data["input"]["join"]["invocations"] == data["invocations"]


def test_baseline_comparison_is_included_when_given() -> None:
    """With a baseline the report lists the p95 comparison per dependency."""
    agg, _ = aggregate_events(realistic_events())
    baseline = Baseline(invocations=10, duration_p95_ms=50.0,
                        dependencies={"s3.GetObject": (20.0, 10)})
    data = dict(report_from_aggregate(agg, find_all(agg, baseline), baseline=baseline).document)
    rows = {r["name"]: r for r in data["baseline"]["comparison"]}
    assert rows["s3.GetObject"]["baseline_p95_ms"] == 20.0
    assert rows["(invocation duration)"]["baseline_p95_ms"] == 50.0
    jsonschema.validate(data, schema())


def test_json_output_round_trips_untrusted_text() -> None:
    """Hostile log text survives as data: the JSON parses back to the same strings."""
    agg, join_stats = aggregate_events(realistic_events(hostile=True))
    hostile = report_from_aggregate(agg, find_all(agg), join_stats=join_stats)
    back = json.loads(render_json(hostile))
    assert back == hostile.document
    assert any(g["message"] == HOSTILE for g in back["error_groups"])


def test_empty_input_gives_a_valid_report_with_nulls() -> None:
    """No events at all: zero counts, null percentiles, and the no_invocations finding."""
    agg, join_stats = aggregate_events([])
    data = dict(report_from_aggregate(agg, find_all(agg), join_stats=join_stats).document)
    jsonschema.validate(data, schema())
    assert data["invocations"] == 0 and data["duration_ms"]["p95"] is None
    assert [f["kind"] for f in data["findings"]] == ["no_invocations"]


@pytest.mark.parametrize("top", [1, 3])
def test_top_limits_error_groups(top: int) -> None:
    """``top`` bounds the per-table rows of error groups."""
    agg, _ = aggregate_events(realistic_events(n=400))
    data = dict(report_from_aggregate(agg, [], top=top).document)
    assert len(data["error_groups"]) <= top
