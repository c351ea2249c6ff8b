"""``lambda-trace events``: its arguments; ``lambda_trace.analyzer.cmd_events`` runs it."""

from __future__ import annotations

import argparse

from lambda_trace.cli.argtypes import event_types
from lambda_trace.cli.choices import EVENT_TYPES
from lambda_trace.cli.sources import add_source_arguments

DESCRIPTION = (
    "Parse Lambda's log lines (platform START/END/REPORT, INIT/RESTORE, timeouts, crashes, "
    "runtime errors, AccessDenied, EMF) and lambda-trace records from files, stdin or "
    "CloudWatch, and print each recognised event as one JSON object per line. A summary "
    "of counts goes to stderr."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    parser.add_argument(
        "--type",
        dest="types",
        action="append",
        type=event_types(EVENT_TYPES),
        metavar="TYPE[,TYPE]",
        help="print only these event types (repeatable): " + ", ".join(sorted(EVENT_TYPES)),
    )


def run(args: argparse.Namespace) -> int:
    from lambda_trace.analyzer.cmd_events import run as events

    return events(args)
