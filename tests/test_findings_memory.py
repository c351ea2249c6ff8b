"""Findings about memory: pressure near the limit, an oversized setting, and its cost."""


from __future__ import annotations

import pytest
from findings_support import aggregate, kinds, only
from join_builders import T0, invocation

from lambda_trace.analyzer.findings import (
    find_all,
)


def test_memory_pressure_on_failures_near_the_limit() -> None:
    """A timeout at 980 of 1024 MB is memory pressure; 1536 MB is recommended."""
    events = invocation("a", duration=3000, timeout_s=3.0, memory=1024, used=980)
    f = only(find_all(aggregate(events)), "memory_pressure")
    assert f.evidence == {"failures_near_limit": 1, "peak_max_mb": 980.0,
                          "memory_size_mb": 1024, "recommended_memory_mb": 1536}


def test_overprovisioned_memory_recommends_a_smaller_size() -> None:
    """20 invocations peaking at 119 of 1024 MB: recommend 192 MB (119 x 1.3, up to 64 MB)."""
    events = []
    for i in range(20):
        events += invocation(f"r{i}", t0=T0 + i * 1000, memory=1024, used=100 + i)
    findings = find_all(aggregate(events))
    f = only(findings, "overprovisioned_memory")
    assert f.evidence["recommended_memory_mb"] == 192
    assert f.evidence["peak_max_mb"] == 119.0
    assert f.evidence["invocations"] == 20
    assert f.evidence["peak_p50_mb"] == pytest.approx(109.0, rel=0.011)
    assert "CPU" in f.advice


def test_overprovisioned_memory_needs_enough_samples() -> None:
    """A handful of invocations is not enough to recommend a memory size."""
    events = invocation("a", memory=1024, used=100)
    assert "overprovisioned_memory" not in kinds(find_all(aggregate(events)))


def test_memory_cost_compares_sizes_seen_in_the_logs() -> None:
    """512 MB x 200 ms costs more GB-s than 1024 MB x 90 ms; 1024 MB is cheapest and fastest."""
    events = []
    for i in range(20):
        events += invocation(f"s{i}", t0=T0 + i * 1000, memory=512, used=200, duration=200,
                             billed=200)
        events += invocation(f"l{i}", t0=T0 + i * 1000 + 500, memory=1024, used=200,
                             duration=90, billed=90, stream="other-stream")
    f = only(find_all(aggregate(events)), "memory_cost")
    rows = {r["memory_size_mb"]: r for r in f.evidence["sizes"]}
    assert rows[512]["gb_seconds_per_1000"] == 100.0  # 0.2 s x 0.5 GB x 1000
    assert rows[1024]["gb_seconds_per_1000"] == 90.0  # 0.09 s x 1 GB x 1000
    assert rows[512]["usd_per_million"] == 1.67
    assert (f.evidence["cheapest_mb"], f.evidence["fastest_mb"]) == (1024, 1024)
    assert "1024 MB was both the fastest" in f.advice
