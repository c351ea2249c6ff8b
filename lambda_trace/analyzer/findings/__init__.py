"""Turn aggregated statistics into findings: what went wrong or costs time, and what to change.

Each finder is a pure function of the :class:`~lambda_trace.analyzer.aggregate.Aggregator` (and,
for regressions, a :class:`Baseline`); they are listed in ``FINDERS`` and run in that order. The
finders live by family: ``failures`` (the function's own), ``causes`` (the platform's, and
out-of-memory), ``latency``, ``memory`` (and cost), ``baseline``; the configuration checks of
``analyze --function`` are ``findings_config``.
"""

from __future__ import annotations

from typing import Callable, Optional

from lambda_trace.analyzer.aggregate import Aggregator
from lambda_trace.analyzer.findings.baseline import (
    Baseline,
    compare_with_baseline,
    latency_regression,
)
from lambda_trace.analyzer.findings.causes import (
    dependency_errors,
    extension_failures,
    init_failures,
    out_of_memory,
    runtime_crashes,
)
from lambda_trace.analyzer.findings.failures import (
    code_errors,
    no_invocations,
    permission_denied,
    role_name,
    timeouts,
)
from lambda_trace.analyzer.findings.latency import (
    batch_advice,
    cold_start,
    n_plus_one,
    retries,
    slow_dependency,
    throttling,
)
from lambda_trace.analyzer.findings.limits import resource_limits
from lambda_trace.analyzer.findings.memory import (
    memory_cost,
    memory_pressure,
    overprovisioned_memory,
)
from lambda_trace.analyzer.findings.model import (
    KINDS,
    MAX_MEMORY_MB,
    MIN_MEMORY_MB,
    SEVERITIES,
    Finding,
    Thresholds,
)

__all__ = [
    "FINDERS", "KINDS", "MAX_MEMORY_MB", "MIN_MEMORY_MB", "SEVERITIES", "Baseline", "Finder",
    "Finding",
    "Thresholds", "batch_advice", "compare_with_baseline", "find_all", "role_name",
]

Finder = Callable[[Aggregator, Thresholds, Optional[Baseline]], list[Finding]]


def find_all(
    agg: Aggregator,
    baseline: Optional[Baseline] = None,
    thresholds: Optional[Thresholds] = None,
) -> list[Finding]:
    """Every finding, most severe first (then in ``KINDS`` order)."""
    thresholds = thresholds or Thresholds()
    found: list[Finding] = []
    for finder in FINDERS:
        found.extend(finder(agg, thresholds, baseline))
    found.sort(key=lambda f: (SEVERITIES.index(f.severity), KINDS.index(f.kind)))
    return found


FINDERS: tuple[Finder, ...] = (
    no_invocations,
    timeouts,
    out_of_memory,
    memory_pressure,
    init_failures,
    extension_failures,
    runtime_crashes,
    permission_denied,
    dependency_errors,
    resource_limits,
    code_errors,
    throttling,
    retries,
    latency_regression,
    slow_dependency,
    n_plus_one,
    cold_start,
    overprovisioned_memory,
    memory_cost,
)
