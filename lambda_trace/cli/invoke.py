"""``lambda-trace invoke``: its arguments; ``lambda_trace.local.cmd_invoke`` runs it."""

from __future__ import annotations

import argparse

from lambda_trace.cli.argtypes import count
from lambda_trace.cli.choices import SAMPLE_EVENTS

DESCRIPTION = (
    "Run a function of a SAM template with the genuine Lambda runtime interface client, "
    "its timeout and memory size enforced, and Lambda's log lines. AWS calls go to an "
    "embedded moto server holding the resources the template declares (buckets, tables, "
    "queues, topics, secrets, parameters, keys, event buses), or to --endpoint-url. "
    "Exit codes: 0 all invocations succeeded, 1 one failed, 2 usage or input error, "
    "3 CloudWatch Logs did not store every log event."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--function",
        "-f",
        metavar="NAME",
        help="logical id (e.g. Thumbnail) or function name (required, except to print "
        "a --generate-event)",
    )
    parser.add_argument(
        "--template",
        "-t",
        default="template.yaml",
        metavar="FILE",
        help="SAM template (default: ./template.yaml)",
    )
    parser.add_argument(
        "--event", "-e", metavar="FILE", help="event JSON file, '-' for stdin (default: {})"
    )
    parser.add_argument(
        "--generate-event",
        choices=SAMPLE_EVENTS,
        metavar="KIND",
        help=f"invoke with a sample event ({', '.join(SAMPLE_EVENTS)}; the shapes of sam local "
        "generate-event, naming the template's bucket/queue/rule when it has one); "
        "without --function, print it",
    )
    parser.add_argument(
        "--env-vars",
        metavar="FILE",
        help='SAM CLI environment file: {"Function": {"VAR": "value"}, "Parameters": {...}}',
    )
    parser.add_argument(
        "--seed",
        metavar="FILE.py",
        help="a Python file whose seed(session) puts test data in before the invocations",
    )
    parser.add_argument(
        "--times",
        "-n",
        type=count,
        default=1,
        metavar="N",
        help="invoke N times in the same (warm) environment (default: 1)",
    )
    parser.add_argument(
        "--parameter",
        "-p",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="template parameter override (repeatable; SAM's "
        "ParameterKey=K,ParameterValue=V works too)",
    )
    parser.add_argument(
        "--client-context",
        metavar="JSON",
        help="client context passed to the handler (context.client_context)",
    )
    aws = parser.add_argument_group("AWS")
    aws.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="use this moto/LocalStack endpoint instead of an embedded moto server "
        "(nothing is created there unless --provision)",
    )
    aws.add_argument(
        "--provision",
        action="store_true",
        help="with --endpoint-url: create the template's resources and the functions' roles "
        "there (and the sample data, for the sample template)",
    )
    aws.add_argument(
        "--no-iam", action="store_true", help="do not enforce the functions' IAM policies"
    )
    out = parser.add_argument_group("logs")
    out.add_argument("--quiet", "-q", action="store_true", help="no log lines on stdout")
    out.add_argument(
        "--log-file",
        metavar="FILE",
        help="append the log events to FILE as JSON lines (filter-log-events shape)",
    )
    out.add_argument(
        "--cloudwatch",
        action="store_true",
        help="also put the log events into the function's CloudWatch log group at the AWS endpoint",
    )


def run(args: argparse.Namespace) -> int:
    from lambda_trace.local.cmd_invoke import run as invoke

    return invoke(args)
