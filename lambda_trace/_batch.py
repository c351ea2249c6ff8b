"""Downstream latencies of warm, successful invocations, batched per process before EMF.

EMF puts dimension values at a document's root, so each (Service, Operation) needs a document of
its own: one invocation with six dependencies would write six. Instead their
``DownstreamLatency`` values wait here, across invocations of one execution environment, and go
out as one document per (Service, Operation) when

* the invocation failed, timed out or was warned about: everything waiting goes out with its
  own values, at once (no metric of such an invocation is ever deferred);
* an operation holds 100 values (the most one EMF metric takes);
* the wall-clock minute changes, or the oldest value is ``MAX_AGE_MS`` old: CloudWatch keeps
  1-minute resolution for these, so a value is published in the minute it was measured;
* the process exits normally (``atexit``).

What a batch can lose: when Lambda shuts an environment down it stops the process without
running ``atexit`` (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-shutdown),
so the latencies of the successful invocations of its last minute at most (≤ 100 per operation)
are never published. The invocation records still hold them.
"""

from __future__ import annotations

import threading

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any

    #: (namespace, service, Service, Operation)
    Key = tuple[str, str, str, str]
    #: (key, epoch ms of the newest value, latencies in ms)
    Flushed = tuple[Key, int, list[Any]]

#: One EMF metric holds at most 100 values.
MAX_VALUES = 100
#: A value waits at most this long (and never across a minute boundary).
MAX_AGE_MS = 60_000
#: (Service, Operation) pairs kept waiting at most; a new pair beyond flushes the batch.
MAX_KEYS = 50


class Batch:
    """The waiting latencies of one process; every method is thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: key -> latencies waiting
        self._values: dict[Key, list[Any]] = {}
        #: epoch ms of the oldest and the newest waiting value
        self._first_ms = 0
        self._last_ms = 0

    def add(self, keyed: list[tuple[Key, list[Any]]], now_ms: int, defer: bool) -> list[Flushed]:
        """Add one invocation's latencies; returns what must go out now.

        ``defer`` False (a failed, timed-out or warned invocation): everything goes out.
        """
        out: list[Flushed] = []
        with self._lock:
            if self._values and (
                now_ms // 60_000 != self._first_ms // 60_000
                or now_ms - self._first_ms >= MAX_AGE_MS
            ):
                out.extend(self._take_all())  # an earlier minute's values, stamped with it
            for key, values in keyed:
                if not values:
                    continue
                waiting = self._values.get(key)
                if waiting is None:
                    if len(self._values) >= MAX_KEYS:
                        out.extend(self._take_all())
                    waiting = self._values[key] = []
                waiting.extend(values)
                # stamped now, before a MAX_KEYS flush later in this loop can take them
                if not self._first_ms:
                    self._first_ms = now_ms
                self._last_ms = now_ms
                if len(waiting) >= MAX_VALUES:
                    del self._values[key]
                    out.append((key, now_ms, waiting))
            if not self._values:
                self._first_ms = 0
            if not defer:
                out.extend(self._take_all())
        return _split(out)

    def take_all(self) -> list[Flushed]:
        """Everything waiting (a timeout warning, the process's exit)."""
        with self._lock:
            return _split(self._take_all())

    def waiting(self) -> int:
        """Values waiting now (what a shutdown would lose)."""
        with self._lock:
            return sum(len(v) for v in self._values.values())

    def _take_all(self) -> list[Flushed]:
        out = [(key, self._last_ms, values) for key, values in self._values.items() if values]
        self._values = {}
        self._first_ms = 0
        return out


def _split(flushed: list[Flushed]) -> list[Flushed]:
    """Runs of at most MAX_VALUES values per document."""
    out: list[Flushed] = []
    for key, ts, values in flushed:
        for start in range(0, len(values), MAX_VALUES):
            out.append((key, ts, values[start : start + MAX_VALUES]))
    return out


#: The process's batch.
batch = Batch()
