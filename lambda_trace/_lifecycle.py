"""Start and finish one invocation: state, watchdog, records, EMF; every failure swallowed."""

from __future__ import annotations

import atexit
import os
import time

from lambda_trace import (
    _emf,
    _invocation,
    _lastword,
    _memory,
    _powertools,
    _records,
    _safety,
    context,
)
from lambda_trace._config import Settings, Sink
from lambda_trace._invocation import Invocation
from lambda_trace._watchdog import Watchdog, default_margin_ms
from lambda_trace.sinks import BEGIN_ATTR, LINES_ATTR, get_default_sink

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Optional

    from lambda_trace._batch import Batch, Flushed, Key

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
            watchdog = None
            if fire_at is not None or threshold is not None:
                watchdog = _get_watchdog()
                watchdog.arm(inv, fire_at, threshold, settings.memory_poll_ms)
            if fire_at is not None and inv.deadline_ns is not None and _lastword.enabled():
                try:
                    due = _lastword.dump_at(fire_at, inv.deadline_ns)
                    # The watchdog thread receives the dump's timer signal (``_lastword``).
                    thread = getattr(watchdog, "_thread", None)
                    _lastword.arm((due - time.perf_counter_ns()) / 1e9,
                                  getattr(thread, "native_id", None))
                    inv.stack_dump_armed = True
                except Exception as exc:  # stderr closed at the first arming, or stranger
                    _safety.report("stack dump", exc)
        _invocation.current = inv
        return inv

    def finish(
        self, inv: Invocation, exc: Optional[BaseException], result: Any = None
    ) -> None:
        """Write the call lines the end decides on, the invocation record and EMF; never raises.

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
            peak_mb = _memory.to_mb(peak)
            status_code = _status_code(result)
            detail = _detail_reason(inv, end_ns, error, status_code)
            lines = inv.take_pending(detail is not None)
            lines.append(
                _records.invocation_line(
                    inv,
                    end_ns,
                    cold_start=inv.cold_start,
                    init_type=inv.init_type,
                    init_ms=inv.init_ms,
                    remaining_ms=remaining,
                    memory_peak_mb=peak_mb,
                    error=error,
                    status_code=status_code,
                    xray_trace_id=_powertools.xray_trace_id(),
                    correlation_id=_powertools.correlation_id(inv.service),
                    detail=detail if inv.settings.call_lines == "slow" else None,
                )
            )
        except Exception as err:
            _safety.report("invocation end", err)
            return
        write_lines = None if inv.cold_start else getattr(inv.sink, LINES_ATTR, None)
        # Slow but successful: its call lines are written, its metrics may still wait.
        failed = detail is not None and detail != "slow"
        if write_lines is None or not self.settings.metrics:
            # The first flush imports Powertools (tens of ms): the record goes out before it.
            _write_lines(inv, lines)
            if self.settings.metrics:
                try:
                    _write_lines(inv, _flush_metrics(inv, end_ns, peak, error, failed, peak_mb))
                except Exception as err:
                    _safety.report("metrics", err)
            return
        try:
            lines.extend(_flush_metrics(inv, end_ns, peak, error, failed, peak_mb))
        except Exception as err:
            _safety.report("metrics", err)
        try:  # one system call for the call lines, the record and its EMF documents
            write_lines(lines)
        except Exception as err:
            _safety.report("sink", err)


def _status_code(result: Any) -> Optional[int]:
    """``statusCode`` of a handler's dict result (API Gateway, ALB, function URLs), if an int.

    Nothing else of the response is read: its body and headers can carry anything.
    """
    if type(result) is dict:
        code = result.get("statusCode")
        if type(code) is int:
            return code
    return None


def _detail_reason(
    inv: Invocation, end_ns: int, error: Optional[dict[str, Any]], status_code: Optional[int]
) -> Optional[str]:
    """Why every call of this invocation gets its line (tail-based), or None: it is ordinary."""
    if error is not None:
        return "error"
    if status_code is not None and status_code >= 500:
        return "5xx"
    if inv.timed_out or inv.memory_warned:
        return "warning"
    if end_ns - inv.start_ns > inv.settings.slow_ms * 1_000_000:
        return "slow"
    return None


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
    if not lines:
        return
    write_lines = getattr(inv.sink, LINES_ATTR, None)
    if write_lines is not None and len(lines) > 1:
        try:  # one system call for all of them
            write_lines(lines)
        except Exception as exc:
            _safety.report("sink", exc)
        return
    for line in lines:
        emit(inv, line)


#: The (name, unit) pairs of the usual end-of-invocation EMF document, by what is known.
_OWN_SHAPE = (("Duration", "Milliseconds"), ("ColdStart", "Count"), ("Errors", "Count"))
_OWN_SHAPE_PEAK = (*_OWN_SHAPE, ("MemoryUsedMB", "Megabytes"))


def _flush_metrics(
    inv: Invocation,
    end_ns: int,
    peak: Optional[int],
    error: Optional[dict[str, Any]],
    failed: bool,
    peak_mb: Optional[float] = None,
) -> list[str]:
    """The EMF lines of the end of an invocation (the caller writes them).

    ``failed``: the invocation raised, returned a 5xx, ran slow or was warned about: what
    waits in the batch goes out now with this invocation's own latencies (never deferred).
    """
    values: list[Any] = [
        ms_rounded(end_ns - inv.start_ns),
        1 if inv.cold_start else 0,
        1 if error else 0,
    ]
    shape: tuple[tuple[str, str], ...] = _OWN_SHAPE
    if peak is not None:
        values.append(peak_mb if peak_mb is not None else round(peak / (1024 * 1024), 1))
        shape = _OWN_SHAPE_PEAK
    now_ms = (inv.start_epoch_ns + (end_ns - inv.start_ns)) // 1_000_000
    if not error and not inv.user_metrics and not failed and not inv.error_classes:
        # The usual invocation: one known document, its calls' latencies to the batch.
        namespace, service = inv.settings.namespace, inv.service or "unknown"
        line = _emf.own_document(namespace, service, now_ms, shape, values)
        if line is not None:
            if not inv.stats:
                return [line]
            with inv.metrics_lock:  # against the watchdog's flush
                keyed = [((namespace, service, svc, op), lat) for svc, op, lat in _downstream(inv)]
            lines = [line]
            if keyed:
                flushed = _the_batch().add(keyed, now_ms, True)
                if flushed:
                    lines.extend(_batched_documents(flushed, now_ms))
            return lines
    own: list[_emf.Metric] = [(name, unit, v) for (name, unit), v in zip(shape, values)]
    error_class = None
    if error:
        error_class = error.get("error_class") or "handler"
    return _metric_lines(inv, own, error_class, end_ns, defer=not failed)


def ms_rounded(ns: int) -> float:
    """Nanoseconds as milliseconds rounded (half up) to the microsecond: the EMF values.

    Integer arithmetic: a tenth of ``round(ns / 1e6, 3)``, whose only difference is the
    microsecond of an exact half (half-even on the float).
    """
    return (ns + 500) // 1000 / 1000


def _metric_lines(
    inv: Invocation,
    own: list[_emf.Metric],
    error_class: Optional[str],
    now_ns: int,
    defer: bool,
) -> list[str]:
    now_ms = (inv.start_epoch_ns + (now_ns - inv.start_ns)) // 1_000_000
    service = inv.service or "unknown"
    namespace = inv.settings.namespace
    keyed: list[tuple[Key, list[Any]]] = []
    user: list[_emf.Metric] = []
    errors: dict[str, int] = {}
    with inv.metrics_lock:  # the watchdog's flush and the end's never overlap
        if inv.stats:
            keyed = [((namespace, service, svc, op), lat) for svc, op, lat in _downstream(inv)]
        if inv.user_metrics:
            user = _emf.user_metric_list(inv.take_user_metrics())
        if inv.error_classes:
            errors = _new_errors(inv)
    flushed = _the_batch().add(keyed, now_ms, defer) if keyed or not defer else []
    lines = _emf.documents(namespace, service, now_ms, own, user, error_class, None, errors)
    lines.extend(_batched_documents(flushed, now_ms))
    return lines


def _batched_documents(flushed: list[Flushed], now_ms: int) -> list[str]:
    """The DownstreamLatency documents of what the batch gave out, grouped by (namespace,
    service): documents of another decorated handler's service get their own call."""
    lines: list[str] = []
    groups: dict[tuple[str, str], list[tuple[str, str, int, list[Any]]]] = {}
    for (ns, svc_dim, svc, op), ts, latencies in flushed:
        groups.setdefault((ns, svc_dim), []).append((svc, op, ts, latencies))
    for (ns, svc_dim), downstream in groups.items():
        lines.extend(_emf.documents(ns, svc_dim, now_ms, [], [], None, downstream))
    return lines


#: [lambda_trace._batch] once an invocation had downstream calls (not on the cold start's path
#: of a handler whose first invocation calls nothing)
_batch_module: list[Any] = []


def _the_batch() -> Batch:
    if not _batch_module:
        from lambda_trace import _batch

        _batch_module.append(_batch)
    batch: Batch = _batch_module[0].batch
    return batch


def _new_errors(inv: Invocation) -> dict[str, int]:
    """Failed calls by error class not yet published (see on_timeout)."""
    done = inv.errors_published
    out = {cls: n - done.get(cls, 0) for cls, n in inv.error_classes.items()}
    inv.errors_published = dict(inv.error_classes)
    return {cls: n for cls, n in out.items() if n > 0}


def _downstream(inv: Invocation) -> list[tuple[str, str, list[float]]]:
    """Per (Service, Operation) latencies not yet published (see on_timeout)."""
    out = []
    calls, inv.metrics_published = inv.unpublished(inv.metrics_published)
    for name, kind, values in calls:
        if kind == "segment" or name == _invocation.OTHER:
            continue
        if kind == "aws":
            service, _, operation = name.partition(".")
        elif kind == "db":  # "postgresql SELECT orders": Service postgresql
            service, _, operation = name.partition(" ")
        elif kind == "http":
            service, operation = "http", name[len("http ") :]
        else:  # another kind of client (a database): its kind names it
            service, operation = kind, name
        # ms_rounded inlined (a tenth of round(v / 1e6, 3)): this runs for every call
        out.append((service, operation, [(v + 500) // 1000 / 1000 for v in values]))
    return out


def on_timeout(inv: Invocation, now_ns: int) -> None:
    """Watchdog: the deadline is near. Write the warning and every call line waiting in the
    buffer (the kill that may follow loses nothing), then flush pending metrics."""
    inv.timed_out = True
    remaining = None
    if inv.deadline_ns is not None:
        remaining = (inv.deadline_ns - now_ns) / 1e6
    lines = [_records.timeout_warning_line(inv, now_ns, remaining)]
    lines.extend(inv.take_pending(True))
    _write_lines(inv, lines)
    if inv.settings.metrics:
        try:
            own: list[_emf.Metric] = [("Timeouts", "Count", 1)]
            _write_lines(inv, _metric_lines(inv, own, None, now_ns, defer=False))
        except Exception as exc:
            _safety.report("metrics", exc)


def on_memory(inv: Invocation, now_ns: int, rss_bytes: int) -> None:
    """Watchdog: RSS crossed the warning share of the memory limit. Write the warning and the
    buffered call lines: an out-of-memory kill may follow."""
    inv.memory_warned = True
    lines = [_records.memory_warning_line(inv, now_ns, rss_bytes)]
    lines.extend(inv.take_pending(True))
    _write_lines(inv, lines)


def flush_batch(sink: Optional[Sink] = None) -> None:
    """Publish what waits in the batch now, to ``sink`` (the default sink if None).

    Run when the process exits normally (not at Lambda's shutdown, which stops the process
    without running exit handlers) and by ``testing.capture`` at its start and end, so a
    capture holds exactly the metrics of the invocations it saw.
    """
    try:
        if not _batch_module:
            return  # no invocation had downstream calls: nothing was ever batched
        flushed = _the_batch().take_all()
        if not flushed:
            return
        sink = sink or get_default_sink()
        groups: dict[tuple[str, str], list[tuple[str, str, int, list[Any]]]] = {}
        for (ns, svc_dim, svc, op), ts, latencies in flushed:
            groups.setdefault((ns, svc_dim), []).append((svc, op, ts, latencies))
        for (ns, svc_dim), downstream in groups.items():
            for line in _emf.documents(ns, svc_dim, time.time_ns() // 1_000_000, [], [], None,
                                       downstream):
                sink(line)
    except Exception as exc:
        _safety.report("metrics", exc)


atexit.register(flush_batch)
