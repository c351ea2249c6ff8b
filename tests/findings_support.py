"""Helpers of the findings tests: aggregate events, pick one finding, compare evidence."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_trace.analyzer.aggregate import Aggregator, aggregate_events
from lambda_trace.analyzer.findings import Finding
from lambda_trace.analyzer.model import Event


def aggregate(events: list[Event]) -> Aggregator:
    return aggregate_events(events)[0]


def only(findings: list[Finding], kind: str) -> Finding:
    hits = [f for f in findings if f.kind == kind]
    assert len(hits) == 1, [f.kind for f in findings]
    return hits[0]


def kinds(findings: list[Finding]) -> set[str]:
    return {f.kind for f in findings}


def approx_evidence(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """Sketch percentiles are within 1%; everything else is exact."""
    assert set(actual) == set(expected), set(actual) ^ set(expected)
    for key, value in expected.items():
        if isinstance(value, float):
            assert actual[key] == pytest.approx(value, rel=0.011), key
        else:
            assert actual[key] == value, key
