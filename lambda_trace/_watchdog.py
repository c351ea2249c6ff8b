"""One long-lived daemon thread per process: timeout warning before Lambda's kill, RSS polling.

Armed per invocation (a Condition notify, ≈2-3 µs) rather than a ``threading.Timer`` per
invocation (≈100-200 µs to start a thread) or SIGALRM (which would interrupt the handler's own
code). While armed it wakes at ``fire_at`` for the timeout warning and every ``poll_ms`` to read
RSS with one ``pread`` of /proc/self/statm (≈1 µs). Disarming costs one assignment: the thread
notices at its next wake-up and then sleeps until the next arm.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Callable, Optional

from lambda_trace import _memory, _safety
from lambda_trace._invocation import Invocation

TimeoutCallback = Callable[[Invocation, int], None]
MemoryCallback = Callable[[Invocation, int, int], None]

#: Bounds of the automatic margin (ms before the deadline at which the warning is written).
MIN_MARGIN_MS = 50.0
MAX_MARGIN_MS = 1000.0


def default_margin_ms(remaining_ms: float) -> float:
    """10% of the time left at invocation start, within 50 ms..1 s, and never over half of it.

    1 s timeout -> 100 ms; 3 s -> 300 ms; 10 s and more -> 1 s; 60 ms left -> 30 ms.
    """
    margin = min(max(remaining_ms * 0.1, MIN_MARGIN_MS), MAX_MARGIN_MS)
    return min(margin, remaining_ms / 2)


class Watchdog:
    """The process's watchdog; ``arm`` at invocation start, ``disarm`` at its end."""

    def __init__(self, on_timeout: TimeoutCallback, on_memory: MemoryCallback) -> None:
        self._on_timeout = on_timeout
        self._on_memory = on_memory
        self._cond = threading.Condition(threading.Lock())
        self._thread: Optional[threading.Thread] = None
        self._pid = 0
        self._inv: Optional[Invocation] = None
        self._fire_at_ns: Optional[int] = None
        self._mem_threshold: Optional[int] = None
        self._poll_ns = 10_000_000
        self._timeout_done = False
        self._memory_done = False

    def arm(
        self,
        inv: Invocation,
        fire_at_ns: Optional[int],
        memory_threshold_bytes: Optional[int],
        poll_ms: float,
    ) -> None:
        """Watch ``inv``: timeout warning at ``fire_at_ns`` (perf_counter_ns), RSS threshold."""
        with self._cond:
            self._inv = inv
            self._fire_at_ns = fire_at_ns
            self._mem_threshold = memory_threshold_bytes
            self._poll_ns = max(1, int(poll_ms * 1_000_000))
            self._timeout_done = fire_at_ns is None
            self._memory_done = memory_threshold_bytes is None
            self._cond.notify()
        if self._pid != os.getpid() or self._thread is None:
            self._start()

    def disarm(self) -> None:
        self._inv = None

    def _start(self) -> None:
        # After a fork the thread object is copied but the thread is gone: start a new one.
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="lambda-trace-watchdog", daemon=True)
        self._thread.start()

    def _next_wait_ns(self, now_ns: int) -> Optional[int]:
        waits = []
        if not self._timeout_done and self._fire_at_ns is not None:
            waits.append(self._fire_at_ns - now_ns)
        if not self._memory_done:
            waits.append(self._poll_ns)
        return min(waits) if waits else None

    def _run(self) -> None:
        probe = _memory.probe()
        while True:
            with self._cond:
                if self._inv is None:
                    self._cond.wait()
                    continue
                wait_ns = self._next_wait_ns(time.perf_counter_ns())
                if wait_ns is None:
                    self._cond.wait()  # nothing left to watch until the next arm
                    continue
                if wait_ns > 0:
                    self._cond.wait(wait_ns / 1e9)
                inv = self._inv
                fire_at = self._fire_at_ns
                threshold = self._mem_threshold
            if inv is None or inv.finished:
                continue
            try:
                self._check(inv, probe, fire_at, threshold)
            except Exception as exc:  # the watchdog must outlive any bug
                _safety.report("watchdog", exc)

    def _check(
        self,
        inv: Invocation,
        probe: _memory.MemoryProbe,
        fire_at: Optional[int],
        threshold: Optional[int],
    ) -> None:
        if not self._memory_done and threshold is not None:
            rss = probe.rss_bytes()
            if rss is not None:
                if rss > inv.rss_seen:
                    inv.rss_seen = rss
                if rss >= threshold and self._inv is inv:
                    self._memory_done = True
                    self._on_memory(inv, time.perf_counter_ns(), rss)
        now = time.perf_counter_ns()
        due = fire_at is not None and now >= fire_at
        if due and not self._timeout_done and self._inv is inv:
            self._timeout_done = True
            self._on_timeout(inv, now)
