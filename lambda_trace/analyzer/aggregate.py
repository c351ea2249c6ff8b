"""Streaming statistics over joined invocations: quantile sketches, bounded top-k, a time series.

Everything here has a size bound that does not grow with the input, so a multi-GB log runs in
bounded memory: sketches keep at most ``max_bins`` buckets, top-k tables ``capacity`` keys, the
time series ``max_points`` buckets, and name-keyed tables ``MAX_NAMES`` names.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Optional

from lambda_trace.analyzer.faults import (
    CRASH,
    FaultStats,
    category,
    dependency_failure,
    invocation_fault,
    returned_5xx,
)
from lambda_trace.analyzer.join import (
    UNNAMED,
    Call,
    Invocation,
    JoinStats,
)
from lambda_trace.analyzer.model import Event
from lambda_trace.analyzer.numbers import as_float
from lambda_trace.analyzer.records import SummaryExtra, is_v2, summary_v1
from lambda_trace.analyzer.resource_limits import classify_event as resource_limit_of
from lambda_trace.schema import HISTOGRAM_ACCURACY, parse_timestamp

#: Name-keyed tables (dependencies, memory sizes) keep this many names; the rest go to OTHER.
MAX_NAMES = 500
OTHER = "(other)"

#: Max Memory Used at or above this share of Memory Size counts as memory pressure.
MEMORY_PRESSURE_RATIO = 0.9

_EMPTY: dict[str, Any] = {}

#: Error classes of our call records that mean the dependency throttled us.
THROTTLE_CLASS = "throttled"


class QuantileSketch:
    """A DDSketch-style sketch: log-spaced buckets give quantiles within a relative error.

    Values ``v`` fall in bucket ``ceil(log(v) / log(gamma))`` with
    ``gamma = (1 + a) / (1 - a)``; every value in a bucket is within ``a`` (relative) of the
    bucket's representative, so any quantile is too (Masson et al., "DDSketch", VLDB 2019).
    When more than ``max_bins`` buckets are in use the lowest ones are merged, which only
    coarsens the lowest quantiles. Sketches with the same accuracy merge exactly.

    ``add`` buffers up to ``BATCH`` values and folds them in at once (a per-value Python
    call costs more than the arithmetic); every reader folds the buffer in first.
    """

    BATCH = 256

    __slots__ = ("_bins", "_count", "_inv_ln_gamma", "_max", "_min", "_pending", "_sum",
                 "_zero", "max_bins", "min_value", "relative_accuracy")

    def __init__(
        self, relative_accuracy: float = 0.01, max_bins: int = 2048, min_value: float = 1e-3
    ) -> None:
        if not 0 < relative_accuracy < 1:
            raise ValueError("relative_accuracy must be between 0 and 1")
        self.relative_accuracy = relative_accuracy
        gamma = (1 + relative_accuracy) / (1 - relative_accuracy)
        self._inv_ln_gamma = 1.0 / math.log(gamma)
        self.max_bins = max_bins
        #: values at or below this (and negatives) are counted as zero
        self.min_value = min_value
        self._bins: dict[int, int] = {}
        self._zero = 0
        self._count = 0
        self._sum = 0.0
        self._min = math.inf
        self._max = -math.inf
        self._pending: list[Any] = []

    def add(self, value: float) -> None:
        pending = self._pending
        pending.append(value)
        if len(pending) >= self.BATCH:
            self._flush()

    def extend(self, values: Iterable[Any]) -> None:
        """Buffer values unchecked: junk (None, strings, NaN) is dropped when folded in.

        The cheap path for a handful of values at a time: one ``add_many`` per ``BATCH``
        values, not one per handful.
        """
        pending = self._pending
        pending.extend(values)
        if len(pending) >= self.BATCH:
            self._flush()

    def add_many(self, values: list[Any]) -> list[Any]:
        """Add many values at once; returns those added (not None, strings, NaN or infinity)."""
        if not values:
            return values
        inv, log, ceil, floor_value = self._inv_ln_gamma, math.log, math.ceil, self.min_value
        try:
            total, low, high = sum(values), min(values), max(values)
            if total - total != 0.0:
                raise ValueError("NaN or infinity")
            keys = [ceil(log(v) * inv) for v in values if v > floor_value]
        except (TypeError, ValueError, OverflowError):
            clean = [v for v in map(as_float, values) if v is not None]
            if len(clean) < len(values):
                return self.add_many(clean)
            raise
        self._count += len(values)
        self._sum += total
        if low < self._min:
            self._min = low
        if high > self._max:
            self._max = high
        self._zero += len(values) - len(keys)
        bins = self._bins
        get = bins.get
        for key, n in Counter(keys).items():
            bins[key] = get(key, 0) + n
        if len(bins) > self.max_bins:
            self._collapse()
        return values

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        self.add_many(pending)

    @property
    def count(self) -> int:
        if self._pending:
            self._flush()
        return self._count

    @property
    def sum(self) -> float:
        if self._pending:
            self._flush()
        return self._sum

    @property
    def min(self) -> float:
        """The smallest value added (``inf`` while empty)."""
        if self._pending:
            self._flush()
        return self._min

    @property
    def max(self) -> float:
        """The largest value added (``-inf`` while empty)."""
        if self._pending:
            self._flush()
        return self._max

    def _collapse(self) -> None:
        keys = sorted(self._bins)
        excess = len(keys) - self.max_bins
        target = keys[excess]
        moved = sum(self._bins.pop(k) for k in keys[:excess])
        self._bins[target] += moved

    def merge(self, other: QuantileSketch) -> None:
        if other.relative_accuracy != self.relative_accuracy:
            raise ValueError("cannot merge sketches of different accuracy")
        if not other.count:
            return
        if self._pending:
            self._flush()
        for key, n in other._bins.items():
            self._bins[key] = self._bins.get(key, 0) + n
        self._zero += other._zero
        self._count += other._count
        self._sum += other._sum
        self._min = min(self._min, other._min)
        self._max = max(self._max, other._max)
        while len(self._bins) > self.max_bins:
            self._collapse()

    def add_buckets(
        self, buckets: dict[int, int], relative_accuracy: float, total: Optional[float] = None,
        largest: Optional[float] = None,
    ) -> None:
        """Merge a histogram of bucket keys (an invocation record's ``h``, schema v2).

        With this sketch's accuracy the keys are this sketch's buckets and merge exactly;
        otherwise each bucket's representative value is added. ``total`` and ``largest`` (the
        record's exact sum and maximum) keep ``sum`` and ``max`` exact.
        """
        if not buckets:
            return
        if relative_accuracy != self.relative_accuracy:
            gamma = (1 + relative_accuracy) / (1 - relative_accuracy)
            self.add_many([2.0 * gamma**key / (gamma + 1.0)
                           for key, n in buckets.items() for _ in range(n)])
            return
        if self._pending:
            self._flush()
        zero_key = math.ceil(math.log(self.min_value) * self._inv_ln_gamma)
        gamma = math.exp(1.0 / self._inv_ln_gamma)
        bins = self._bins
        count = 0
        for key, n in buckets.items():
            count += n
            if key <= zero_key:
                self._zero += n
            else:
                bins[key] = bins.get(key, 0) + n
        keys = [k for k in buckets if k > zero_key]
        low = gamma ** (min(keys) - 1) if len(keys) == len(buckets) else 0.0
        high = largest if largest is not None else (gamma ** max(keys) if keys else 0.0)
        self._count += count
        self._sum += total if total is not None else sum(
            self._value(k) * n for k, n in buckets.items() if k > zero_key)
        if low < self._min:
            self._min = low
        if high > self._max:
            self._max = high
        if len(bins) > self.max_bins:
            self._collapse()

    def _value(self, key: int) -> float:
        gamma = math.exp(1.0 / self._inv_ln_gamma)
        return 2.0 * gamma**key / (gamma + 1.0)

    def quantile(self, q: float) -> Optional[float]:
        """The value at rank ``floor(q * (count - 1))`` ± the relative accuracy (None if empty)."""
        return self.quantiles([q])[0]

    def quantiles(self, qs: Iterable[float]) -> list[Optional[float]]:
        qs = list(qs)
        if not self.count:  # (folds the buffer in)
            return [None] * len(qs)
        keys = sorted(self._bins)
        out: list[Optional[float]] = []
        for q in qs:
            if q <= 0:
                out.append(self.min)
                continue
            if q >= 1:
                out.append(self.max)
                continue
            rank = math.floor(q * (self.count - 1))
            seen = self._zero
            if rank < seen:
                out.append(max(self.min, 0.0))
                continue
            value = self.max
            for key in keys:
                seen += self._bins[key]
                if seen > rank:
                    value = self._value(key)
                    break
            # The representative may lie just outside the exact extremes.
            out.append(min(max(value, self.min), self.max))
        return out

    @property
    def mean(self) -> Optional[float]:
        return self.sum / self.count if self.count else None

    def buckets(self) -> Iterator[tuple[float, float, int]]:
        """``(lower, upper, count)`` for each non-empty bucket, ascending; the zero bucket first."""
        if self._pending:
            self._flush()
        if self._zero:
            yield (0.0, self.min_value, self._zero)
        gamma = math.exp(1.0 / self._inv_ln_gamma)
        for key in sorted(self._bins):
            yield (gamma ** (key - 1), gamma**key, self._bins[key])

    def __len__(self) -> int:
        """Buckets in use."""
        if self._pending:
            self._flush()
        return len(self._bins) + (1 if self._zero else 0)


class SpaceSaving:
    """Bounded top-k counts (Metwally et al., Space-Saving): at most ``capacity`` keys are kept.

    A new key arriving when the table is full replaces the key with the smallest count and
    inherits that count as its possible over-estimate (``error``). Keys whose true count is
    above ``total / capacity`` are guaranteed to be in the table.
    """

    __slots__ = ("_table", "capacity", "total")

    def __init__(self, capacity: int = 100) -> None:
        self.capacity = capacity
        self.total = 0
        #: key -> [count, error, example]
        self._table: dict[Any, list[Any]] = {}

    def add(self, key: Any, weight: int = 1, example: Any = None) -> None:
        self.total += weight
        entry = self._table.get(key)
        if entry is not None:
            entry[0] += weight
            return
        if len(self._table) < self.capacity:
            self._table[key] = [weight, 0, example]
            return
        victim = min(self._table, key=lambda k: self._table[k][0])
        floor = self._table.pop(victim)[0]
        self._table[key] = [floor + weight, floor, example]

    def items(self) -> list[tuple[Any, int, int, Any]]:
        """``(key, count, error, example)`` by count, largest first."""
        rows = [(k, v[0], v[1], v[2]) for k, v in self._table.items()]
        rows.sort(key=lambda r: -r[1])
        return rows

    def __len__(self) -> int:
        return len(self._table)


class Slowest:
    """The ``n`` largest items by a score, kept in a min-heap."""

    __slots__ = ("_heap", "_seq", "n")

    def __init__(self, n: int = 10) -> None:
        self.n = n
        self._heap: list[tuple[float, int, Any]] = []
        self._seq = 0

    def would_keep(self, score: float) -> bool:
        return len(self._heap) < self.n or score > self._heap[0][0]

    def add(self, score: float, item: Any) -> None:
        self._seq += 1
        entry = (score, self._seq, item)
        if len(self._heap) < self.n:
            heapq.heappush(self._heap, entry)
        elif score > self._heap[0][0]:
            heapq.heapreplace(self._heap, entry)

    def items(self) -> list[Any]:
        """Largest first."""
        return [item for _, _, item in sorted(self._heap, key=lambda e: (-e[0], e[1]))]


class TimeSeries:
    """Per-time-bucket duration and memory, re-bucketed coarser to stay under ``max_points``."""

    __slots__ = ("_buckets", "bucket_ms", "max_points")

    def __init__(self, max_points: int = 300, bucket_ms: int = 1000) -> None:
        self.max_points = max_points
        self.bucket_ms = bucket_ms
        #: bucket index -> [count, duration sum, duration max, peak memory max, memory size max]
        self._buckets: dict[int, list[float]] = {}

    def add(
        self, ts_ms: float, duration_ms: Optional[float], peak_mb: Optional[float],
        size_mb: Optional[float],
    ) -> None:
        key = int(ts_ms // self.bucket_ms)
        b = self._buckets.get(key)
        if b is None:
            b = self._buckets[key] = [0, 0.0, 0.0, 0.0, 0.0]
            if len(self._buckets) > self.max_points:
                self._coarsen()
                self.add(ts_ms, duration_ms, peak_mb, size_mb)
                return
        b[0] += 1
        if duration_ms:
            b[1] += duration_ms
            if duration_ms > b[2]:
                b[2] = duration_ms
        if peak_mb and peak_mb > b[3]:
            b[3] = peak_mb
        if size_mb and size_mb > b[4]:
            b[4] = size_mb

    @staticmethod
    def _fold(b: list[float], n: float, dsum: float, dmax: float, peak: float, size: float) -> None:
        b[0] += n
        b[1] += dsum
        b[2] = max(b[2], dmax)
        b[3] = max(b[3], peak)
        b[4] = max(b[4], size)

    def _coarsen(self) -> None:
        while len(self._buckets) > self.max_points:
            self.bucket_ms *= 2
            merged: dict[int, list[float]] = {}
            for key, b in self._buckets.items():
                m = merged.setdefault(key // 2, [0, 0.0, 0.0, 0.0, 0.0])
                self._fold(m, b[0], b[1], b[2], b[3], b[4])
            self._buckets = merged

    def points(self) -> list[dict[str, Any]]:
        """One dict per bucket, in time order."""
        out = []
        for key in sorted(self._buckets):
            n, dsum, dmax, peak, size = self._buckets[key]
            out.append({
                "start_ms": key * self.bucket_ms,
                "invocations": int(n),
                "duration_mean_ms": dsum / n if n else None,
                "duration_max_ms": dmax,
                "max_memory_used_mb": peak or None,
                "memory_size_mb": size or None,
            })
        return out


@dataclass
class DependencyStats:
    """Everything known about one call name (``kind`` is aws, http, db or segment)."""

    name: str
    kind: str = ""
    calls: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0
    errors: int = 0
    throttled: int = 0
    retries: int = 0
    calls_retried: int = 0
    invocations: int = 0
    #: calls whose duration we saw one by one (records); totals may also come from summaries
    sketch: QuantileSketch = field(default_factory=QuantileSketch)
    error_classes: dict[str, int] = field(default_factory=dict)


@dataclass
class MemorySizeStats:
    """Invocations that ran with one Memory Size."""

    memory_size_mb: int
    invocations: int = 0
    billed_ms: float = 0.0
    billed_count: int = 0
    duration: QuantileSketch = field(default_factory=QuantileSketch)
    peak: QuantileSketch = field(default_factory=QuantileSketch)
    failures: int = 0


@dataclass
class NPlusOne:
    """Invocations that made many sequential calls to one operation."""

    name: str
    invocations: int = 0
    max_sequential: int = 0
    max_calls: int = 0
    total_ms: float = 0.0
    example_request_id: Optional[str] = None
    #: True when at least one case was seen in call records (start/duration), not only counts
    from_records: bool = False


class Aggregator:
    """Folds finished invocations and stand-alone events into the report's statistics."""

    def __init__(self, *, n_plus_one_min_calls: int = 5, slowest: int = 10) -> None:
        self.n_plus_one_min_calls = n_plus_one_min_calls
        self.invocations = 0
        self.cold_starts = 0
        self.restores = 0
        self.errors = 0
        self.timeouts = 0
        self.out_of_memory = 0
        self.memory_pressure = 0
        self.with_report = 0
        self.with_record = 0
        self.duration = QuantileSketch()
        self.init_duration = QuantileSketch()
        self.duration_total_ms = 0.0
        self.billed_total_ms = 0.0
        self.billed_count = 0
        self.init_billed_ms = 0.0
        self.first_ts: Optional[float] = None
        self.last_ts: Optional[float] = None
        self.dependencies: dict[str, DependencyStats] = {}
        self.memory_sizes: dict[int, MemorySizeStats] = {}
        self.error_groups = SpaceSaving(200)
        self.access_denied = SpaceSaving(100)
        self.timeout_in_flight = SpaceSaving(50)
        self.timeouts_with_warning = 0
        self.timeout_seconds = SpaceSaving(20)
        self.oom_sizes = SpaceSaving(20)
        self.pressure_peaks = QuantileSketch()
        self.pressure_sizes = SpaceSaving(20)
        self.n_plus_one: dict[str, NPlusOne] = {}
        self.slowest = Slowest(slowest)
        self.timeline = TimeSeries()
        self.init_failures = SpaceSaving(50)
        #: platform failures: (category, error type) -> their counts (faults.py)
        self.faults: dict[tuple[str, Optional[str]], FaultStats] = {}
        #: (call name, error class) -> count, example (request id, error type, message)
        self.dependency_errors = SpaceSaving(50)
        #: (quota, error type, top frame) -> invocations that hit it, example (request id,
        #: the text naming it): /tmp full, no descriptor or thread left (resource_limits.py)
        self.resource_limits = SpaceSaving(50)
        #: invocations whose handler returned a statusCode >= 500 without raising
        self.returned_5xx = 0
        #: out-of-memory invocations' evidence (the first few): size, duration, memory warning
        self.oom_examples: list[dict[str, Any]] = []
        #: Max Memory Used of invocations that did not fail, in arrival order (bounded), for
        #: the peak trend of the out-of-memory advice
        self.ok_peaks_first: list[float] = []
        self.ok_peaks_last: list[float] = []
        self.ok_duration = QuantileSketch()
        self._last_environment: Optional[Event] = None
        self._last_orphan: Optional[Event] = None
        self.environments = 0
        self.orphan_events = 0
        self.orphan_timeouts = 0
        self.events_by_type: dict[str, int] = {}

    # -- stand-alone events --------------------------------------------------------------

    def add_call(self, event: Event) -> None:
        """One call record outside a kept call list: its duration feeds the distribution."""
        duration = as_float(event.get("duration_ms"))
        if duration is None:
            return
        self._dependency(event.get("name"), event.get("kind")).sketch.add(duration)

    def add_environment_event(self, event: Event) -> None:
        """INIT_START / INIT_REPORT: per execution environment, not per invocation."""
        if _repeats(event, self._last_environment):
            return  # the console shows an event collapsed and expanded: one event
        self._last_environment = event
        if event["type"] == "init_start":
            self.environments += 1
        elif event["type"] == "init_report" and event.get("status") not in (None, "success"):
            found = category(event.get("error_type"))
            if found is not None:
                fault = self._fault(found, event.get("error_type"))
                fault.init_reports += 1
                fault.phases.add(str(event.get("phase") or "init"))
                return
            key = (event.get("phase") or "init", event.get("status"), event.get("error_type"))
            self.init_failures.add(key, example=event.get("duration_ms"))

    def add_orphan(self, event: Event) -> None:
        """An event no invocation could take: failures in it are still counted by kind."""
        if _repeats(event, self._last_orphan):
            return  # one event shown twice in a console copy (collapsed and expanded)
        self._last_orphan = event
        self.orphan_events += 1
        kind = event["type"]
        if kind == "error":
            found = category(event.get("error_type"))
            if found is not None:
                self._add_fault(found, event.get("error_type"), event.get("request_id"),
                                event.get("message"))
            # An AccessDenied is reported as permission_denied (the parser makes an
            # access_denied event of the same text), handled or not: not as a code error.
            elif not (_is_access_denied(event)
                      or self._add_resource_limit(event, event.get("request_id"), set())):
                self._add_error(event, event.get("request_id"))
        elif kind == "runtime_exit":
            error_type = event.get("error_type")
            self._add_fault(category(error_type) or CRASH, error_type, event.get("request_id"),
                            event.get("reason"))
        elif kind == "access_denied":
            self._add_access_denied(event, event.get("request_id"))
        elif kind == "timeout":
            self.orphan_timeouts += 1
        elif kind == "call":
            self.add_call(event)
            self._fold_call_summary(event)

    @property
    def emf_documents(self) -> int:
        return self.events_by_type.get("emf", 0)

    # -- invocations ---------------------------------------------------------------------

    def add_invocation(self, inv: Invocation) -> None:
        self.invocations += 1
        report = inv.report
        record = inv.record
        duration = size = peak = init_ms = billed = None
        cold = False
        # REPORT wins over our invocation record, which fills in what REPORT lacks.
        if report is not None:
            self.with_report += 1
            get = report.get
            duration = as_float(get("duration_ms"))
            size = as_float(get("memory_size_mb"))
            peak = as_float(get("max_memory_used_mb"))
            init_ms = as_float(get("init_duration_ms"))
            billed = as_float(get("billed_duration_ms"))
            cold = init_ms is not None
            restore = get("restore_duration_ms")
            if restore is not None and as_float(restore) is not None:
                self.restores += 1
        if record is not None:
            self.with_record += 1
            get = record.get
            if duration is None:
                duration = as_float(get("duration_ms"))
            if size is None:
                size = as_float(get("memory_limit_mb"))
            if peak is None:
                peak = as_float(get("memory_peak_mb"))
            if init_ms is None:
                init_ms = as_float(get("init_ms"))
            if not cold and get("cold_start"):
                cold = True

        if (
            inv.timed_out or inv.errors or inv.runtime_exit is not None
            or (report is not None and (report.get("status") not in _QUIET_STATUSES
                                        or report.get("error_type") is not None))
            or (record is not None and (record.get("status") == "error"
                                        or record.get("status_code") is not None))
        ):
            outcome = classify(inv, size, peak)
        else:  # nothing classify could find (most invocations)
            outcome = _UNEVENTFUL
        if outcome.timed_out:
            self.timeouts += 1
            self._add_timeout(inv)
        elif outcome.failed:
            self.errors += 1
        if outcome.oom:
            self.out_of_memory += 1
            if size is not None:
                self.oom_sizes.add(int(size))
            if len(self.oom_examples) < 5:
                self.oom_examples.append(_oom_example(inv, size, peak, duration))
        elif not (outcome.failed or outcome.timed_out) and peak is not None:
            if len(self.ok_peaks_first) < 50:
                self.ok_peaks_first.append(peak)
            else:
                self.ok_peaks_last.append(peak)
                if len(self.ok_peaks_last) > 50:
                    del self.ok_peaks_last[0]
            if duration is not None:
                self.ok_duration.add(duration)
        elif outcome.pressure:
            self.memory_pressure += 1
            if peak is not None:
                self.pressure_peaks.add(peak)
            if size is not None:
                self.pressure_sizes.add(int(size))

        if duration is not None:
            self.duration.add(duration)
            self.duration_total_ms += duration
        if cold:
            self.cold_starts += 1
            if init_ms is not None:
                self.init_duration.add(init_ms)
                if billed is not None:
                    self.init_billed_ms += init_ms
        if billed is not None:
            self.billed_total_ms += billed
            self.billed_count += 1
        if size is not None:
            mem = self.memory_sizes.get(int(size)) or self._memory_size(int(size))
            mem.invocations += 1
            if billed is not None:
                mem.billed_ms += billed
                mem.billed_count += 1
            if duration is not None:
                mem.duration.add(duration)
            if peak is not None:
                mem.peak.add(peak)
            if outcome.failed or outcome.timed_out:
                mem.failures += 1

        fault = invocation_fault(inv, outcome.oom) if outcome.failed else None
        if fault is not None:
            self._add_fault(fault[0], fault[1], inv.request_id, fault[2])
        code = returned_5xx(record)
        if code is not None and not inv.errors:
            self.returned_5xx += 1
            self._add_error({"error_type": f"HTTP {code}",
                             "message": f"the handler returned statusCode {code}"},
                            inv.request_id)
        unhandled = any(e.get("unhandled") is not False for e in inv.errors)
        limits_hit: set[str] = set()
        for error in inv.errors:
            # An AccessDenied that ended the invocation is reported as permission_denied.
            if inv.access_denied and _is_access_denied(error):
                continue
            if category(error.get("error_type")) is not None:
                continue  # a platform failure (init, extension): counted in faults
            if self._add_resource_limit(error, inv.request_id, limits_hit):
                continue  # a Lambda quota, logged or not: resource_limit, not a code error
            if error.get("unhandled") is False and (unhandled or not outcome.failed):
                continue  # caught and logged by the code, and not what ended the invocation
            failed_call = dependency_failure(inv, error) if error.get("unhandled") else None
            if failed_call is not None:
                self.dependency_errors.add(failed_call, example=(
                    inv.request_id, error.get("error_type"), error.get("message")))
                continue
            self._add_error(error, inv.request_id)
        if not inv.errors and record is not None and record.get("status") == "error":
            self._add_error(
                {"error_type": record.get("error_type"), "message": record.get("error_message")},
                inv.request_id,
            )
        for denied in inv.access_denied:
            self._add_access_denied(denied, inv.request_id)
        self._add_calls(inv, duration)

        ts = float(inv.start_ts) if inv.start_ts is not None else start_time_ms(inv, duration)
        if ts is not None:
            if self.first_ts is None or ts < self.first_ts:
                self.first_ts = ts
            end = ts + (duration or 0.0)
            if self.last_ts is None or end > self.last_ts:
                self.last_ts = end
            self.timeline.add(ts, duration, peak, size)
        if duration is not None and self.slowest.would_keep(duration):
            self.slowest.add(duration, _slow_entry(inv, duration, ts, outcome, size, peak))

    def _add_timeout(self, inv: Invocation) -> None:
        if inv.timeout_seconds is not None:
            self.timeout_seconds.add(round(inv.timeout_seconds))
        warning = inv.timeout_warning
        if warning is None:
            return
        self.timeouts_with_warning += 1
        in_flight = warning.get("in_flight") or []
        names = sorted({str(c.get("name")) for c in in_flight if isinstance(c, dict)})
        self.timeout_in_flight.add(", ".join(names) if names else "(none)", example=inv.request_id)
        timeout_ms = as_float(warning.get("timeout_ms"))
        if inv.timeout_seconds is None and timeout_ms:
            self.timeout_seconds.add(round(timeout_ms / 1000))

    def _fault(self, found: str, error_type: Any) -> FaultStats:
        key = (found, str(error_type) if error_type else None)
        fault = self.faults.get(key)
        if fault is None:
            if len(self.faults) >= MAX_NAMES:
                key = (found, OTHER)
                fault = self.faults.get(key)
            if fault is None:
                fault = self.faults[key] = FaultStats(found, key[1])
        return fault

    def _add_fault(self, found: str, error_type: Any, request_id: Optional[str],
                   reason: Any) -> None:
        fault = self._fault(found, error_type)
        fault.invocations += 1
        if fault.example_request_id is None and request_id:
            fault.example_request_id = request_id
        if fault.reason is None and reason:
            fault.reason = str(reason)[:300]

    def _add_error(self, error: Event, request_id: Optional[str]) -> None:
        error_type = error.get("error_type") or "Error"
        key = (str(error_type), top_frame(error.get("stack")))
        message = error.get("message")
        self.error_groups.add(key, example=(request_id, None if message is None else str(message)))

    def _add_resource_limit(self, error: Event, request_id: Optional[str],
                            seen: set[str]) -> bool:
        """Count an error naming a Lambda quota (once per invocation and quota)."""
        hit = resource_limit_of(error)
        if hit is None:
            return False
        if hit.limit not in seen:
            seen.add(hit.limit)
            error_type = str(error.get("error_type") or "Error")
            key = (hit.limit, error_type, top_frame(error.get("stack")))
            self.resource_limits.add(key, example=(request_id, hit.text))
        return True

    def _add_access_denied(self, event: Event, request_id: Optional[str]) -> None:
        key = (event.get("principal"), event.get("action"), event.get("resource"))
        self.access_denied.add(
            key, example=(request_id, event.get("code"), event.get("message"),
                          event.get("operation")),
        )

    def _add_calls(self, inv: Invocation, duration: Optional[float]) -> None:
        record = inv.record
        summary = record.get("calls") if record is not None else None
        if not isinstance(summary, dict):
            summary = _EMPTY
        calls = inv.calls
        overflow = inv.overflow
        if not calls and not summary and not overflow:
            return
        if summary and is_v2(record):
            # Schema v2: most calls have no line; the summary's histogram gives their latencies.
            summary, extras = summary_v1(summary)
            self._add_v2_calls(inv, duration, summary, extras)
            return
        # The kept calls by name. Their durations go to the dependency's sketch unchecked (it
        # checks them when it folds its buffer in); the calls beyond them went to add_call on
        # arrival. Calls with an error or retries are rare: they are looked at once more.
        groups: dict[Any, list[Call]] = {}
        odd: list[Call] = []
        for call in calls:
            group = groups.get(call.name)
            if group is None:
                groups[call.name] = [call]
            else:
                group.append(call)
            if call.status != "ok" or call.retries:
                odd.append(call)
        simple = not overflow
        if simple:
            for raw_name in groups:
                if type(raw_name) is not str or not raw_name or raw_name == UNNAMED:
                    simple = False  # two raw names may give one name (None and "")
                    break
        if not simple:
            self._add_named_calls(inv, duration, summary, groups, odd)
            return
        # The common case, in one pass: every raw name is its own name, nothing overflowed.
        # The invocation record's summary counts every call, even those whose records were
        # dropped, so it wins; call records fill in names the summary lacks.
        dependencies = self.dependencies
        threshold = self.n_plus_one_min_calls
        in_summary = 0
        for name, group in groups.items():
            dep = dependencies.get(name)
            if dep is None or not dep.kind:
                dep = self._dependency(name, group[0].kind)
            dep.sketch.extend([c.duration_ms for c in group])
            stats = summary.get(name) if summary else None
            if stats is not None:
                in_summary += 1
            if type(stats) is dict:
                # (_summary_counts, inlined: this runs for every name of every invocation)
                count, total, mx, errs = (stats.get("count"), stats.get("total_ms"),
                                          stats.get("max_ms"), stats.get("errors"))
                if type(count) is not int:
                    count = int(as_float(count) or 0)
                if type(total) is not float or total - total != 0.0:
                    total = as_float(total) or 0.0
                if type(mx) is not float or mx - mx != 0.0:
                    mx = as_float(mx) or 0.0
                if type(errs) is not int:
                    errs = int(as_float(errs) or 0)
            elif isinstance(stats, dict):
                count, total, mx, errs = _summary_counts(stats)
            else:
                values, total = _finite([c.duration_ms for c in group])
                count, mx = len(values), max(values, default=0.0)
                errs = sum(1 for c in group if c.status == "error")
            dep.calls += count
            dep.total_ms += total
            if mx > dep.max_ms:
                dep.max_ms = mx
            dep.errors += errs
            dep.invocations += 1
            if count >= threshold:
                self._check_n_plus_one(inv, name, count, total, duration, group)
        if odd:
            self._add_call_problems(odd, {name: self._dependency(name, None) for name in groups})
        if len(summary) > in_summary:
            self._add_summary_only(inv, duration, summary, groups)

    def _add_named_calls(
        self, inv: Invocation, duration: Optional[float], summary: dict[str, Any],
        groups: dict[Any, list[Call]], odd: list[Call],
    ) -> None:
        """``_add_calls`` when raw names need turning into names, or calls overflowed."""
        named: dict[str, tuple[DependencyStats, list[Call]]] = {}
        for raw_name, group in groups.items():
            name = raw_name if type(raw_name) is str and raw_name else str(raw_name or UNNAMED)
            seen = named.get(name)
            if seen is None:
                dep = self._dependency(name, group[0].kind)
                named[name] = (dep, group)
            else:  # raw names that differ but not as text (None and "")
                dep = seen[0]
                named[name] = (dep, seen[1] + group)
            dep.sketch.extend([c.duration_ms for c in group])
        overflow = inv.overflow
        for name, extra in overflow.items():
            dep = self._dependency(name, extra.kind)
            if name not in named:
                named[name] = (dep, [])
            dep.throttled += extra.throttled
            dep.retries += extra.retries
            dep.calls_retried += extra.calls_retried
            for cls, n in extra.error_classes.items():
                dep.error_classes[cls] = dep.error_classes.get(cls, 0) + n
        if odd:
            self._add_call_problems(odd, {name: dep for name, (dep, _) in named.items()})
        threshold = self.n_plus_one_min_calls
        for name, (dep, group) in named.items():
            stats = summary.get(name) if summary else None
            if isinstance(stats, dict):
                count, total, mx, errs = _summary_counts(stats)
            else:
                values, total = _finite([c.duration_ms for c in group])
                count, mx = len(values), max(values, default=0.0)
                errs = sum(1 for c in group if c.status == "error")
                spilled = overflow.get(name) if overflow else None
                if spilled is not None:
                    count += spilled.count
                    total += spilled.total_ms
                    mx = max(mx, spilled.max_ms)
                    errs += spilled.errors
            dep.calls += count
            dep.total_ms += total
            if mx > dep.max_ms:
                dep.max_ms = mx
            dep.errors += errs
            dep.invocations += 1
            if count >= threshold:
                self._check_n_plus_one(inv, name, count, total, duration, group)
        self._add_summary_only(inv, duration, summary, named)

    def _add_v2_calls(
        self, inv: Invocation, duration: Optional[float], summary: dict[str, Any],
        extras: dict[str, SummaryExtra],
    ) -> None:
        """``_add_calls`` for a v2 record: its summary counts every call and its histogram
        holds every call's latency, so the sketch takes the histogram rather than the call
        lines (which exist for slow and failed calls, or for all calls of a remarkable
        invocation) unless calls overflowed the kept list (they reached the sketch already)."""
        groups: dict[str, list[Call]] = {}
        odd: list[Call] = []
        for call in inv.calls:
            raw = call.name
            name = raw if type(raw) is str and raw else str(raw or UNNAMED)
            groups.setdefault(name, []).append(call)
            if call.status != "ok" or call.retries:
                odd.append(call)
        overflow = inv.overflow
        threshold = self.n_plus_one_min_calls
        deps: dict[str, DependencyStats] = {}
        for name in {**summary, **groups}:
            group = groups.get(name, [])
            extra = extras.get(name)
            dep = self._dependency(name, extra[1] if extra else (group[0].kind if group else None))
            deps[name] = dep
            stats = summary.get(name)
            spilled = overflow.get(name) if overflow else None
            if isinstance(stats, dict):
                count, total, mx, errs = _summary_counts(stats)
                if extra and extra[0] and spilled is None:
                    dep.sketch.add_buckets(extra[0], HISTOGRAM_ACCURACY, total, mx)
                else:
                    dep.sketch.extend([c.duration_ms for c in group])
            else:  # a call line whose name the summary lacks (a hand-made record)
                dep.sketch.extend([c.duration_ms for c in group])
                values, total = _finite([c.duration_ms for c in group])
                count, mx = len(values), max(values, default=0.0)
                errs = sum(1 for c in group if c.status == "error")
                if spilled is not None:
                    count += spilled.count
                    total += spilled.total_ms
                    mx = max(mx, spilled.max_ms)
                    errs += spilled.errors
            if spilled is not None:
                dep.throttled += spilled.throttled
                dep.retries += spilled.retries
                dep.calls_retried += spilled.calls_retried
                for cls, n in spilled.error_classes.items():
                    dep.error_classes[cls] = dep.error_classes.get(cls, 0) + n
            dep.calls += count
            dep.total_ms += total
            if mx > dep.max_ms:
                dep.max_ms = mx
            dep.errors += errs
            dep.invocations += 1
            if count >= threshold:
                seq = extra[2] if extra else None
                self._check_n_plus_one(inv, name, count, total, duration, group, seq)
        if odd:
            self._add_call_problems(odd, deps)

    @staticmethod
    def _add_call_problems(odd: list[Call], deps: dict[str, DependencyStats]) -> None:
        """Error classes (throttling) and retries of the calls that had them."""
        for raw_name, _, _, status, error_class, retries, _ in odd:
            dep = deps[raw_name if type(raw_name) is str and raw_name
                       else str(raw_name or UNNAMED)]
            if status == "error" and error_class:
                key = str(error_class)
                dep.error_classes[key] = dep.error_classes.get(key, 0) + 1
                if key == THROTTLE_CLASS:
                    dep.throttled += 1
            if retries and type(retries) is int and retries > 0:
                dep.retries += retries
                dep.calls_retried += 1

    def _add_summary_only(self, inv: Invocation, duration: Optional[float],
                          summary: dict[str, Any], seen: Container[Any]) -> None:
        """The names of the record's summary that no kept call record had."""
        threshold = self.n_plus_one_min_calls
        for name, stats in summary.items():
            if name in seen or not isinstance(stats, dict):
                continue
            count, total, mx, errs = _summary_counts(stats)
            dep = self._dependency(name, None)
            dep.calls += count
            dep.total_ms += total
            if mx > dep.max_ms:
                dep.max_ms = mx
            dep.errors += errs
            dep.invocations += 1
            if count >= threshold:
                self._check_n_plus_one(inv, name, count, total, duration, [])

    def _fold_call_summary(self, event: Event) -> None:
        dep = self._dependency(event.get("name"), event.get("kind"))
        duration = as_float(event.get("duration_ms")) or 0.0
        dep.calls += 1
        dep.total_ms += duration
        dep.max_ms = max(dep.max_ms, duration)
        if event.get("status") == "error":
            dep.errors += 1

    def _check_n_plus_one(
        self, inv: Invocation, name: str, count: int, total: float, duration: Optional[float],
        calls: list[Call], seq: Optional[int] = None,
    ) -> None:
        threshold = self.n_plus_one_min_calls
        spans = [(c.start_ms, c.duration_ms) for c in calls
                 if type(c.start_ms) is float and type(c.duration_ms) is float]
        if len(spans) != len(calls):  # ints or junk from a hand-made record
            spans = []
            for c in calls:
                start, dur = as_float(c.start_ms), as_float(c.duration_ms)
                if start is not None and dur is not None:
                    spans.append((start, dur))
        if len(spans) >= threshold and (seq is None or len(spans) >= count):
            sequential = longest_sequential_run(spans)
            from_records = True
        elif seq is not None:
            # v2 summary: the runtime measured the longest sequential run of every call.
            sequential = seq
            from_records = True
        elif duration is not None and total <= duration:
            # Counts only: calls that add up to no more than the wall time may be sequential.
            sequential = count
            from_records = False
        else:
            return
        if sequential < threshold:
            return
        entry = self.n_plus_one.get(name)
        if entry is None:
            if len(self.n_plus_one) >= MAX_NAMES:
                return
            entry = self.n_plus_one[name] = NPlusOne(name)
        entry.invocations += 1
        entry.total_ms += total
        entry.from_records = entry.from_records or from_records
        if sequential > entry.max_sequential:
            entry.max_sequential = sequential
            entry.example_request_id = inv.request_id
        entry.max_calls = max(entry.max_calls, count)

    def _dependency(self, name: Any, kind: Any) -> DependencyStats:
        key = str(name) if name else UNNAMED
        dep = self.dependencies.get(key)
        if dep is None:
            if len(self.dependencies) >= MAX_NAMES:
                key = OTHER
                dep = self.dependencies.get(key)
            if dep is None:
                dep = self.dependencies[key] = DependencyStats(key)
        if kind and not dep.kind:
            dep.kind = str(kind)
        return dep

    def _memory_size(self, size: int) -> MemorySizeStats:
        mem = self.memory_sizes.get(size)
        if mem is None:
            if len(self.memory_sizes) >= MAX_NAMES:
                size = -1
                mem = self.memory_sizes.get(size)
            if mem is None:
                mem = self.memory_sizes[size] = MemorySizeStats(size)
        return mem

    @property
    def failure_rate(self) -> Optional[float]:
        """Errors plus timeouts per invocation."""
        if not self.invocations:
            return None
        return (self.errors + self.timeouts) / self.invocations


def aggregate_events(
    events: Iterable[Event],
    *,
    n_plus_one: int = 5,
    max_open: int = 2000,
    grace_events: int = 2000,
) -> tuple[Aggregator, JoinStats]:
    """Join and aggregate parsed events (``pipeline.analyze_events``, kept for its callers)."""
    from lambda_trace.analyzer.pipeline import analyze_events

    analysis = analyze_events(events, n_plus_one=n_plus_one, max_open=max_open,
                              grace_events=grace_events)
    return analysis.combined, analysis.join_stats


class Outcome(NamedTuple):
    """How an invocation ended."""

    timed_out: bool
    failed: bool
    oom: bool
    pressure: bool


def classify(inv: Invocation, size: Optional[float], peak: Optional[float]) -> Outcome:
    """How it ended: timed out, failed (an error or a crash), out of memory, memory pressure."""
    report = inv.report or _EMPTY
    status = report.get("status")
    limited = size is not None and peak is not None and size > 0
    at_limit = limited and peak >= size  # type: ignore[operator]
    timed_out = inv.timed_out or status == "timeout"
    exit_ = inv.runtime_exit
    # "signal: killed" is how Lambda ends a function at its memory limit, but also any other
    # kill: without Max Memory Used at the limit it is a crash, not evidence of memory.
    oom = (
        report.get("error_type") == "Runtime.OutOfMemory"
        or bool(exit_ is not None and (
            (exit_.get("oom") and exit_.get("signal") != "killed") or at_limit))
        or (status == "error" and at_limit)
    )
    record = inv.record
    failed = (
        oom
        or status == "error"
        or exit_ is not None
        or (record is not None and (record.get("status") == "error"
                                    or returned_5xx(record) is not None))
        # an exception the code caught and logged does not fail the invocation
        or any(e.get("error_type") and e.get("unhandled") is not False for e in inv.errors)
    )
    pressure = (
        not oom and limited and (timed_out or failed)
        and peak >= MEMORY_PRESSURE_RATIO * size  # type: ignore[operator]
    )
    return Outcome(timed_out, failed and not timed_out, oom, pressure)


_UNEVENTFUL = Outcome(False, False, False, False)
#: REPORT statuses that say nothing went wrong (absent: an older runtime's plain REPORT)
_QUIET_STATUSES = frozenset({None, "success"})


def longest_sequential_run(spans: list[tuple[float, float]], tolerance_ms: float = 0.5) -> int:
    """The most calls in a row (by start) where each starts after every earlier one has ended."""
    if not spans:
        return 0
    spans = sorted(spans)
    best = run = 1
    prev_end = spans[0][0] + spans[0][1]
    for start, duration in spans[1:]:
        run = run + 1 if start + tolerance_ms >= prev_end else 1
        prev_end = max(prev_end, start + duration)
        best = max(best, run)
    return best


_LIBRARY_PATH = re.compile(
    r'File "(?:[^"]*/(?:site-packages|dist-packages|var/runtime|var/lang/lib|python3\.\d+)/'
    r"|<frozen )"
)


def _repeats(event: Event, previous: Optional[Event]) -> bool:
    """The same event again, but for its timestamp and whitespace (a console's two renderings)."""
    if previous is None or previous["type"] != event["type"] or event["type"] == "call":
        return False
    if previous.get("log_stream") != event.get("log_stream") or previous.keys() != event.keys():
        return False
    for key, value in event.items():
        if key == "timestamp_ms":
            continue
        other = previous[key]
        if isinstance(value, str) and isinstance(other, str):
            if value.split() != other.split():
                return False
        elif value != other:
            return False
    return True


def _is_access_denied(error: Event) -> bool:
    stack = error.get("stack")
    last = stack[-1] if isinstance(stack, list) and stack else ""
    text = f"{error.get('error_type') or ''} {error.get('message') or ''} {last}"
    return "AccessDenied" in text or "not authorized to perform" in text


def _oom_example(inv: Invocation, size: Optional[float], peak: Optional[float],
                 duration: Optional[float]) -> dict[str, Any]:
    """What one out-of-memory invocation tells: its size, when it died, the memory warning."""
    warning = getattr(inv, "memory_warning", None)
    example: dict[str, Any] = {
        "request_id": inv.request_id,
        "memory_size_mb": size,
        "max_memory_used_mb": peak,
        "duration_ms": duration,
        "warning_rss_mb": None,
        "warning_elapsed_ms": None,
        "in_flight": None,
    }
    if warning is not None:
        example["warning_rss_mb"] = as_float(warning.get("rss_mb"))
        example["warning_elapsed_ms"] = as_float(warning.get("elapsed_ms"))
        running = [c for c in warning.get("in_flight") or () if isinstance(c, dict)]
        if running:
            longest = max(running, key=lambda c: as_float(c.get("running_ms")) or 0.0)
            example["in_flight"] = {"name": longest.get("name"), "kind": longest.get("kind"),
                                    "running_ms": as_float(longest.get("running_ms"))}
    return example


def top_frame(stack: Any) -> Optional[str]:
    """The innermost frame of a Python or Node.js stack (a list of lines or one text), shortened."""
    if not stack:
        return None
    lines: list[str] = []
    for item in stack if isinstance(stack, list) else [stack]:
        lines.extend(str(item).replace("\r", "\n").split("\n"))
    python_frame = None
    own_frame = None
    for line in lines:
        text = line.replace("\u00a0", " ").strip()
        if text.startswith('File "'):
            python_frame = text  # the last one is the innermost
            if not _LIBRARY_PATH.search(text):
                own_frame = text
        elif text.startswith("at ") and python_frame is None:
            return text[3:][:200]
    if python_frame is None:
        return None
    # The innermost frame of the function's own code says where to look; botocore's
    # _make_api_call, where every ClientError is raised, says nothing.
    python_frame = own_frame or python_frame
    # 'File "/var/task/app.py", line 12, in handler' -> 'app.py:12 in handler'
    try:
        path, rest = python_frame[6:].split('"', 1)
        parts = [p.strip() for p in rest.split(",")]
        line_no = parts[1].split()[-1] if len(parts) > 1 else "?"
        func = parts[2][3:] if len(parts) > 2 and parts[2].startswith("in ") else ""
        # a function name is one word: a traceback pasted on one line (the console's copy)
        # continues with the source line after it
        func = func.split()[0] if func.split() else ""
        short = path.rsplit("/", 1)[-1]
        return f"{short}:{line_no} in {func}".strip()[:200]
    except (ValueError, IndexError):
        return python_frame[:200]


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
        parsed = parse_timestamp(text) if isinstance(text, str) else None
        if parsed is not None:
            return parsed * 1000 - (duration or 0.0)
    return None


def _slow_entry(
    inv: Invocation, duration: float, ts: Optional[float], outcome: Outcome,
    size: Optional[float], peak: Optional[float],
) -> dict[str, Any]:
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
    entry: dict[str, Any] = {
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


def _add_in_flight(entry: dict[str, Any], warning: Event, duration: float) -> None:
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
                counted += _summary_counts(stats)[0]
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


def _finite(values: list[Any]) -> tuple[list[Any], float]:
    """The values that are finite numbers, and their sum."""
    try:
        total = sum(values)
        if total - total == 0.0:
            return values, total
    except TypeError:
        pass
    values = [v for v in map(as_float, values) if v is not None]
    return values, sum(values)


def _summary_counts(stats: dict[str, Any]) -> tuple[int, float, float, int]:
    """``(count, total_ms, max_ms, errors)`` of one name in an invocation record's summary."""
    count, total, mx, errors = (stats.get("count"), stats.get("total_ms"), stats.get("max_ms"),
                                stats.get("errors"))
    # Fast path for what our records hold: ints and finite floats.
    if type(count) is not int:
        count = int(as_float(count) or 0)
    if type(total) is not float or total - total != 0.0:
        total = as_float(total) or 0.0
    if type(mx) is not float or mx - mx != 0.0:
        mx = as_float(mx) or 0.0
    if type(errors) is not int:
        errors = int(as_float(errors) or 0)
    return count, total, mx, errors
