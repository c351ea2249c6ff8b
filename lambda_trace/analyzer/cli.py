"""``lambda-trace``: a thin shell over one module per sub-command.

Each command module exposes ``add_parser(subparsers)`` and ``run(args) -> int``. A ``CliError``
becomes one line on stderr and its exit code, and so does a missing optional dependency (with the
extra to install); nothing else escapes as a traceback to the user except genuine bugs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any, NoReturn, Optional

from lambda_trace import __version__
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

#: optional dependency (top-level module) -> the extra of pyproject.toml that installs it
OPTIONAL_DEPENDENCIES = {
    "rich": "analyzer",
    "boto3": "analyzer",
    "botocore": "analyzer",
    "orjson": "analyzer",
    "awslambdaric": "local",
    "moto": "local",
    "yaml": "local",
    "cfn_flip": "local",
    "samtranslator": "local",
    "PIL": "samples",
    "requests": "samples",
}
EXIT_USAGE = 2


def missing_extra(exc: ImportError) -> Optional[str]:
    """The line to print for a missing optional dependency, or None for any other import error."""
    name = (getattr(exc, "name", None) or "").split(".")[0]
    extra = OPTIONAL_DEPENDENCIES.get(name)
    if extra is None:
        return None
    return f"{name} is not installed (an optional dependency): pip install 'lambda-trace[{extra}]'"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lambda-trace",
        description="Read AWS Lambda logs and report bottlenecks and failure causes.",
    )
    parser.add_argument("--version", action="version", version=f"lambda-trace {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for command, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            message = missing_extra(exc)
            if message is not None:
                _unavailable(sub, command, message)
                continue
            # A command module that is not shipped at all is left out, not fatal.
            if isinstance(exc, ModuleNotFoundError) and exc.name == module_name:
                continue
            raise
        module.add_parser(sub)
    return parser


def _unavailable(sub: Any, command: str, message: str) -> None:
    """A command whose dependencies are missing: it says which extra to install when run."""
    # No prefix character: every argument (``--help`` too) is swallowed, none is an error.
    parser = sub.add_parser(command, help=f"(unavailable: {message})", add_help=False,
                            prefix_chars="\x00")
    parser.add_argument("rest", nargs=argparse.REMAINDER)

    def run(args: argparse.Namespace) -> NoReturn:
        raise CliError(message, EXIT_USAGE)

    parser.set_defaults(func=run)


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"lambda-trace: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except ImportError as exc:
        message = missing_extra(exc)
        if message is None:
            raise
        print(f"lambda-trace: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("lambda-trace: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `lambda-trace events ... | head`: the reader left; not an error worth a traceback.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
