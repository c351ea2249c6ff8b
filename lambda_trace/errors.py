"""The one error type the CLI turns into a single line on stderr and a non-zero exit.

It lives below the analyzer and the local runner (both raise it) and needs no CLI to import.
"""

from __future__ import annotations


class CliError(Exception):
    """A user-facing failure: bad input, unreadable file, missing credentials, bad time window."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
