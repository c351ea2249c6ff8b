"""``lambda-trace events``: print every recognised event as one JSON object per line.

The events are the parser's normalised dicts (``model.EVENT_KEYS``), in input order; a one-line
summary of what was read and recognised goes to stderr at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import BinaryIO, Callable, Optional

from lambda_trace.analyzer.errors import CliError
from lambda_trace.analyzer.inputs import not_a_log
from lambda_trace.analyzer.model import Event
from lambda_trace.analyzer.parse import Parser
from lambda_trace.analyzer.sources import SourceStats, open_sources

#: Bytes of output gathered before one write (when stdout is not a terminal).
_WRITE_BYTES = 64 * 1024


def run(args: argparse.Namespace) -> int:
    wanted: Optional[frozenset[str]] = None
    if args.types:
        wanted = frozenset().union(*args.types)
    source_stats = SourceStats()
    parser = Parser()
    out: BinaryIO = sys.stdout.buffer
    interactive = sys.stdout.isatty()
    encode = _encoder()
    pending: list[bytes] = []
    size = 0
    for event in parser.iter_events(open_sources(args, source_stats)):
        if wanted is not None and event["type"] not in wanted:
            continue
        line = encode(event)
        pending.append(line)
        size += len(line)
        if interactive or size >= _WRITE_BYTES:
            out.write(b"".join(pending))
            out.flush()
            pending.clear()
            size = 0
    out.write(b"".join(pending))
    out.flush()
    problem = not_a_log(source_stats, sum(parser.stats.events.values()))
    if problem is not None:
        raise CliError(problem)
    print(f"lambda-trace: {parser.stats.summary()}; read {source_stats.summary()}",
          file=sys.stderr)
    # Where an input stopped early (a broken gzip, the decompression limit) and why.
    for note in source_stats.notes:
        print(f"lambda-trace: {note}", file=sys.stderr)
    return 0


def _encoder() -> Callable[[Event], bytes]:
    """One JSON line per event: orjson when installed, else the stdlib."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - exercised only where orjson is absent
        return _stdlib_line

    dumps = orjson.dumps
    option = orjson.OPT_APPEND_NEWLINE

    def encode(event: Event) -> bytes:
        try:
            return dumps(event, option=option)
        except TypeError:  # e.g. an integer beyond 64 bits in a record
            return _stdlib_line(event)

    return encode


def _stdlib_line(event: Event) -> bytes:
    text = json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.encode("utf-8", "replace") + b"\n"
