"""``lambda-trace demo``: its arguments; ``lambda_trace.local.cmd_demo`` runs it."""

from __future__ import annotations

import argparse

from lambda_trace.cli.argtypes import count

DESCRIPTION = (
    "Invoke each sample function of template.yaml many times on an embedded moto "
    "server (no AWS account), write the logs into its CloudWatch Logs and analyze them "
    "from there. Writes report.html, report.json and logs.jsonl into --out."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--template",
        "-t",
        default="template.yaml",
        metavar="FILE",
        help="the sample template (default: ./template.yaml)",
    )
    parser.add_argument(
        "--out",
        "-o",
        default="out",
        metavar="DIR",
        help="directory for report.html, report.json, logs.jsonl (default: out)",
    )
    parser.add_argument(
        "--invocations",
        "-n",
        type=count,
        default=24,
        metavar="N",
        help="invocations per function (default: 24)",
    )
    parser.add_argument(
        "--workers",
        type=count,
        default=3,
        metavar="N",
        help="functions run at the same time (default: 3)",
    )


def run(args: argparse.Namespace) -> int:
    from lambda_trace.local.cmd_demo import run as demo

    return demo(args)
