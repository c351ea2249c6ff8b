"""The numbers of an earlier period, and ``latency_regression`` against them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from lambda_trace.analyzer.aggregate import Aggregator
from lambda_trace.analyzer.findings.model import Finding, Thresholds, by_total, round_to
from lambda_trace.analyzer.numbers import as_float

if TYPE_CHECKING:
    from lambda_trace.analyzer.report import Report


@dataclass
class Baseline:
    """The numbers of an earlier period that ``latency_regression`` compares against."""

    invocations: int = 0
    duration_p95_ms: Optional[float] = None
    #: dependency name -> (p95 ms, calls)
    dependencies: dict[str, tuple[Optional[float], int]] = field(default_factory=dict)
    label: str = "baseline"

    @classmethod
    def from_aggregate(cls, agg: Aggregator, label: str = "baseline") -> Baseline:
        deps = {
            name: (dep.sketch.quantile(0.95), dep.calls) for name, dep in agg.dependencies.items()
        }
        return cls(agg.invocations, agg.duration.quantile(0.95), deps, label)

    @classmethod
    def from_report(cls, report: Report, label: str = "baseline") -> Baseline:
        """From a report (a saved ``--format json`` one, loaded by ``report_from_json``).

        A saved file may be hand-edited or of another version: each value is read defensively.
        """
        data: Mapping[str, Any] = report.document
        deps: dict[str, tuple[Optional[float], int]] = {}
        for dep in data.get("dependencies") or []:
            if isinstance(dep, dict) and dep.get("name") is not None:
                deps[str(dep["name"])] = (as_float(dep.get("p95_ms")), int(dep.get("calls") or 0))
        duration = data.get("duration_ms")
        if not isinstance(duration, dict):
            duration = {}
        return cls(
            int(data.get("invocations") or 0), as_float(duration.get("p95")), deps, label
        )


def latency_regression(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    if b is None:
        return []
    found = []
    for row in compare_with_baseline(agg, b):
        base, now = row["baseline_p95_ms"], row["p95_ms"]
        if base is None or now is None or base <= 0:
            continue
        if now - base < t.regression_min_ms or now < base * (1 + t.regression_ratio):
            continue
        severity = "high" if now >= 2 * base else "medium"
        subject = row["name"]
        advice = (
            f"p95 of {subject} went from {base} ms to {now} ms ({row['change_pct']:+.0f}%) against "
            f"{b.label}. Look at what changed in between: a deploy (code, dependencies, memory), "
            "the dependency's load or limits, or bigger inputs."
        )
        found.append(Finding("latency_regression", severity, subject, row, advice))
    return found


def compare_with_baseline(agg: Aggregator, b: Baseline) -> list[dict[str, Any]]:
    """The p95 of the whole invocation and of each dependency, now and in the baseline."""
    rows = [_change("(invocation duration)", b.duration_p95_ms, agg.duration.quantile(0.95),
                    b.invocations, agg.invocations)]
    for dep in by_total(agg.dependencies.values()):
        base_p95, base_calls = b.dependencies.get(dep.name, (None, 0))
        rows.append(_change(dep.name, base_p95, dep.sketch.quantile(0.95), base_calls, dep.calls))
    return rows


def _change(name: str, base: Optional[float], now: Optional[float], base_n: int,
            now_n: int) -> dict[str, Any]:
    change = None
    if base and now is not None:
        change = round_to((now - base) / base * 100, 1)
    return {"name": name, "baseline_p95_ms": round_to(base), "p95_ms": round_to(now),
            "change_pct": change,
            "baseline_count": base_n, "count": now_n}
