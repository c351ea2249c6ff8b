"""The report built once from an analysis, and a saved JSON report loaded back into one."""

from __future__ import annotations

import json

import pytest
from join_builders import invocation, realistic_events

from lambda_trace.analyzer.aggregate import aggregate_events
from lambda_trace.analyzer.findings import Baseline, find_all
from lambda_trace.analyzer.fleet import find_fleet
from lambda_trace.analyzer.model import Event
from lambda_trace.analyzer.pipeline import Analysis, analyze_events
from lambda_trace.analyzer.render.json_report import render_json
from lambda_trace.analyzer.report import (
    SCHEMA,
    build_report,
    report_from_aggregate,
    report_from_json,
)


def two_functions() -> Analysis:
    """Ten invocations of ``orders`` calling S3 and five of ``billing`` calling SQS."""
    events: list[Event] = []
    for i in range(15):
        name, dep = ("orders", "s3.GetObject") if i < 10 else ("billing", "sqs.SendMessage")
        stream = f"2026/12/03/[$LATEST]{name}"
        for event in invocation(f"{name}-{i}", stream=stream, t0=1_796_000_000_000 + i * 1000,
                                calls=[(dep, 1.0, 10.0 + i)], record=True):
            if event["type"] == "invocation":
                event["function_name"] = name
            events.append(event)
    return analyze_events(events)


def test_a_report_of_two_functions_has_each_ones_section_with_only_its_findings() -> None:
    analysis = two_functions()
    findings = find_fleet(analysis.fleet)
    document = build_report(analysis, findings).document
    assert list(document["functions"]) == ["billing", "orders"]
    orders, billing = document["functions"]["orders"], document["functions"]["billing"]
    assert (orders["summary"]["invocations"], billing["summary"]["invocations"]) == (10, 5)
    assert [d["name"] for d in orders["dependencies"]] == ["s3.GetObject"]
    assert [d["name"] for d in billing["dependencies"]] == ["sqs.SendMessage"]
    # each function's slow dependency is its own, in its own section
    assert [(f["kind"], f["subject"], f["function"]) for f in orders["findings"]] == [
        ("slow_dependency", "s3.GetObject", "orders")]
    assert [(f["kind"], f["subject"], f["function"]) for f in billing["findings"]] == [
        ("slow_dependency", "sqs.SendMessage", "billing")]
    assert len(document["findings"]) == 2
    assert document["invocations"] == 15  # the combined view is the top level


def test_sections_of_analyze_function_come_after_the_documented_keys_in_their_order() -> None:
    analysis = two_functions()
    sections = {"metrics": {"orders": {}}, "aws_checks": {"requests": 2}}
    document = build_report(analysis, [], sections=sections).document
    assert list(document)[-3:] == ["input", "metrics", "aws_checks"]
    assert document["aws_checks"] == {"requests": 2}


def test_a_saved_json_report_loads_back_into_the_same_document_and_its_timelines() -> None:
    agg, join_stats = aggregate_events(realistic_events())
    built = report_from_aggregate(agg, find_all(agg), join_stats=join_stats)
    loaded = report_from_json(json.loads(render_json(built)))
    assert loaded.document == built.document
    assert render_json(loaded) == render_json(built)
    # the document carries the slowest invocations' calls, not the sketches or the time series
    assert loaded.charts["invocations"] == built.charts["invocations"]
    assert loaded.charts["first_with_calls"] == built.charts["first_with_calls"]
    assert built.charts["latency"] is not None and loaded.charts["latency"] is None
    assert built.charts["timeline"] is not None and loaded.charts["timeline"] is None


@pytest.mark.parametrize("data", [[], "x", {"invocations": 3},
                                  {"schema": "other/tool", "invocations": 3}])
def test_what_is_not_an_analyze_report_is_refused(data: object) -> None:
    with pytest.raises(ValueError, match="not a lambda-trace analyze JSON report"):
        report_from_json(data)


def test_a_baseline_from_a_loaded_report_has_the_aggregates_p95s_to_two_decimals() -> None:
    agg, _ = aggregate_events(realistic_events())
    saved = json.loads(render_json(report_from_aggregate(agg, [])))
    assert saved["schema"] == SCHEMA
    loaded = Baseline.from_report(report_from_json(saved), label="saved.json")
    direct = Baseline.from_aggregate(agg)
    assert loaded.label == "saved.json" and loaded.invocations == direct.invocations
    assert loaded.duration_p95_ms == pytest.approx(direct.duration_p95_ms, abs=0.005)
    assert loaded.dependencies.keys() == direct.dependencies.keys()
    for name, (p95, calls) in direct.dependencies.items():
        assert loaded.dependencies[name][1] == calls
        assert loaded.dependencies[name][0] == pytest.approx(p95, abs=0.005)


def test_a_hand_edited_saved_report_is_read_defensively() -> None:
    """Odd values in a saved file give a baseline with what could be read, not a traceback."""
    data = {"schema": SCHEMA, "invocations": "40", "duration_ms": "fast",
            "dependencies": [{"name": "s3.GetObject", "p95_ms": "12.5", "calls": None},
                             "junk", {"p95_ms": 3.0}]}
    baseline = Baseline.from_report(report_from_json(data))
    assert baseline.invocations == 40 and baseline.duration_p95_ms is None
    assert baseline.dependencies == {"s3.GetObject": (12.5, 0)}
