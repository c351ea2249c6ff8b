"""The slowest invocations' entries: when each started, its calls, and the call in flight at a
timeout."""

from __future__ import annotations

from typing import Any, Optional, TypedDict

from lambda_trace.analyzer.call_stats import summary_counts
from lambda_trace.analyzer.join import UNNAMED, Invocation
from lambda_trace.analyzer.model import Event
from lambda_trace.analyzer.numbers import as_float
from lambda_trace.analyzer.outcomes import Outcome
from lambda_trace.analyzer.timestamps import iso_to_ms


class _SlowEntry(TypedDict):
    request_id: Optional[str]
    log_stream: Optional[str]
    start_ms: Optional[float]
    duration_ms: float
    status: str
    memory_size_mb: Optional[float]
    max_memory_used_mb: Optional[float]
    #: name, start_ms, duration_ms, status (and ``open``: the call in flight at a timeout)
    calls: list[dict[str, Any]]
    calls_not_shown: int


class SlowEntry(_SlowEntry, total=False):
    """One of the slowest invocations as the aggregate keeps it (the report rounds it)."""

    #: a timed-out invocation with a timeout warning: the longest-running call at it
    in_flight: Optional[dict[str, Any]]


def start_time_ms(inv: Invocation, duration: Optional[float]) -> Optional[float]:
    """When the invocation started, from START, else REPORT minus duration, else our record."""
    if inv.start_ts is not None:
        return float(inv.start_ts)
    if inv.report is not None and inv.report.get("timestamp_ms") is not None:
        return float(inv.report["timestamp_ms"]) - (duration or 0.0)
    if inv.record is not None:
        if inv.record.get("timestamp_ms") is not None:
            return float(inv.record["timestamp_ms"]) - (duration or 0.0)
        text = inv.record.get("timestamp")
        parsed = iso_to_ms(text) if isinstance(text, str) else None
        if parsed is not None:
            return parsed - (duration or 0.0)
    return None


def slow_entry(
    inv: Invocation, duration: float, ts: Optional[float], outcome: Outcome,
    size: Optional[float], peak: Optional[float],
) -> SlowEntry:
    if outcome.timed_out:
        status = "timeout"
    elif outcome.failed:
        status = "error"
    else:
        status = "success"
    calls = sorted(
        ({"name": str(c.name or UNNAMED), "start_ms": as_float(c.start_ms),
          "duration_ms": as_float(c.duration_ms) or 0.0, "status": str(c.status or "ok")}
         for c in inv.calls),
        key=lambda c: (c["start_ms"] is None, c["start_ms"] or 0.0),
    )
    not_shown = inv.calls_dropped
    entry: SlowEntry = {
        "request_id": inv.request_id,
        "log_stream": inv.log_stream,
        "start_ms": ts,
        "duration_ms": duration,
        "status": status,
        "memory_size_mb": size,
        "max_memory_used_mb": peak,
        "calls": calls,
        "calls_not_shown": not_shown,
    }
    if outcome.timed_out and inv.timeout_warning is not None:
        _add_in_flight(entry, inv.timeout_warning, duration)
    return entry


def _add_in_flight(entry: SlowEntry, warning: Event, duration: float) -> None:
    """A timed-out invocation: the call in flight at the watchdog's warning, as an open bar.

    Lambda ends a timed-out invocation without letting it write more (no call record for the
    call that was running, often no invocation record), so the warning's ``in_flight`` list and
    ``calls`` summary are what says which call it was and how many calls there had been.
    """
    running = [c for c in warning.get("in_flight") or () if isinstance(c, dict)]
    elapsed = as_float(warning.get("elapsed_ms"))
    longest = max(running, key=lambda c: as_float(c.get("running_ms")) or 0.0, default=None)
    kept = len(entry["calls"])
    summary = warning.get("calls")
    counted = 0
    if isinstance(summary, dict):
        for stats in summary.values():
            if isinstance(stats, dict):
                counted += summary_counts(stats)[0]
    if longest is None:
        entry["in_flight"] = None
    else:
        running_ms = as_float(longest.get("running_ms")) or 0.0
        entry["in_flight"] = {"name": str(longest.get("name") or UNNAMED),
                              "kind": longest.get("kind"), "running_ms": running_ms}
    for call in running:
        running_ms = as_float(call.get("running_ms")) or 0.0
        start = elapsed - running_ms if elapsed is not None else None
        # The bar runs to the deadline: the invocation's end (REPORT's duration).
        end = duration if duration and start is not None and duration > start else None
        entry["calls"].append({
            "name": str(call.get("name") or UNNAMED),
            "start_ms": start,
            "duration_ms": (end - start) if end is not None and start is not None
            else running_ms,
            "status": "in_flight",
            "open": True,
        })
    # Finished calls the warning's summary counted that left no record.
    entry["calls_not_shown"] = max(entry["calls_not_shown"], counted - kept)
