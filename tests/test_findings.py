"""All finders together: what the platform's lines alone give, and the findings' order."""


from __future__ import annotations

from findings_support import aggregate, kinds
from join_builders import T0, error, invocation

from lambda_trace.analyzer.findings import (
    KINDS,
    SEVERITIES,
    find_all,
)


def test_platform_lines_alone_give_findings_without_dependencies() -> None:
    """Logs of any Python function (no records) still produce timeout and error findings."""
    events = (invocation("a", duration=3000, timeout_s=3.0)
              + invocation("b", t0=T0 + 5000, extra=[error(None, "ValueError", "bad")]))
    found = kinds(find_all(aggregate(events)))
    assert {"timeout", "code_error"} <= found
    assert not found & {"slow_dependency", "n_plus_one"}


def test_findings_are_ordered_by_severity_then_kind() -> None:
    """Most severe first; every finding has a known kind, a severity and advice."""
    events = (invocation("cold", init=300.0)
              + invocation("a", t0=T0 + 1000, duration=3000, timeout_s=3.0)
              + invocation("b", t0=T0 + 5000, extra=[error(None, "ValueError", "bad")]))
    findings = find_all(aggregate(events))
    ranks = [(SEVERITIES.index(f.severity), KINDS.index(f.kind)) for f in findings]
    assert ranks == sorted(ranks) and len(findings) >= 3
    assert all(f.advice for f in findings)
