"""Where log events come from: files, stdin and CloudWatch Logs, with their envelopes taken off.

The input options are ``lambda_trace.cli.sources``'s; ``open_sources`` checks them all
(paths readable, time window sensible) before anything is read, then streams ``LogEvent``s:
files in the order given, then each CloudWatch log group.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterator
from typing import Any, Optional

from lambda_trace.analyzer.cloudwatch import (
    FETCHERS,
    CloudWatchQuery,
    function_log_group,
    read_cloudwatch,
)
from lambda_trace.analyzer.errors import CliError
from lambda_trace.analyzer.inputs import DEFAULT_MAX_DECOMPRESSED, Input, check_inputs, read_lines
from lambda_trace.analyzer.model import LogEvent
from lambda_trace.analyzer.progress import Progress, wanted
from lambda_trace.analyzer.sourcestats import SourceStats
from lambda_trace.analyzer.textreader import TextReader
from lambda_trace.analyzer.timewindow import TimeWindow, resolve_window

__all__ = ["SourceStats", "open_sources", "requested_log_groups"]

#: How far back CloudWatch is read when --since is not given.
DEFAULT_CLOUDWATCH_SINCE = "1h"

def _log_groups(args: argparse.Namespace) -> tuple[list[str], Optional[str]]:
    """The log groups asked for, and a region taken from a function ARN."""
    groups: list[str] = []
    region = None
    for function in getattr(args, "function", None) or ():
        group, arn_region = function_log_group(function)
        groups.append(group)
        region = region or arn_region
    for group in getattr(args, "log_group", None) or ():
        if not group.strip():
            raise CliError("--log-group needs a log group name")
        groups.append(group)
    return list(dict.fromkeys(groups)), region


def requested_log_groups(args: argparse.Namespace) -> tuple[list[str], Optional[str]]:
    """The log groups of ``--function``/``--log-group``, and a region from a function ARN."""
    return _log_groups(args)


def open_sources(args: argparse.Namespace, stats: SourceStats) -> Iterator[LogEvent]:
    """Every log event of the inputs in ``args``; raises CliError now for unusable arguments."""
    paths: list[str] = list(getattr(args, "paths", None) or ())
    groups, arn_region = _log_groups(args)
    since, until = getattr(args, "since", None), getattr(args, "until", None)
    insights = bool(getattr(args, "insights", False))
    if not paths and not groups:
        raise CliError("no input: give log files, - for standard input, or --function/--log-group")
    if insights and not groups:
        raise CliError("--insights reads CloudWatch Logs: add --function or --log-group")
    inputs = check_inputs(paths)
    file_window = resolve_window(since, until)
    query = None
    if groups:
        query = CloudWatchQuery(
            log_groups=tuple(groups),
            window=resolve_window(
                since, until, default_since=DEFAULT_CLOUDWATCH_SINCE, default_until_now=True
            ),
            region=getattr(args, "region", None) or arn_region,
            profile=getattr(args, "profile", None),
            endpoint_url=getattr(args, "endpoint_url", None),
            insights=insights,
            missing_ok=bool(getattr(args, "missing_log_groups_ok", False)),
            filter_pattern=getattr(args, "filter_pattern", None),
            log_streams=tuple(getattr(args, "log_streams", None) or ()),
            fetchers=int(getattr(args, "fetchers", None) or FETCHERS),
        )
    max_decompressed = getattr(args, "max_decompressed", DEFAULT_MAX_DECOMPRESSED)
    show = wanted(bool(getattr(args, "no_progress", False)))
    return _events(inputs, file_window, query, stats, max_decompressed, show)


def _events(
    inputs: list[Input],
    file_window: TimeWindow,
    query: Optional[CloudWatchQuery],
    stats: SourceStats,
    max_decompressed: int,
    show_progress: bool,
) -> Iterator[LogEvent]:
    # chain.from_iterable walks each input's events in C: no Python frame per event here.
    return itertools.chain.from_iterable(
        _per_input(inputs, file_window, query, stats, max_decompressed, show_progress)
    )


def _per_input(
    inputs: list[Input],
    file_window: TimeWindow,
    query: Optional[CloudWatchQuery],
    stats: SourceStats,
    max_decompressed: int,
    show_progress: bool,
) -> Iterator[Iterator[LogEvent]]:
    progress = Progress(show_progress)
    try:
        for source in inputs:
            stats.inputs += 1
            on_progress = None
            if show_progress:
                on_progress = progress.task(source.name, source.size).progress_callback()
            reader = TextReader(source.name, stats, log_stream=source.log_stream)
            lines = read_lines(
                source, stats, max_decompressed=max_decompressed, on_progress=on_progress
            )
            events = reader.read(lines)
            yield _within(events, file_window, stats) if file_window.bounded else events
        if query is not None:
            yield read_cloudwatch(query, stats, progress)
    finally:
        progress.stop()


def _within(events: Iterator[LogEvent], window: TimeWindow, stats: SourceStats) -> Iterator[Any]:
    for event in events:
        ts = event.timestamp_ms
        if ts is None or window.contains(ts):
            yield event
        else:
            stats.outside_window += 1
