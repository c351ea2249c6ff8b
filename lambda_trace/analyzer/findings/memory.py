"""Finders for memory and its cost: pressure near the limit, an oversized setting, and what a
smaller one would cost (out-of-memory itself is in ``causes``)."""

from __future__ import annotations

from typing import Any, Optional

from lambda_trace.analyzer.aggregate import MEMORY_PRESSURE_RATIO, Aggregator
from lambda_trace.analyzer.findings.baseline import Baseline
from lambda_trace.analyzer.findings.model import (
    MIN_MEMORY_MB,
    Finding,
    Thresholds,
    round_memory,
    round_to,
)

#: x86 on-demand price per GB-second (us-east-1, first tier), for the cost comparison only.
# https://aws.amazon.com/lambda/pricing/
PRICE_PER_GB_SECOND = 0.0000166667


def memory_pressure(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    if not agg.memory_pressure:
        return []
    sizes = [int(k) for k, _, _, _ in agg.pressure_sizes.items()]
    size = max(sizes) if sizes else None
    peak_max = agg.pressure_peaks.max if agg.pressure_peaks.count else None
    recommended = round_memory(size * 1.5) if size else None
    evidence = {
        "failures_near_limit": agg.memory_pressure,
        "peak_max_mb": round_to(peak_max),
        "memory_size_mb": size,
        "recommended_memory_mb": recommended,
    }
    advice = (
        f"{agg.memory_pressure} timed-out or failed invocation"
        f"{'' if agg.memory_pressure == 1 else 's'} used at least "
        f"{round(100 * MEMORY_PRESSURE_RATIO)}% of their memory: garbage collection slows a "
        "function near its limit, and the next larger input crashes it. "
        + (f"Raise MemorySize to about {recommended} MB. " if recommended else "Raise MemorySize. ")
        + "More memory also gives proportionally more CPU."
    )
    subject = f"{size} MB" if size else "function"
    return [Finding("memory_pressure", "medium", subject, evidence, advice)]


def overprovisioned_memory(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    found = []
    for size, mem in sorted(agg.memory_sizes.items()):
        if size <= MIN_MEMORY_MB or mem.invocations < t.min_samples or not mem.peak.count:
            continue
        if mem.failures or mem.peak.max >= t.overprovisioned_ratio * size:
            continue
        recommended = max(MIN_MEMORY_MB, round_memory(mem.peak.max * t.memory_headroom))
        if recommended >= size:
            continue
        p50, p95, p99 = mem.peak.quantiles([0.5, 0.95, 0.99])
        evidence = {
            "memory_size_mb": size,
            "invocations": mem.invocations,
            "peak_p50_mb": round_to(p50),
            "peak_p95_mb": round_to(p95),
            "peak_p99_mb": round_to(p99),
            "peak_max_mb": round_to(mem.peak.max),
            "recommended_memory_mb": recommended,
        }
        advice = (
            f"The highest Max Memory Used is {round_to(mem.peak.max)} MB of {size} MB. "
            "Try MemorySize "
            f"{recommended} MB: the price per millisecond falls with memory, but so does CPU "
            "(one full vCPU at 1,769 MB), so compare duration after the change; a CPU-bound "
            "function may get slower and cost as much."
        )
        found.append(Finding("overprovisioned_memory", "low", f"{size} MB", evidence, advice))
    return found


def memory_cost(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    rows: list[dict[str, Any]] = []
    for size, mem in sorted(agg.memory_sizes.items()):
        if size <= 0 or mem.invocations < t.min_samples or not mem.duration.count:
            continue
        p50, p95 = mem.duration.quantiles([0.5, 0.95])
        billed = mem.billed_ms / mem.billed_count if mem.billed_count else mem.duration.mean
        gb_s = (billed or 0.0) / 1000 * size / 1024
        rows.append({
            "memory_size_mb": size,
            "invocations": mem.invocations,
            "duration_p50_ms": round_to(p50),
            "duration_p95_ms": round_to(p95),
            "billed_mean_ms": round_to(billed),
            "gb_seconds_per_1000": round_to(gb_s * 1000, 4),
            "usd_per_million": round_to(gb_s * 1_000_000 * PRICE_PER_GB_SECOND, 2),
        })
    if len(rows) < 2:
        return []
    cheapest = min(rows, key=lambda r: r["gb_seconds_per_1000"] or 0.0)
    fastest = min(rows, key=lambda r: r["duration_p95_ms"] or 0.0)
    evidence = {"sizes": rows, "cheapest_mb": cheapest["memory_size_mb"],
                "fastest_mb": fastest["memory_size_mb"],
                "price_per_gb_second": PRICE_PER_GB_SECOND}
    if cheapest is fastest:
        advice = (
            f"{cheapest['memory_size_mb']} MB was both the fastest (p95 "
            f"{cheapest['duration_p95_ms']} ms) and the cheapest of the sizes in these logs: "
            "use it."
        )
    else:
        advice = (
            f"{cheapest['memory_size_mb']} MB was the cheapest per invocation and "
            f"{fastest['memory_size_mb']} MB the fastest (p95 {fastest['duration_p95_ms']} ms). "
            "Pick the cheapest unless the latency matters more than the bill."
        )
    advice += " (Compute cost only, at the x86 on-demand price; requests are billed extra.)"
    return [Finding("memory_cost", "info", "memory size", evidence, advice)]
