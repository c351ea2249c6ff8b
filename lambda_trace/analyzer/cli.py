"""``lambda-trace``: a thin shell over one module per sub-command.

Each command module exposes ``add_parser(subparsers)`` and ``run(args) -> int``. A ``CliError``
becomes one line on stderr and its exit code; nothing else escapes as a traceback to the user
except genuine bugs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Optional

from lambda_trace.analyzer.errors import CliError

#: sub-command -> module implementing it (imported only when that command runs)
COMMANDS = {
    "events": "lambda_trace.analyzer.cmd_events",
    "analyze": "lambda_trace.analyzer.cmd_analyze",
    "show": "lambda_trace.analyzer.cmd_show",
    "queries": "lambda_trace.analyzer.cmd_queries",
    "invoke": "lambda_trace.local.cmd_invoke",
    "demo": "lambda_trace.local.cmd_demo",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lambda-trace",
        description="Read AWS Lambda logs and report bottlenecks and failure causes.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module_name in COMMANDS.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # A command whose optional dependencies are not installed is left out, not fatal.
            if exc.name == module_name:
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"lambda-trace: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("lambda-trace: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `lambda-trace events ... | head`: the reader left; not an error worth a traceback.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
