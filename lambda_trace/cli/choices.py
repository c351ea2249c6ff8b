"""The names and defaults the commands' help lists, copied here so ``--help`` imports nothing.

Their owners are the analyzer's and the local runner's modules (named beside each); importing
those to build a parser would load the analysis pipeline (≈100 ms) before ``--help`` can print.
tests/test_cli_shell.py checks that every copy equals its owner's value.
"""

from __future__ import annotations

#: ``lambda_trace.analyzer.findings.KINDS`` (``analyze --fail-on``)
FINDING_KINDS = (
    "no_invocations",
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

#: the keys of ``lambda_trace.analyzer.model.EVENT_KEYS`` (``events --type``)
EVENT_TYPES = frozenset({
    "start", "end", "report", "init_start", "init_report", "timeout", "runtime_exit", "error",
    "access_denied", "emf", "restore_start", "restore_report", "extension", "subscription",
    "runtime_done", "logs_dropped", "call", "invocation", "timeout_warning", "memory_warning",
})

#: ``key`` of each ``lambda_trace.analyzer.insights_queries.QUERIES`` (``queries --query``)
QUERY_KEYS = (
    "slowest-dependencies",
    "timeouts-in-flight",
    "timeouts-by-call",
    "lambda-timeouts",
    "errors-by-class",
    "lambda-errors-by-class",
    "memory-by-invocation",
    "cold-starts",
)

#: ``lambda_trace.local.events.KINDS`` (``invoke --generate-event``)
SAMPLE_EVENTS = ("s3-put", "apigateway-v2", "sqs", "eventbridge")

#: ``lambda_trace.analyzer.timewindow.HELP`` (``--since``)
TIME_HELP = (
    "relative (30s, 15m, 1h, 2d, 1w, 1h30m), ISO 8601 (UTC unless it has a zone) or epoch ms"
)

#: ``lambda_trace.analyzer.sources.DEFAULT_CLOUDWATCH_SINCE``
DEFAULT_CLOUDWATCH_SINCE = "1h"
#: time slices of a CloudWatch window read at once (analyzer/prefetch.py)
DEFAULT_CLOUDWATCH_FETCHERS = 4

#: ``lambda_trace.analyzer.inputs.DEFAULT_MAX_DECOMPRESSED`` (``--max-decompressed``; help: 8G)
DEFAULT_MAX_DECOMPRESSED = 8 * 1024**3
