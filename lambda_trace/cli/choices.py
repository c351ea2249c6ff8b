"""The names and defaults the commands' help lists, copied here so ``--help`` imports nothing.

Their owners are the analyzer's and the local runner's modules (named beside each); importing
those to build a parser would load the analysis pipeline (≈100 ms) before ``--help`` can print.
tests/test_cli_shell.py checks that every copy equals its owner's value. The finding kinds
need no copy: ``lambda_trace.finding_kinds`` declares them, light enough to import here.
"""

from __future__ import annotations

from lambda_trace.finding_kinds import KINDS

#: ``analyze --fail-on`` lists these: one declaration, light enough for ``--help``
FINDING_KINDS = KINDS

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
