"""The only per-invocation mutable state: calls in flight, per-name aggregates, busy time.

Lambda runs one invocation per process at a time, so the running invocation is a module global
(``current``) rather than a ContextVar: calls made from worker threads (S3 transfers, a
ThreadPoolExecutor in the handler) are attributed to it without any context propagation.

Time "outside any downstream call" (``self_ms``) is the invocation's duration minus the union of
the intervals during which at least one AWS or HTTP call was in flight, in any thread: two calls
overlapping in two threads count once; segments (user code) never count as downstream time.

Call lines are decided at the end (tail-based, mode ``slow``): every call waits in a bounded
buffer (``pending``); at the end the lines of all of them are written, in start order, when the
invocation turned out to matter (it raised, returned a 5xx, ran over ``slow_ms``), else only those
of the calls that failed or ran over ``slow_ms``. A watchdog warning writes the whole buffer at
once (a kill may follow) and every later call at its end.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from math import ceil, log
from time import perf_counter_ns

from lambda_trace import _safety
from lambda_trace._config import Settings, Sink
from lambda_trace._contract import (
    HISTOGRAM_ACCURACY,
    HISTOGRAM_MIN_MS,
    MARKER,
    SCHEMA_VERSION,
    field,
    key,
)
from lambda_trace._encode import jstr, ms_text

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Callable, Optional

    LineFilter = Callable[[int, bool], bool]
    """``(duration_ns, error) -> write this call's line?``"""
    from typing import Union

    #: a call's pre-encoded fields, or ``(make, *args)`` that builds them when needed
    Fields = Union[str, tuple[Any, ...]]

#: The running invocation, or None outside one (every wrapper calls straight through then).
current: Optional[Invocation] = None

def _forget_in_child() -> None:
    """After ``fork``: the child is in no invocation. The parent writes the record of the one
    that was running; calls the child makes (a ``multiprocessing`` worker) are not traced, so
    no line carries the parent's request id without being counted in its record."""
    global current
    inv, current = current, None
    if inv is not None:
        inv.finished = True  # the child's copy: its calls in flight are dropped when they end


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)

#: perf_counter_ns() when lambda_trace was imported: the start of ``init_ms``.
IMPORTED_NS = time.perf_counter_ns()

#: Distinct call names kept per invocation; further names are summed under OTHER.
MAX_NAMES = 200
OTHER = "(other)"
#: Latency values kept per name (EMF's DownstreamLatency, the histogram); further calls of the
#: name go straight into its histogram.
MAX_VALUES = 1000
#: metric() names and values per name kept per invocation (bounded memory and EMF output).
MAX_USER_METRICS = 500
MAX_USER_VALUES = 1000

_tokens = itertools.count()

#: ``end_call``'s "when": write the line now; buffer it for the end's decision; buffer it and
#: write it at the end whatever is decided (a failed or slow call)
_NOW, _UNWANTED, _WANTED = 0, 1, 2

_ERROR_CLASS_KEY = key("call", "error_class") + '"'
#: The error class of a failed call whose fields name none.
UNCLASSIFIED = "unclassified"

#: (name, kind) -> the constant `"name":..,"kind":..,"start_ms":` part of its call lines (not
#: for HTTP calls, whose names vary with the host)
_heads: dict[tuple[str, str], str] = {}
_MAX_HEADS = 1024

# Stats entry layout (a list, mutated in place under the lock): the histogram of the calls
# beyond MAX_VALUES (None until then), the latest end of a call of the name, the current and the
# longest run of calls each starting after the previous ones ended (the N+1 pattern).
_COUNT, _TOTAL, _MAX, _ERRORS, _KIND, _VALUES, _SPILL, _LAST_END, _RUN, _BEST = range(10)

#: A call starting this soon before the previous one ended still counts as sequential (the
#: analyzer's tolerance for call records).
_SEQUENTIAL_SLACK_NS = 500_000

_INV_LN_GAMMA = 1.0 / log((1 + HISTOGRAM_ACCURACY) / (1 - HISTOGRAM_ACCURACY))
#: The bucket of HISTOGRAM_MIN_MS: durations at or below it are counted there.
ZERO_BUCKET = ceil(log(HISTOGRAM_MIN_MS) * _INV_LN_GAMMA)


def bucket(duration_ns: int) -> int:
    """The histogram bucket of a duration, computed from the ms value a call line would show."""
    value = (duration_ns // 1000) / 1000
    if value <= HISTOGRAM_MIN_MS:
        return ZERO_BUCKET
    return ceil(log(value) * _INV_LN_GAMMA)


def histogram(values: list[int], spill: Optional[dict[int, int]]) -> dict[int, int]:
    """``{bucket: count}`` of durations in ns, plus the buckets already counted (``spill``)."""
    out = dict(spill) if spill else {}
    get = out.get
    inv, floor, zero = _INV_LN_GAMMA, HISTOGRAM_MIN_MS, ZERO_BUCKET
    for duration in values:  # bucket(), inlined: this runs for every call at the end
        value = (duration // 1000) / 1000
        key = ceil(log(value) * inv) if value > floor else zero
        out[key] = get(key, 0) + 1
    return out


def _prefix(request_id: Optional[str], service: Optional[str]) -> str:
    # v2: no function_name (the log group names it; the invocation record carries it) and no
    # timestamp (the log event has one; start_ms places the call in its invocation).
    rid = jstr(request_id) if request_id is not None else "null"
    svc = jstr(service) if service is not None else "null"
    return f"{_CALL_HEAD}{rid}{_CALL_SERVICE}{svc},"


# The call line's fragments, built once from the declared keys (``_contract``).
_CALL_HEAD = (
    "{" + key("call", MARKER) + str(SCHEMA_VERSION) + field("call", "type") + '"call"'
    + field("call", "request_id")
)
_CALL_SERVICE = field("call", "service")
_CALL_NAME = key("call", "name")
_CALL_KIND = field("call", "kind") + '"'
_CALL_START = '"' + field("call", "start_ms")
_CALL_DURATION = field("call", "duration_ms")
_CALL_OK = field("call", "status") + '"ok"'
_CALL_ERROR = field("call", "status") + '"error"'


class Invocation:
    """State of one running invocation; ``begin``/``end`` are the per-call hot path.

    Fields that start the same in every invocation are class attributes, shadowed by the
    instance when first set (never mutated in place): an invocation starts with fewer stores.
    """

    dropped_calls = 0
    finished = False
    timed_out = False
    #: highest RSS the watchdog saw (the peak fallback where clear_refs is not permitted)
    rss_seen = 0
    # Filled in by the lifecycle at start.
    context: Any = None
    cold_start = False
    init_type: Optional[str] = None
    init_ms: Optional[float] = None
    peak_reset = False
    deadline_ns: Optional[int] = None
    #: a faulthandler stack dump is armed for the deadline (``_lastword``)
    stack_dump_armed = False
    #: name -> (count, errors, latency values) already published as EMF (watchdog flush);
    #: replaced whole, never updated in place
    metrics_published: dict[str, tuple[int, int, int]] = {}
    #: error class -> failed calls already published as EMF (watchdog flush); replaced whole
    errors_published: dict[str, int] = {}
    memory_warned = False
    _active = 0
    _busy_since = 0
    _busy_ns = 0
    _prefix = ""  # the call lines' constant start, made at the first line

    def __init__(
        self,
        settings: Settings,
        sink: Sink,
        request_id: Optional[str],
        function_name: Optional[str],
        remaining_ms: Optional[float],
        memory_limit_mb: Optional[int],
        wants_line: Optional[LineFilter] = None,
        service: Optional[str] = None,
    ) -> None:
        self.start_ns = time.perf_counter_ns()
        self.start_epoch_ns = time.time_ns()
        self.settings = settings
        self.sink = sink
        self.request_id = request_id
        self.function_name = function_name
        #: our ``service`` field and EMF dimension: the setting, else the function's name
        self.service = service or settings.service or function_name
        self.remaining_ms_at_start = remaining_ms
        self.memory_limit_mb = memory_limit_mb
        #: token -> (name, kind, start perf ns); plain dict ops are atomic under the GIL
        self.in_flight: dict[int, tuple[str, str, int]] = {}
        self.stats: dict[str, list[Any]] = {}
        self.annotations: dict[str, Any] = {}
        self.user_metrics: dict[str, tuple[str, list[float]]] = {}
        #: failed downstream calls (not segments) by error class
        self.error_classes: dict[str, int] = {}
        #: serialises the watchdog's metric flush with the end-of-invocation one
        self.metrics_lock = threading.Lock()
        self._lock = threading.Lock()
        self._lines_left = settings.max_call_lines
        self._wants_line = wants_line or line_filter(settings)
        #: the filter's threshold when it is ``slow_or_error``: end_call compares inline
        self._slow_ns: Optional[int] = getattr(self._wants_line, SLOW_NS_ATTR, None)
        #: True once every call gets its line (mode all; or a warning fired, or the end decided)
        self.detail = settings.call_lines == "all"
        #: tail-based mode: calls whose line waits for the end's decision, at most
        #: ``max_call_lines`` of them: (offset ns, name, kind, duration ns, error, fields,
        #: wanted: failed or slow, so written even if the invocation is ordinary)
        self.tail_based = settings.call_lines == "slow"
        self.pending: list[tuple[int, str, str, int, bool, Fields, bool]] = []

    # -- hot path -------------------------------------------------------------------------

    def begin(self, name: str, kind: str) -> tuple[int, int]:
        """Register a call as in flight; returns ``(token, start_ns)`` for ``end``."""
        token = next(_tokens)
        t0 = perf_counter_ns()
        if kind != "segment":
            with self._lock:
                if self._active == 0:
                    self._busy_since = t0
                self._active += 1
        self.in_flight[token] = (name, kind, t0)
        return token, t0

    def end(self, token: int, name: str, kind: str, t0: int, error: bool, fields: str = "") -> None:
        """Finish a call: aggregate it and, when the mode says so, write its line.

        ``fields`` is a pre-encoded JSON fragment (``,"key":value...``) of the kind-specific keys.
        """
        timing = self.end_call(token, name, kind, t0, error)
        if error and kind != "segment":
            self._count_error(fields)
        if timing is not None:
            self.write_call(name, kind, timing, error, fields)

    def _count_error(self, fields: str) -> None:
        """Count a failed downstream call by its error class (``DownstreamErrors`` in EMF)."""
        at = fields.find(_ERROR_CLASS_KEY)
        if at >= 0:
            start = at + len(_ERROR_CLASS_KEY)
            cls = fields[start : fields.find('"', start)] or UNCLASSIFIED
        else:
            cls = UNCLASSIFIED
        with self._lock:
            if cls in self.error_classes or len(self.error_classes) < MAX_NAMES:
                self.error_classes[cls] = self.error_classes.get(cls, 0) + 1

    def end_call(
        self, token: int, name: str, kind: str, t0: int, error: bool,
        fields: Optional[Fields] = None,
    ) -> Optional[tuple[int, int, int]]:
        """Aggregate a finished call; ``(start offset ns, duration ns, when)`` when its line is
        written now (``when`` 0) or goes to the buffer (1: only if the invocation matters; 2:
        at the end in any case, the call failed or was slow).

        Callers build the kind-specific fields only then (``write_call``): in mode ``none``, and
        once ``max_call_lines`` is reached, calls never pay for them. A caller may pass
        ``fields`` (usually deferred, see ``write_call``) when the call will likely be
        buffered (``tail_based`` and not ``detail``): it is then buffered here and None is
        returned (one lock acquisition instead of two).
        """
        t1 = perf_counter_ns()
        self.in_flight.pop(token, None)
        duration = t1 - t0
        with self._lock:
            if kind != "segment":
                self._active -= 1
                if self._active == 0:
                    self._busy_ns += t1 - self._busy_since
            if self.finished:
                # Ended after its invocation (a thread the handler left running): the record is
                # written, so the call is dropped rather than written under a closed request id
                # where no summary counts it. The record's counts stay equal to its lines.
                return None
            entry = self.stats.get(name)
            if entry is None:
                if len(self.stats) >= MAX_NAMES:
                    name_key = OTHER
                    entry = self.stats.get(OTHER)
                else:
                    name_key = name
                if entry is None:
                    entry = self.stats[name_key] = [0, 0, 0, 0, kind, [], None, 0, 0, 0]
            entry[_COUNT] += 1
            entry[_TOTAL] += duration
            if duration > entry[_MAX]:
                entry[_MAX] = duration
            if error:
                entry[_ERRORS] += 1
            values = entry[_VALUES]
            if len(values) < MAX_VALUES:
                values.append(duration)
            else:
                spill = entry[_SPILL]
                if spill is None:
                    spill = entry[_SPILL] = {}
                key = bucket(duration)
                spill[key] = spill.get(key, 0) + 1
            if t0 + _SEQUENTIAL_SLACK_NS >= entry[_LAST_END]:
                run = entry[_RUN] = entry[_RUN] + 1
                if run > entry[_BEST]:
                    entry[_BEST] = run
            else:
                entry[_RUN] = 1
            if t1 > entry[_LAST_END]:
                entry[_LAST_END] = t1
            if self._lines_left <= 0:
                self.dropped_calls += 1
                return None
            if self.tail_based and not self.detail:
                self._lines_left -= 1  # the buffer holds what a line would: same bound
                slow_ns = self._slow_ns  # slow_or_error inlined: this runs for every call
                wanted = (error or duration >= slow_ns if slow_ns is not None
                          else self._wants_line(duration, error))
                if fields is not None:  # buffered here, under this same lock acquisition
                    self.pending.append(
                        (t0 - self.start_ns, name, kind, duration, error, fields, wanted))
                    return None
                return t0 - self.start_ns, duration, _WANTED if wanted else _UNWANTED
            if self.detail or self._wants_line(duration, error):
                self._lines_left -= 1
                return t0 - self.start_ns, duration, _NOW
            self.dropped_calls += 1
            return None

    def write_call(
        self, name: str, kind: str, timing: tuple[int, int, int], error: bool, fields: Fields = ""
    ) -> None:
        """Write (or buffer) the line of a call ``end_call`` accepted; a failing sink is
        reported only.

        ``fields`` may be ``(make, *args)`` for a buffered call (``when`` ``UNWANTED``): the text
        is ``make(*args)``, built only if its line is written in the end (most are not).
        """
        offset, duration, when = timing
        if when:
            with self._lock:  # against take_pending (the watchdog, the end) swapping the list
                if not self.detail:
                    self.pending.append(
                        (offset, name, kind, duration, error, fields, when == _WANTED))
                    return
        line = self.call_line(name, kind, offset, duration, error, _text(fields))
        try:
            self.sink(line)
        except Exception as exc:  # never into the handler
            _safety.report("sink", exc)

    def take_pending(self, detail: bool) -> list[str]:
        """The buffered calls' lines, emptying the buffer; ``detail``: later calls are written
        at once (a warning fired, or the end decided the invocation matters)."""
        if not detail and not self.pending:
            return []  # the usual end: nothing buffered (no call, or mode all/none)
        with self._lock:
            if detail:
                self.detail = True
            taken, self.pending = self.pending, []
        if not detail:
            kept = [entry for entry in taken if entry[6]]
            self.dropped_calls += len(taken) - len(kept)
            if not kept:
                return []  # the usual end of an invocation with calls: none failed nor was slow
            taken = kept
        taken.sort()  # by start: the buffer filled in the order calls ended
        return [self.call_line(n, k, offset, d, e, _text(f)) for offset, n, k, d, e, f, _ in taken]

    def call_line(
        self, name: str, kind: str, offset: int, duration: int, error: bool, fields: str
    ) -> str:
        head = _heads.get((name, kind))
        if head is None:
            head = f"{_CALL_NAME}{jstr(name)}{_CALL_KIND}{kind}{_CALL_START}"
            # HTTP names carry the host, which can differ at every call: not kept (a per-host
            # cache would hold ~170 B per host for good; the head costs ≈0.3 µs to build).
            if kind != "http":
                if len(_heads) >= _MAX_HEADS:
                    _heads.clear()  # segment names made at run time must not grow unbounded
                _heads[(name, kind)] = head
        return (
            f"{self._prefix or self._make_prefix()}{head}{ms_text(offset)}{_CALL_DURATION}"
            f"{ms_text(duration)}{_CALL_ERROR if error else _CALL_OK}{fields}}}"
        )

    def _make_prefix(self) -> str:
        self._prefix = _prefix(self.request_id, self.service)
        return self._prefix

    # -- user API ---------------------------------------------------------------------------

    def annotate(self, values: dict[str, Any]) -> None:
        with self._lock:
            self.annotations.update(values)

    def add_metric(self, name: str, value: float, unit: str) -> bool:
        """Keep one value of a user metric; False when the per-invocation cap is reached."""
        with self._lock:
            entry = self.user_metrics.get(name)
            if entry is None:
                if len(self.user_metrics) >= MAX_USER_METRICS:
                    return False
                self.user_metrics[name] = (unit, [value])
            elif len(entry[1]) >= MAX_USER_VALUES:
                return False
            else:
                entry[1].append(value)
        return True

    def take_user_metrics(self) -> dict[str, tuple[str, list[float]]]:
        """The user's metrics so far, removed (so a watchdog flush and the end never repeat)."""
        with self._lock:
            taken, self.user_metrics = self.user_metrics, {}
        return taken

    # -- snapshots for records ----------------------------------------------------------------

    def busy_ns(self, now_ns: int) -> int:
        """Downstream time so far, counting calls still in flight up to ``now_ns``."""
        with self._lock:
            busy = self._busy_ns
            if self._active > 0:
                busy += now_ns - self._busy_since
        return busy

    def stats_snapshot(self) -> dict[str, tuple[int, int, int, int, str, list[int]]]:
        """Copy of the aggregates: name -> (count, total_ns, max_ns, errors, kind, values)."""
        with self._lock:
            return {k: (v[0], v[1], v[2], v[3], v[4], list(v[5])) for k, v in self.stats.items()}

    def summary_snapshot(
        self,
    ) -> dict[str, tuple[int, int, int, int, str, dict[int, int], int]]:
        """name -> (count, total_ns, max_ns, errors, kind, histogram, longest sequential run)."""
        with self._lock:  # the histograms straight from the values: no copy of them first
            return {k: (v[0], v[1], v[2], v[3], v[4], histogram(v[5], v[6]), v[9])
                    for k, v in self.stats.items()}

    def unpublished(
        self, published: dict[str, tuple[int, int, int]]
    ) -> tuple[list[tuple[str, str, list[int]]], dict[str, tuple[int, int, int]]]:
        """``(name, kind, latencies ns)`` of the calls not in ``published`` yet (name ->
        (count, errors, values) already out, see the watchdog's flush), and the new marks."""
        out = []
        with self._lock:
            marks = {name: (v[0], v[3], len(v[5])) for name, v in self.stats.items()}
            for name, v in self.stats.items():
                done = published.get(name)
                if done is None:
                    out.append((name, v[4], v[5][:]))
                elif v[0] > done[0]:
                    out.append((name, v[4], v[5][done[2]:]))
        return out, marks

    def in_flight_snapshot(self, now_ns: int) -> list[tuple[str, str, int]]:
        """Calls running now, longest first: ``(name, kind, running_ns)``."""
        running = [(n, k, now_ns - t0) for n, k, t0 in list(self.in_flight.values())]
        running.sort(key=lambda item: -item[2])
        return running


def _text(fields: Fields) -> str:
    """A call's fields as text: as given, or built now from ``(make, *args)``."""
    if isinstance(fields, str):
        return fields
    return str(fields[0](*fields[1:]))


def line_filter(settings: Settings) -> LineFilter:
    """The call_lines mode as a predicate, chosen once per decorated handler."""
    if settings.call_lines == "none":
        return _never
    if settings.call_lines == "slow":
        slow_ns = int(settings.slow_ms * 1_000_000)

        def slow_or_error(duration_ns: int, error: bool) -> bool:
            return error or duration_ns >= slow_ns

        setattr(slow_or_error, SLOW_NS_ATTR, slow_ns)  # for end_call's inlined comparison
        return slow_or_error
    return _always


#: Attribute of the ``slow`` mode's filter: its threshold in ns.
SLOW_NS_ATTR = "slow_ns"


def _always(duration_ns: int, error: bool) -> bool:
    return True


def _never(duration_ns: int, error: bool) -> bool:
    return False


def take_cold_start() -> bool:
    """True exactly once per process: for its first invocation."""
    if _cold:
        _cold.clear()
        return True
    return False


_cold = [True]
