"""``lambda-trace queries --function NAME``: CloudWatch Logs Insights queries to paste into the
console (or ``aws logs start-query``), over lambda-trace's records and Lambda's own lines."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from lambda_trace.analyzer.cloudwatch import function_log_group
from lambda_trace.analyzer.errors import CliError
from lambda_trace.analyzer.insights_queries import QUERIES, render_queries


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "queries",
        help="print ready-to-paste CloudWatch Logs Insights queries",
        description=(
            "Print CloudWatch Logs Insights queries for a function's log group: slowest "
            "dependencies with percentiles, timeouts with the call in flight, errors by class, "
            "memory by invocation and cold starts. Paste them into the console's Logs Insights "
            "page (log groups named in each comment) or pass them to `aws logs start-query`."
        ),
    )
    parser.add_argument("--function", action="append", metavar="NAME",
                        help="the function (a name or ARN; repeatable)")
    parser.add_argument("--log-group", action="append", metavar="GROUP",
                        help="a log group (repeatable)")
    parser.add_argument("--query", action="append", choices=[q.key for q in QUERIES],
                        metavar="KEY", help="only these queries (repeatable): "
                        + ", ".join(q.key for q in QUERIES))
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text (default) or JSON: [{key, title, log_groups, query}]")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    groups = [function_log_group(f)[0] for f in args.function or ()]
    groups += [g for g in args.log_group or () if g.strip()]
    if not groups:
        raise CliError("queries needs --function NAME or --log-group GROUP")
    keys = tuple(args.query or ())
    if args.format == "json":
        chosen = [q for q in QUERIES if not keys or q.key in keys]
        json.dump([{"key": q.key, "title": q.title, "log_groups": groups, "query": q.text}
                   for q in chosen], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_queries(groups, keys))
    return 0
