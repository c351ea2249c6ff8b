"""``lambda-trace analyze``: its arguments; ``lambda_trace.analyzer.cmd_analyze`` runs it.

The options of ``analyze --function`` (metrics and configuration, ``function_checks``) and of
``--follow`` (``follow``) are here too, so that ``analyze --help`` loads no analysis module.
"""

from __future__ import annotations

import argparse

from lambda_trace.cli.argtypes import finding_kinds, non_negative, positive_int, rate, seconds
from lambda_trace.cli.choices import FINDING_KINDS
from lambda_trace.cli.sources import add_source_arguments

#: the report formats (``lambda_trace.analyzer.cmd_analyze.render`` writes each)
FORMATS = ("terminal", "json", "markdown")

DESCRIPTION = (
    "Join Lambda's log lines and lambda-trace records into invocations and report slow "
    "dependencies, timeouts, memory, permission and code errors, cold starts and cost, "
    "each with advice. Exit codes: 0 ok, 1 a --fail-on/--max-* gate failed, "
    "2 usage or input error, 3 AWS error (credentials, access)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=FORMATS, default="terminal",
                     help="report format on stdout (default: terminal)")
    out.add_argument("-o", "--output", metavar="FILE",
                     help="write the report to FILE instead of stdout")
    out.add_argument("--html", metavar="FILE",
                     help="also write a self-contained HTML page with charts to FILE")
    out.add_argument("--top", type=positive_int, default=20, metavar="N",
                     help="rows per table (default: 20)")
    analysis = parser.add_argument_group("analysis")
    analysis.add_argument(
        "--baseline", metavar="FILE|SINCE..UNTIL",
        help="compare p95 latencies with a saved --format json report, a log file, or an "
             "earlier CloudWatch window of the same log group (e.g. 8d..1d)")
    analysis.add_argument("--n-plus-one", type=positive_int, default=5, metavar="CALLS",
                          help="sequential calls to one operation that count as N+1 (default 5)")
    analysis.add_argument("--jobs", type=positive_int, default=1, metavar="N",
                          help="parse one large uncompressed file in N processes (default 1); "
                               "the report is the same")
    gate = parser.add_argument_group("CI gate (exit code 1 when it fails)")
    gate.add_argument("--fail-on", type=finding_kinds(FINDING_KINDS), default=(),
                      metavar="KIND[,KIND]",
                      help="fail when a finding of these kinds is reported ('any' for all): "
                           + ", ".join(FINDING_KINDS))
    gate.add_argument("--max-p95-ms", type=non_negative, metavar="MS",
                      help="fail when the invocation duration p95 is above MS")
    gate.add_argument("--max-error-rate", type=rate, metavar="RATE",
                      help="fail when (errors + timeouts) / invocations is above RATE "
                           "(0.05 or 5%%)")
    _function_check_arguments(parser)
    _follow_arguments(parser)


def _function_check_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("metrics and configuration (with --function)")
    group.add_argument("--no-metrics", action="store_true",
                       help="do not read the functions' CloudWatch metrics")
    group.add_argument("--no-config", action="store_true",
                       help="do not read the functions' configuration, policies and triggers")
    group.add_argument("--bucket", action="append", default=[], metavar="BUCKET",
                       help="an S3 bucket whose notifications may target the function "
                            "(repeatable; default: those in the resource policy and up to 50 "
                            "of the account's buckets)")
    group.add_argument("--full-logs", action="store_true",
                       help="in a window over a day, read all logs instead of only around the "
                            "failures the metrics show")


def _follow_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("live tail (CloudWatch Logs)")
    group.add_argument("--follow", action="store_true",
                       help="keep reading new events and show the analysis live; Ctrl-C prints "
                            "the final report (needs --function or --log-group)")
    group.add_argument("--follow-interval", type=seconds, default=2.0, metavar="SECONDS",
                       help="seconds between reads (default 2)")
    group.add_argument("--follow-max-seconds", type=seconds, metavar="SECONDS",
                       help="stop by itself after this long, as if Ctrl-C was pressed")


def run(args: argparse.Namespace) -> int:
    from lambda_trace.analyzer.cmd_analyze import run as analyze

    return analyze(args)
