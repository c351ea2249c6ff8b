"""The command line moved to ``lambda_trace.cli`` (above the analyzer and the local runner).

``main`` is re-exported so callers of ``lambda_trace.analyzer.cli.main`` and
``python -m lambda_trace.analyzer.cli`` keep working.
"""

from __future__ import annotations

import sys

from lambda_trace.cli.exits import missing_extra
from lambda_trace.cli.shell import main

__all__ = ["main", "missing_extra"]

if __name__ == "__main__":
    sys.exit(main())
