"""The input options every command that reads logs shares (events, analyze, show).

``lambda_trace.analyzer.sources.open_sources`` reads what they name.
"""

from __future__ import annotations

import argparse

from lambda_trace.cli.argtypes import positive_int, size
from lambda_trace.cli.choices import (
    DEFAULT_CLOUDWATCH_FETCHERS,
    DEFAULT_CLOUDWATCH_SINCE,
    DEFAULT_MAX_DECOMPRESSED,
    TIME_HELP,
)


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Paths, CloudWatch Logs (function, log group, window, region, profile, endpoint), limits."""
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="log files: plain text, JSON lines or documents, .gz; - for standard input",
    )
    group = parser.add_argument_group("CloudWatch Logs")
    group.add_argument(
        "--function",
        action="append",
        metavar="NAME",
        help="read the function's log group /aws/lambda/NAME (a name or ARN; repeatable)",
    )
    group.add_argument(
        "--log-group", action="append", metavar="GROUP", help="read this log group (repeatable)"
    )
    group.add_argument(
        "--since",
        metavar="TIME",
        help=f"start of the time window: {TIME_HELP} (CloudWatch default: "
        f"{DEFAULT_CLOUDWATCH_SINCE}); files keep lines without a known time",
    )
    group.add_argument("--until", metavar="TIME", help="end of the time window (default: now)")
    group.add_argument(
        "--region",
        metavar="REGION",
        help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's)",
    )
    group.add_argument("--profile", metavar="PROFILE", help="AWS profile from ~/.aws/config")
    group.add_argument(
        "--endpoint-url", metavar="URL",
        help="AWS endpoint for every call: logs, metrics, configuration (moto, LocalStack)",
    )
    group.add_argument(
        "--insights",
        action="store_true",
        help="prefilter on the server with Logs Insights: fetches only platform lines, errors, "
        "lambda-trace records and EMF (faster for large windows; other app lines are left out)",
    )
    group.add_argument(
        "--fetchers",
        type=positive_int,
        default=DEFAULT_CLOUDWATCH_FETCHERS,
        metavar="N",
        help="read a window of 10 minutes or more as up to N time slices at once, still in time "
        f"order (default {DEFAULT_CLOUDWATCH_FETCHERS}; 1 reads page after page, e.g. when "
        "other tools share the account's FilterLogEvents quota)",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar on stderr while reading"
    )
    parser.add_argument(
        "--max-decompressed",
        metavar="SIZE",
        type=size,
        default=DEFAULT_MAX_DECOMPRESSED,
        help="stop reading a .gz input after this much log text (default: 8G; 0: no limit)",
    )
