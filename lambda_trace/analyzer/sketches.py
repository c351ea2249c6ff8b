"""Streaming statistics with a size bound: a quantile sketch, bounded top-k, a time series.

Everything here has a size bound that does not grow with the input, so a multi-GB log runs in
bounded memory: sketches keep at most ``max_bins`` buckets, top-k tables ``capacity`` keys and
the time series ``max_points`` buckets.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any, Optional

from lambda_trace.analyzer.numbers import as_float


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
