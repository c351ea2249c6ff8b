"""The top-level parser, built from a static table: only the chosen command's module is imported.

``lambda-trace --help`` lists every command from ``COMMANDS`` alone. For ``lambda-trace analyze
...`` the shell imports ``lambda_trace.cli.analyze``, which adds analyze's arguments; the other
commands get an empty sub-parser carrying only their one-line help (argparse never parses with
it). Each command module has ``DESCRIPTION``, ``add_arguments(parser)`` and ``run(args) -> int``,
and imports its implementation only in ``run``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NamedTuple, Optional

from lambda_trace import __version__
from lambda_trace.cli.exits import exit_code


class Command(NamedTuple):
    module: str
    help: str


#: sub-command -> the module adding its arguments, and its line in ``lambda-trace --help``
COMMANDS = {
    "events": Command(
        "lambda_trace.cli.events",
        "print the events found in Lambda logs, one JSON object per line"),
    "analyze": Command("lambda_trace.cli.analyze", "report bottlenecks and failure causes"),
    "show": Command(
        "lambda_trace.cli.show",
        "one invocation's timeline: platform lines, calls, logs, error, REPORT"),
    "queries": Command(
        "lambda_trace.cli.queries", "print ready-to-paste CloudWatch Logs Insights queries"),
    "invoke": Command(
        "lambda_trace.cli.invoke",
        "run a function from template.yaml locally (genuine runtime, Lambda's limits)"),
    "demo": Command(
        "lambda_trace.cli.demo",
        "run every sample function locally with its planted problem, then analyze the logs"),
}


def chosen_command(argv: Sequence[str]) -> Optional[str]:
    """The sub-command named in ``argv``: its first word not an option (the top level has only
    ``--help`` and ``--version``, which take no value), if it is a command."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def build_parser(command: Optional[str] = None) -> argparse.ArgumentParser:
    """The parser, with ``command``'s arguments (its module imported) and the others' help only."""
    parser = argparse.ArgumentParser(
        prog="lambda-trace",
        description="Read AWS Lambda logs and report bottlenecks and failure causes.",
    )
    parser.add_argument("--version", action="version", version=f"lambda-trace {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, entry in COMMANDS.items():
        subparser = sub.add_parser(name, help=entry.help)
        if name == command:
            # __import__ (not importlib.import_module): `-X importtime` then lists the module
            __import__(entry.module)
            module = sys.modules[entry.module]
            subparser.description = module.DESCRIPTION
            module.add_arguments(subparser)
            subparser.set_defaults(func=module.run)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``lambda-trace``: the exit code of the chosen command (argparse exits itself on usage)."""

    def run() -> int:
        args_list = list(sys.argv[1:] if argv is None else argv)
        args = build_parser(chosen_command(args_list)).parse_args(args_list)
        return int(args.func(args) or 0)

    return exit_code(run)
