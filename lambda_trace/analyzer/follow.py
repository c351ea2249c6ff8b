"""``lambda-trace analyze --follow``: tail CloudWatch Logs with the analysis on top.

Every ``--follow-interval`` seconds FilterLogEvents is asked for what arrived since the newest
event seen (minus an overlap, because CloudWatch makes events searchable a few seconds after
their timestamp; events already seen in the overlap are dropped). The events go through the same
parser, join and aggregation as a one-shot analysis, kept between polls. An invocation is final
one poll after its REPORT (a ``Task timed out`` line may follow it). On a terminal a rich
``Live`` view shows invocations, failures and the dependency table; otherwise one status line
per poll goes to stderr. Ctrl-C (or ``--follow-max-seconds``) ends it and prints the final
report in the chosen format.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from lambda_trace.analyzer.errors import CliError
from lambda_trace.analyzer.findings import Thresholds, find_all
from lambda_trace.analyzer.model import LogEvent
from lambda_trace.analyzer.pipeline import Pipeline
from lambda_trace.analyzer.render.common import counted, fmt_ms
from lambda_trace.analyzer.report import Report, report_from_aggregate
from lambda_trace.analyzer.sourcestats import SourceStats
from lambda_trace.analyzer.timewindow import TimeWindow, now_ms, parse_time

#: how far back each poll reaches before the newest event seen (ingestion delay)
OVERLAP_MS = 15_000
#: where the tail starts without --since
DEFAULT_START = "5m"
#: failures listed under the live view
RECENT_FAILURES = 5


class LiveAnalysis:
    """The analysis pipeline kept open between polls."""

    def __init__(self, n_plus_one: int = 5) -> None:
        self.pipeline = Pipeline(n_plus_one=n_plus_one, on_invocation=self._note_failure)
        self.agg = self.pipeline.fleet.combined
        self.failures: deque[dict[str, Any]] = deque(maxlen=RECENT_FAILURES)

    def feed(self, log_events: Iterable[LogEvent]) -> None:
        self.pipeline.feed(log_events)
        self.pipeline.finalise_completed()

    def finish(self) -> None:
        self.pipeline.finish()

    def _note_failure(self, inv: Any) -> None:
        report = inv.report or {}
        status = report.get("status")
        if inv.timed_out or status == "timeout":
            status = "timeout"
        elif inv.errors or inv.runtime_exit is not None or status == "error":
            status = "error"  # a handler error leaves REPORT's status at success in Text format
        else:
            return
        error = inv.errors[0] if inv.errors else {}
        self.failures.append({
            "request_id": inv.request_id, "status": status,
            "error_type": error.get("error_type") or report.get("error_type"),
        })

    def report(self, source_stats: SourceStats, top: int) -> Report:
        analysis = self.pipeline.analysis()
        return report_from_aggregate(self.agg, find_all(self.agg, None, Thresholds()),
                                     join_stats=analysis.join_stats,
                                     source_stats=source_stats,
                                     parse_stats=analysis.parse_stats, top=top)


class Tail:
    """New log events of the query's groups, poll after poll, each event once."""

    def __init__(self, query: Any, stats: SourceStats, start_ms: int) -> None:
        from lambda_trace.analyzer.cloudwatch import CloudWatchReader
        from lambda_trace.analyzer.progress import Progress

        self.reader = CloudWatchReader(query, stats, Progress(False))
        self.cursor = start_ms
        self._seen: dict[tuple[Any, ...], int] = {}

    def poll(self) -> Iterator[LogEvent]:
        end = now_ms()
        start = max(0, self.cursor - OVERLAP_MS)
        self.reader.query = dataclasses.replace(self.reader.query, window=TimeWindow(start, end))
        stats = self.reader.stats
        for event in self.reader.events():
            key = (event.log_group, event.log_stream, event.timestamp_ms, event.message)
            if key in self._seen:
                stats.events -= 1  # read again inside the overlap: counted once
                continue
            ts = event.timestamp_ms or end
            self._seen[key] = ts
            self.cursor = max(self.cursor, ts)
            yield event
        stats.inputs = len(self.reader.query.log_groups)  # the same groups, poll after poll
        # forget what can no longer come back inside the overlap
        horizon = self.cursor - OVERLAP_MS
        for key in [k for k, ts in self._seen.items() if ts < horizon]:
            del self._seen[key]


def follow(args: argparse.Namespace) -> tuple[Report, LiveAnalysis]:
    """Run the live tail until Ctrl-C or ``--follow-max-seconds``; the final report."""
    query = _query(args)
    stats = SourceStats()
    start = parse_time(args.since, now=now_ms()) if args.since else parse_time(
        DEFAULT_START, now=now_ms())
    tail = Tail(query, stats, start)
    live = LiveAnalysis(args.n_plus_one)
    deadline = None if args.follow_max_seconds is None else (
        time.monotonic() + args.follow_max_seconds)
    view = LiveView(args.top, " ".join(query.log_groups))
    try:
        with view:
            while True:
                live.feed(tail.poll())
                view.update(live.report(stats, args.top).document, live.failures)
                if deadline is not None and time.monotonic() >= deadline:
                    break
                pause = args.follow_interval
                if deadline is not None:
                    pause = max(0.0, min(pause, deadline - time.monotonic()))
                time.sleep(pause)
    except KeyboardInterrupt:
        pass  # Ctrl-C ends the tail: the final report follows
    live.finish()
    return live.report(stats, args.top), live


class LiveView:
    """A rich ``Live`` on a terminal; one status line per poll on stderr otherwise."""

    def __init__(self, top: int, groups: str) -> None:
        self.top = top
        self.groups = groups
        self.interactive = sys.stdout.isatty()
        self._live: Any = None
        self._last = ""

    def __enter__(self) -> LiveView:
        if self.interactive:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(console=Console(), auto_refresh=False, transient=True,
                              redirect_stdout=False, redirect_stderr=False)
            self._live.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            from rich.text import Text

            # Shrink the view to nothing first: the final report then starts where it began.
            self._live.update(Text(""), refresh=True)
            self._live.stop()

    def update(self, report: Mapping[str, Any], failures: Iterable[dict[str, Any]]) -> None:
        status = status_line(report, self.groups)
        if self._live is None:
            if status != self._last:
                print(f"lambda-trace: {status}", file=sys.stderr, flush=True)
                self._last = status
            return
        from rich.console import Group
        from rich.text import Text

        from lambda_trace.analyzer.render.layout import grid, pack, wrap
        from lambda_trace.analyzer.render.tables import dependencies_table, summary_table
        from lambda_trace.analyzer.render.terminal import terminal_width

        width = terminal_width(sys.stdout)
        parts: list[Any] = [Text(line, style="bold") for line in wrap(
            f"following {self.groups} (Ctrl-C stops and prints the report)", width, 2,
            first_indent=0)]
        parts.extend(Text(line) for line in pack(status_items(report), width, 2))
        parts.append(Text(""))
        parts.extend(Text(line) for line in grid(*summary_table(report), width, indent=2,
                                                 heading=None))
        failed = list(failures)
        if failed:
            parts += [Text(""), Text("Latest failures", style="bold")]
            parts.extend(Text(f"  {f['request_id']}  {f['status']}"
                              + (f"  {f['error_type']}" if f.get("error_type") else ""),
                              style="red") for f in failed)
        deps = report.get("dependencies") or []
        if deps:
            parts += [Text(""), Text("Dependencies (by total time)", style="bold")]
            parts.extend(Text(line) for line in grid(*dependencies_table(deps[:self.top]),
                                                     width, indent=2))
        self._live.update(Group(*parts), refresh=True)


def status_items(report: Mapping[str, Any]) -> list[str]:
    """``invocations: 12``, ``failed: 1``, ``p95: 212 ms``, ``last event: …``."""
    n = report.get("invocations") or 0
    failed = (report.get("errors") or 0) + (report.get("timeouts") or 0)
    items = [f"invocations: {n:,}", f"failed: {failed:,}"]
    p95 = (report.get("duration_ms") or {}).get("p95")
    if p95 is not None:
        items.append(f"p95: {fmt_ms(p95)}")
    last = (report.get("time_range") or {}).get("end")
    if last:
        items.append(f"last event: {last}")
    return items


def status_line(report: Mapping[str, Any], groups: str) -> str:
    n = report.get("invocations") or 0
    failed = (report.get("errors") or 0) + (report.get("timeouts") or 0)
    p95 = (report.get("duration_ms") or {}).get("p95")
    text = f"following {groups}: {n:,} {counted('invocations', n)}, {failed:,} failed"
    if p95 is not None:
        text += f", p95 {p95:g} ms"
    last = (report.get("time_range") or {}).get("end")
    return text + (f", last event {last}" if last else "")


def check_follow(args: argparse.Namespace) -> None:
    if getattr(args, "paths", None):
        raise CliError("--follow reads CloudWatch Logs: give --function or --log-group, not files")
    if not (getattr(args, "function", None) or getattr(args, "log_group", None)):
        raise CliError("--follow needs --function or --log-group")
    if getattr(args, "insights", False):
        raise CliError("--follow reads with FilterLogEvents; leave out --insights")
    if getattr(args, "until", None):
        raise CliError("--follow reads until Ctrl-C; leave out --until")
    if getattr(args, "baseline", None):
        raise CliError("--follow does not compare with a --baseline")


def _query(args: argparse.Namespace) -> Any:
    from lambda_trace.analyzer.cloudwatch import CloudWatchQuery
    from lambda_trace.analyzer.sources import requested_log_groups

    groups, arn_region = requested_log_groups(args)
    return CloudWatchQuery(
        log_groups=tuple(groups), window=TimeWindow(None, None),
        region=getattr(args, "region", None) or arn_region,
        profile=getattr(args, "profile", None), endpoint_url=getattr(args, "endpoint_url", None),
    )
