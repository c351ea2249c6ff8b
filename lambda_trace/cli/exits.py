"""Errors to exit codes: the one place a failure becomes a single line on stderr.

A ``CliError`` prints its message and exits with its code; a missing optional dependency names
the extra that installs it (exit 2); Ctrl-C exits 130 and a closed pipe 0. Anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import sys
from typing import Callable, Optional

from lambda_trace.errors import CliError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

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


def missing_extra(exc: ImportError) -> Optional[str]:
    """The line to print for a missing optional dependency, or None for any other import error."""
    name = (getattr(exc, "name", None) or "").split(".")[0]
    extra = OPTIONAL_DEPENDENCIES.get(name)
    if extra is None:
        return None
    return f"{name} is not installed (an optional dependency): pip install 'lambda-trace[{extra}]'"


def exit_code(run: Callable[[], int]) -> int:
    """``run()``'s exit code, with the user-facing failures turned into one line on stderr."""
    try:
        return run()
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
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `lambda-trace events ... | head`: the reader left; not an error worth a traceback.
        sys.stderr.close()
        return 0
