"""``lambda-trace show``: its arguments; ``lambda_trace.analyzer.cmd_show`` runs it."""

from __future__ import annotations

import argparse

from lambda_trace.cli.sources import add_source_arguments

DESCRIPTION = (
    "Show one invocation: its platform lines, each call with its start offset and "
    "duration (segments nested), its app log lines (secrets masked), the error and its "
    "traceback, and the REPORT numbers. Exit codes: 0 shown, 2 not found or bad usage, "
    "3 AWS error."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("request_id", metavar="REQUEST_ID", help="the invocation's request id")
    add_source_arguments(parser)
    parser.add_argument("--format", choices=("terminal", "json"), default="terminal",
                        help="output format (default: terminal)")


def run(args: argparse.Namespace) -> int:
    from lambda_trace.analyzer.cmd_show import run as show

    return show(args)
