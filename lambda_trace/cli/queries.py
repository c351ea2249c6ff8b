"""``lambda-trace queries``: its arguments; ``lambda_trace.analyzer.cmd_queries`` runs it."""

from __future__ import annotations

import argparse

from lambda_trace.cli.choices import QUERY_KEYS

DESCRIPTION = (
    "Print CloudWatch Logs Insights queries for a function's log group: slowest "
    "dependencies with percentiles, timeouts with the call in flight, errors by class, "
    "memory by invocation and cold starts. Paste them into the console's Logs Insights "
    "page (log groups named in each comment) or pass them to `aws logs start-query`."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--function", action="append", metavar="NAME",
                        help="the function (a name or ARN; repeatable)")
    parser.add_argument("--log-group", action="append", metavar="GROUP",
                        help="a log group (repeatable)")
    parser.add_argument("--query", action="append", choices=QUERY_KEYS,
                        metavar="KEY", help="only these queries (repeatable): "
                        + ", ".join(QUERY_KEYS))
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text (default) or JSON: [{key, title, log_groups, query}]")


def run(args: argparse.Namespace) -> int:
    from lambda_trace.analyzer.cmd_queries import run as queries

    return queries(args)
