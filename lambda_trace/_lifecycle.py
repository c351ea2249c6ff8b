"""Start and finish one invocation: state, watchdog, records, EMF; every failure swallowed."""

from __future__ import annotations

import os
import time

from lambda_trace import _emf, _invocation, _lastword, _memory, _records, _safety, context
from lambda_trace._config import Settings
from lambda_trace._invocation import Invocation
from lambda_trace._watchdog import Watchdog, default_margin_ms
from lambda_trace.sinks import BEGIN_ATTR, LINES_ATTR, get_default_sink

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Optional

#: Init types for which "import -> first invocation" is not init time (the environment waited).
_PRE_INITIALISED = frozenset({"provisioned-concurrency", "snap-start"})

_watchdog: list[Watchdog] = []


def _get_watchdog() -> Watchdog:
    if not _watchdog:
        _watchdog.append(Watchdog(on_timeout, on_memory))
    return _watchdog[0]


class HandlerTracer:
    """The per-handler part: Settings fixed at decoration, an Invocation per call."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.wants_line = _invocation.line_filter(settings)

    def start(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Optional[Invocation]:
        """Begin tracing an invocation; None (call untraced) if one is already running."""
        if _invocation.current is not None:
            return None  # nested decorated call, or a second concurrent invocation: untraced
        try:
            return self._start(args, kwargs)
        except Exception as exc:
            _invocation.current = None
            _safety.report("invocation start", exc)
            return None

    def _start(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Invocation:
        settings = self.settings
        ctx = _find_context(args, kwargs)
        remaining = context.remaining_ms(ctx)
        sink = settings.sink or get_default_sink()
        begin = getattr(sink, BEGIN_ATTR, None)
        if begin is not None:
            begin()  # the stdout sink checks fd 1 still is the stdout it writes to
        inv = Invocation(
            settings,
            sink,
            context.request_id(ctx),
            context.function_name(ctx),
            remaining,
            context.memory_limit_mb(ctx),
            self.wants_line,
        )
        inv.context = ctx
        inv.cold_start = _invocation.take_cold_start()
        if inv.cold_start:
            inv.init_type = os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")
            if inv.init_type not in _PRE_INITIALISED:
                inv.init_ms = round((inv.start_ns - _invocation.IMPORTED_NS) / 1e6, 3)
        try:
            probe = _memory.probe()
            inv.peak_reset = probe.reset_peak()
            if not inv.peak_reset:
                inv.rss_seen = probe.rss_bytes() or 0
        except Exception as exc:  # /proc unreadable or stranger: trace without memory
            _safety.report("memory", exc)
        if settings.watchdog:
            fire_at = None
            if remaining is not None:
                margin = settings.timeout_margin_ms
                if margin is None:
                    margin = default_margin_ms(remaining)
                inv.deadline_ns = inv.start_ns + int(remaining * 1e6)
                fire_at = inv.deadline_ns - int(margin * 1e6)
            threshold = None
            if inv.memory_limit_mb and settings.memory_warning_ratio > 0:
                threshold = int(inv.memory_limit_mb * settings.memory_warning_ratio * 1024 * 1024)
            if fire_at is not None or threshold is not None:
                _get_watchdog().arm(inv, fire_at, threshold, settings.memory_poll_ms)
            if fire_at is not None and inv.deadline_ns is not None and _lastword.enabled():
                try:
                    due = _lastword.dump_at(fire_at, inv.deadline_ns)
                    _lastword.arm((due - time.perf_counter_ns()) / 1e9)
                    inv.stack_dump_armed = True
                except Exception as exc:  # stderr closed at the first arming, or stranger
                    _safety.report("stack dump", exc)
        _invocation.current = inv
        return inv

    def finish(self, inv: Invocation, exc: Optional[BaseException]) -> None:
        """Write the invocation record and EMF documents; never raises.

        Each part fails on its own (reported once per kind): a broken memory reader costs the
        peak, not the record; a failing sink or Powertools costs the lines, not the handler.
        """
        end_ns = time.perf_counter_ns()
        _invocation.current = None
        inv.finished = True
        try:
            if _watchdog:
                _watchdog[0].disarm()
            if inv.stack_dump_armed:
                _lastword.cancel()
            remaining = context.remaining_ms(inv.context)
            try:
                peak = _peak_bytes(inv)
            except Exception as err:
                _safety.report("memory", err)
                peak = None
            error = None
            if exc is not None:
                from lambda_trace import _errors  # `re` (≈5 ms): only once a handler fails

                error = _errors.describe_exception(exc)
            line = _records.invocation_line(
                inv,
                end_ns,
                cold_start=inv.cold_start,
                init_type=inv.init_type,
                init_ms=inv.init_ms,
                remaining_ms=remaining,
                memory_peak_mb=_memory.to_mb(peak),
                error=error,
            )
        except Exception as err:
            _safety.report("invocation end", err)
            return
        write_lines = None if inv.cold_start else getattr(inv.sink, LINES_ATTR, None)
        if write_lines is None or not self.settings.metrics:
            # The first flush imports Powertools (tens of ms): the record goes out before it.
            emit(inv, line)
            if self.settings.metrics:
                try:
                    _write_lines(inv, _flush_metrics(inv, end_ns, peak, error))
                except Exception as err:
                    _safety.report("metrics", err)
            return
        lines = [line]
        try:
            lines.extend(_flush_metrics(inv, end_ns, peak, error))
        except Exception as err:
            _safety.report("metrics", err)
        try:  # one system call for the record and its EMF documents
            write_lines(lines)
        except Exception as err:
            _safety.report("sink", err)


def emit(inv: Invocation, line: str) -> None:
    """Give ``line`` to the invocation's sink; a failing sink is reported once, never raised."""
    try:
        inv.sink(line)
    except Exception as exc:  # stdout closed, EPIPE, a user's sink raising
        _safety.report("sink", exc)


def _find_context(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``handler(event, context)``; also a method ``(self, event, context)`` or ``context=``."""
    if "context" in kwargs:
        return kwargs["context"]
    for arg in args[1:]:
        if hasattr(arg, "get_remaining_time_in_millis") or hasattr(arg, "aws_request_id"):
            return arg
    return args[1] if len(args) > 1 else None


def _peak_bytes(inv: Invocation) -> Optional[int]:
    probe = _memory.probe()
    if inv.peak_reset:
        return probe.peak_bytes_since_reset()
    now = probe.rss_bytes() or 0
    peak = max(inv.rss_seen, now)
    return peak or None


def _write_lines(inv: Invocation, lines: list[str]) -> None:
    for line in lines:
        emit(inv, line)


#: The (name, unit) pairs of the usual end-of-invocation EMF document, by what is known.
_OWN_SHAPE = (("Duration", "Milliseconds"), ("ColdStart", "Count"), ("Errors", "Count"))
_OWN_SHAPE_PEAK = (*_OWN_SHAPE, ("MemoryUsedMB", "Megabytes"))
_OWN_SHAPE_SHARE = (*_OWN_SHAPE_PEAK, ("MemoryUtilization", "Percent"))


def _flush_metrics(
    inv: Invocation, end_ns: int, peak: Optional[int], error: Optional[dict[str, Any]]
) -> list[str]:
    """The EMF lines of the end of an invocation (the caller writes them)."""
    values: list[Any] = [
        round((end_ns - inv.start_ns) / 1e6, 3),
        1 if inv.cold_start else 0,
        1 if error else 0,
    ]
    shape: tuple[tuple[str, str], ...] = _OWN_SHAPE
    if peak is not None:
        values.append(round(peak / (1024 * 1024), 1))
        shape = _OWN_SHAPE_PEAK
        if inv.memory_limit_mb:
            values.append(round(100.0 * peak / (inv.memory_limit_mb * 1024 * 1024), 1))
            shape = _OWN_SHAPE_SHARE
    if not error and not inv.stats and not inv.user_metrics:  # the usual: one known document
        line = _emf.own_document(
            inv.settings.namespace,
            inv.function_name or "unknown",
            (inv.start_epoch_ns + (end_ns - inv.start_ns)) // 1_000_000,
            shape,
            values,
        )
        if line is not None:
            return [line]
    own: list[_emf.Metric] = [(name, unit, v) for (name, unit), v in zip(shape, values)]
    error_class = None
    if error:
        error_class = error.get("error_class") or "handler"
    return _metric_lines(inv, own, error_class, end_ns)


def _metric_lines(
    inv: Invocation, own: list[_emf.Metric], error_class: Optional[str], now_ns: int
) -> list[str]:
    downstream: list[tuple[str, str, int, int, list[float]]] = []
    user: list[_emf.Metric] = []
    if inv.stats or inv.user_metrics:  # the usual invocation has neither: skip the lock
        with inv.metrics_lock:
            downstream = _downstream(inv) if inv.stats else []
            user = _emf.user_metric_list(inv.take_user_metrics())
    return _emf.documents(
        inv.settings.namespace,
        inv.function_name or "unknown",
        (inv.start_epoch_ns + (now_ns - inv.start_ns)) // 1_000_000,
        own,
        user,
        error_class,
        downstream,
    )


def _downstream(inv: Invocation) -> list[tuple[str, str, int, int, list[float]]]:
    """Per (Service, Operation) counts and latencies not yet published (see on_timeout)."""
    out = []
    published = inv.metrics_published
    current = inv.stats_snapshot()
    for name, (count, _, _, errors, kind, values) in current.items():
        if kind == "segment" or name == _invocation.OTHER:
            continue
        done = published.get(name, (0, 0, 0))
        calls = count - done[0]
        if calls <= 0:
            continue
        if kind == "aws":
            service, _, operation = name.partition(".")
        else:
            service, operation = "http", name[len("http ") :]
        latencies = [round(v / 1e6, 3) for v in values[done[2] :]]
        out.append((service, operation, calls, errors - done[1], latencies))
    # Remember what went out, so a later flush publishes only the rest.
    inv.metrics_published = {n: (s[0], s[3], len(s[5])) for n, s in current.items()}
    return out


def on_timeout(inv: Invocation, now_ns: int) -> None:
    """Watchdog: the deadline is near. Write the warning, then flush pending metrics."""
    inv.timed_out = True
    remaining = None
    if inv.deadline_ns is not None:
        remaining = (inv.deadline_ns - now_ns) / 1e6
    emit(inv, _records.timeout_warning_line(inv, now_ns, remaining))
    if inv.settings.metrics:
        try:
            _write_lines(inv, _metric_lines(inv, [("Timeouts", "Count", 1)], None, now_ns))
        except Exception as exc:
            _safety.report("metrics", exc)


def on_memory(inv: Invocation, now_ns: int, rss_bytes: int) -> None:
    """Watchdog: RSS crossed the warning share of the memory limit."""
    emit(inv, _records.memory_warning_line(inv, now_ns, rss_bytes))
