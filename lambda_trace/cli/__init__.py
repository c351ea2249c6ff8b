"""``lambda-trace``: the command line, above the analyzer and the local runner.

``shell`` builds the top-level parser from a static table and imports only the chosen command's
module (``events``, ``analyze``, ``show``, ``queries``, ``invoke``, ``demo``); each of those adds
its arguments and hands the parsed arguments to its implementation, imported when it runs.
``argtypes`` holds the argument types they share, ``exits`` the one place errors become an exit
code and one line on stderr.
"""

from __future__ import annotations

from lambda_trace.cli.shell import main

__all__ = ["main"]
