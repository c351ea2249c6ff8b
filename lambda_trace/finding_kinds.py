"""Every kind of finding the analyzer reports, declared once.

Stdlib-free and below both halves: the findings rules tag what they find with these names, and
the command line lists them for ``analyze --fail-on`` without importing the analysis pipeline.
"""

from __future__ import annotations

#: Every finding kind, in report order. ``--fail-on`` accepts these names.
KINDS = (
    "no_invocations",
    # from the function's configuration and metrics (findings_config)
    "not_invoked",
    "logs_not_written",
    "config_vs_observed",
    "timeout",
    "out_of_memory",
    "memory_pressure",
    "init_failure",
    "extension_failure",
    "runtime_crash",
    "permission_denied",
    "dependency_error",
    "resource_limit",
    "code_error",
    "throttling",
    "retries",
    "latency_regression",
    "slow_dependency",
    "n_plus_one",
    "cold_start",
    "overprovisioned_memory",
    "memory_cost",
)
