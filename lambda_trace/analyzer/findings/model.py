"""What a finding is, the kinds in report order, the finders' tunable limits, and the
roundings they share."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Optional, TypedDict

from lambda_trace.analyzer.aggregate import DependencyStats
from lambda_trace.finding_kinds import KINDS as KINDS  # re-exported: the rules sort by it

SEVERITIES = ("high", "medium", "low", "info")


#: Lambda's memory setting: 128 MB to 10,240 MB in 1 MB steps.
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10240


class FindingEntry(TypedDict):
    """A finding as the report holds it (``findings``, and each function's)."""

    kind: str
    severity: str
    subject: str
    function: Optional[str]
    evidence: dict[str, Any]
    advice: str


@dataclass
class Finding:
    """One thing the report says: what and about what, how bad, why we think so, what to do."""

    kind: str
    severity: str
    subject: str
    evidence: dict[str, Any]
    advice: str
    #: the function it is about (None: not known, e.g. a plain log copy)
    function: Optional[str] = None

    def to_dict(self) -> FindingEntry:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "subject": self.subject,
            "function": self.function,
            "evidence": self.evidence,
            "advice": self.advice,
        }


@dataclass
class Thresholds:
    """Tunable limits of the finders."""

    #: a memory size needs this many invocations before memory advice is given about it
    min_samples: int = 20
    #: overprovisioned when the highest peak is below this share of Memory Size
    overprovisioned_ratio: float = 0.5
    #: headroom above the highest observed peak in a recommended memory size
    memory_headroom: float = 1.3
    #: a p95 must grow by this share and by at least ``regression_min_ms`` to be a regression
    regression_ratio: float = 0.2
    regression_min_ms: float = 5.0
    #: a slow_dependency is high (medium) only when it costs at least this much time per
    #: invocation on average: half of a 30 ms invocation is where time goes, not a problem
    slow_high_ms_per_invocation: float = 100.0
    slow_medium_ms_per_invocation: float = 20.0


def round_memory(mb: float) -> int:
    """Up to a multiple of 64 MB, within Lambda's limits."""
    value = int(math.ceil(mb / 64.0) * 64)
    return max(MIN_MEMORY_MB, min(MAX_MEMORY_MB, value))


def by_total(deps: Iterable[DependencyStats]) -> list[DependencyStats]:
    return sorted(deps, key=lambda d: (-d.total_ms, d.name))


def ratio(a: float, b: float) -> Optional[float]:
    return a / b if b else None


def round_to(value: Optional[float], digits: int = 1) -> Optional[float]:
    return None if value is None else round(value, digits)


def clip(text: Optional[str], limit: int) -> Optional[str]:
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"
