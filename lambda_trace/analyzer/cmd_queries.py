"""``lambda-trace queries --function NAME``: CloudWatch Logs Insights queries to paste into the
console (or ``aws logs start-query``), over lambda-trace's records and Lambda's own lines."""

from __future__ import annotations

import argparse
import json
import sys

from lambda_trace.analyzer.cloudwatch import function_log_group
from lambda_trace.analyzer.errors import CliError
from lambda_trace.analyzer.insights_queries import QUERIES, render_queries


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
