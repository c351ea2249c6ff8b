#!/usr/bin/env python3
"""Flag epoch-like number literals in tests that send data to a service.

CloudWatch Logs refuses events older than 14 days, EMF has the same window, and a Lambda deadline
lies in the future: a fixed timestamp in such a test passes on the day it is written and fails
a few weeks later (a clock bomb). A test file "talks to a service" when it uses the moto server,
an AWS endpoint, the CloudWatch sink or the local Runtime API; in those files every integer or
float that reads as epoch seconds or milliseconds between 2008 and 2099 is reported. Build such
timestamps from now (``tests/clocks.py``). A line that must keep one says why after
``# clock-ok:``.

Usage: scripts/check_clock_literals.py [PATH ...] (default: tests/); exit 0 clean, 1 found, 2 usage.
"""

from __future__ import annotations

import io
import re
import sys
import tokenize
from datetime import datetime, timezone
from pathlib import Path

#: What a test that sends data to a real (local) service contains.
SERVICE_MARKERS = re.compile(
    r"\bmoto\b|moto_server|ThreadedMotoServer|put_log_events|put_metric_data|CloudWatchSink"
    r"|endpoint_url|--endpoint-url|RuntimeAPIServer|deadline_ms"
)
#: Epoch seconds and milliseconds from 2008-01 to 2099-12.
SECONDS = (1_200_000_000, 4_100_000_000)
MILLISECONDS = (SECONDS[0] * 1000, SECONDS[1] * 1000)
PRAGMA = "# clock-ok:"
SKIP_DIRS = {"data", "__pycache__"}


def epoch_seconds(token: str) -> float | None:
    """The moment a number literal would name, in epoch seconds, or None if it names none."""
    text = token.replace("_", "").lower()
    if text.startswith(("0x", "0o", "0b")) or text.endswith("j"):
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    if SECONDS[0] <= value < SECONDS[1]:
        return value
    if MILLISECONDS[0] <= value < MILLISECONDS[1]:
        return value / 1000
    return None


def problems(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    if not SERVICE_MARKERS.search(source):
        return []
    lines = source.splitlines()
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type != tokenize.NUMBER:
            continue
        moment = epoch_seconds(tok.string)
        row = tok.start[0]
        if moment is None or PRAGMA in lines[row - 1]:
            continue
        when = datetime.fromtimestamp(moment, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        found.append(
            f"{_shown(path)}:{row}: epoch-like literal {tok.string} ({when}) in a test that "
            "talks to a service: build it from now (tests/clocks.py) or say why after "
            "'# clock-ok:'"
        )
    return found


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def python_files(paths: list[Path]) -> list[Path]:
    files = []
    for path in paths:
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            for found in sorted(path.rglob("*.py")):
                if not SKIP_DIRS & set(found.relative_to(path).parts):
                    files.append(found)
        else:
            raise FileNotFoundError(path)
    return files


def main(argv: list[str]) -> int:
    if any(arg.startswith("-") for arg in argv):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    roots = [Path(arg) for arg in argv] or [Path(__file__).resolve().parent.parent / "tests"]
    try:
        files = python_files(roots)
    except FileNotFoundError as exc:
        print(f"check_clock_literals: no such file or directory: {exc}", file=sys.stderr)
        return 2
    found = [line for path in files for line in problems(path)]
    for line in found:
        print(line)
    if found:
        print(f"check_clock_literals: {len(found)} clock bomb(s)", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
