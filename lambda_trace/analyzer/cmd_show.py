"""``lambda-trace show REQUEST_ID [SOURCES...]``: one invocation's timeline.

Platform lines, each call with its start offset and duration (segments nested), app log lines,
the error with its traceback and the REPORT numbers, in the terminal or as JSON. On CloudWatch
the id is first looked up with a server-side filter pattern (FilterLogEvents), which gives its
log stream and time; then only that stream, around that time, is read whole.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Iterator
from typing import Any, Optional

from lambda_trace.analyzer.errors import CliError
from lambda_trace.analyzer.invocation_detail import collect, valid_request_id
from lambda_trace.analyzer.model import LogEvent
from lambda_trace.analyzer.sources import SourceStats, open_sources
from lambda_trace.analyzer.timestamps import ms_to_iso

#: read this much either side of the id's first and last lines in the narrowed window
MARGIN_MS = 2_000


def run(args: argparse.Namespace) -> int:
    rid = args.request_id.strip()
    if not valid_request_id(rid):
        raise CliError(f"{args.request_id!r} is not a request id")
    detail = collect(_log_events(args, rid), rid)
    if detail is None:
        raise CliError(f"request id {rid} is not in the input")
    if args.format == "json":
        json.dump(detail, sys.stdout, indent=2, ensure_ascii=False, allow_nan=False)
        sys.stdout.write("\n")
        return 0
    from lambda_trace.analyzer.render.show import render_invocation

    render_invocation(detail, sys.stdout)
    return 0


def _log_events(args: argparse.Namespace, rid: str) -> Iterator[LogEvent]:
    stats = SourceStats()
    if not (args.function or args.log_group):
        return open_sources(args, stats)
    files: Iterator[LogEvent] = iter(())
    if args.paths:
        files = open_sources(_copy(args, function=None, log_group=None), stats)
    return itertools.chain(files, _cloudwatch(args, rid, stats))


def _cloudwatch(args: argparse.Namespace, rid: str, stats: SourceStats) -> Iterator[LogEvent]:
    """The id's lines found by a filter pattern, then its stream read whole around them."""
    cw = _copy(args, paths=[], filter_pattern=f'"{rid}"')
    hits = list(open_sources(cw, stats))
    if not hits:
        return
    by_stream: dict[Optional[str], list[int]] = {}
    for hit in hits:
        if hit.timestamp_ms is not None:
            by_stream.setdefault(hit.log_stream, []).append(hit.timestamp_ms)
    stream, stamps = max(by_stream.items(), key=lambda kv: len(kv[1]), default=(None, []))
    if stream is None or not stamps:
        yield from hits
        return
    narrowed = _copy(
        args, paths=[], log_streams=[stream],
        since=ms_to_iso(min(stamps) - MARGIN_MS), until=ms_to_iso(max(stamps) + MARGIN_MS),
    )
    yield from open_sources(narrowed, stats)


def _copy(args: argparse.Namespace, **changes: Any) -> argparse.Namespace:
    copy = argparse.Namespace(**vars(args))
    for key, value in changes.items():
        setattr(copy, key, value)
    return copy
