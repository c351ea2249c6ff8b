"""The baseline: from an aggregate or a saved report, and latency regressions against it."""


from __future__ import annotations

import json

import pytest
from findings_support import aggregate, kinds, only
from join_builders import T0, invocation

from lambda_trace.analyzer.findings import (
    Baseline,
    find_all,
)
from lambda_trace.analyzer.render.json_report import render_json
from lambda_trace.analyzer.report import report_from_aggregate, report_from_json


def test_latency_regression_against_a_baseline() -> None:
    """A dependency p95 going from 50 ms to 100 ms (+100%) is a high-severity regression."""
    events = []
    for i in range(20):
        events += invocation(f"r{i}", t0=T0 + i * 1000, duration=120,
                             calls=[("s3.GetObject", 0, 100.0), ("sqs.SendMessage", 101, 5.0)])
    baseline = Baseline(invocations=20, duration_p95_ms=118.0,
                        dependencies={"s3.GetObject": (50.0, 20), "sqs.SendMessage": (5.0, 20)})
    findings = find_all(aggregate(events), baseline)
    f = only(findings, "latency_regression")
    assert (f.subject, f.severity) == ("s3.GetObject", "high")
    assert f.evidence["baseline_p95_ms"] == 50.0
    assert f.evidence["p95_ms"] == pytest.approx(100.0, rel=0.011)
    assert f.evidence["change_pct"] == pytest.approx(100.0, abs=1.5)
    assert "latency_regression" not in kinds(find_all(aggregate(events)))


def test_baseline_from_a_saved_json_report() -> None:
    """A ``--format json`` report read back gives the same p95 per dependency."""
    events = invocation("a", calls=[("s3.GetObject", 0, 40.0)])
    agg = aggregate(events)
    saved = json.loads(render_json(report_from_aggregate(agg, find_all(agg))))
    baseline = Baseline.from_report(report_from_json(saved))
    assert baseline.dependencies["s3.GetObject"][0] == pytest.approx(40.0, rel=0.011)
    assert baseline.invocations == 1
    with pytest.raises(ValueError):
        report_from_json({"invocations": 1})
