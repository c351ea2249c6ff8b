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

from lambda_trace import _memory, _safety

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Callable, Optional

    from lambda_trace._invocation import Invocation

    TimeoutCallback = Callable[[Invocation, int], None]
    MemoryCallback = Callable[[Invocation, int, int], None]
    #: (invocation, fire_at perf ns or None, RSS threshold bytes or None, poll interval ns)
    Arming = tuple[Invocation, Optional[int], Optional[int], int]

#: Bounds of the automatic margin (ms before the deadline at which the warning is written).
MIN_MARGIN_MS = 50.0
MAX_MARGIN_MS = 1000.0


def default_margin_ms(remaining_ms: float) -> float:
    """10% of the time left at invocation start, within 50 ms..1 s, and never over half of it.

    1 s timeout -> 100 ms; 3 s -> 300 ms; 10 s and more -> 1 s; 60 ms left -> 30 ms.
    """
    # Comparisons rather than min()/max(): this runs at every invocation start.
    margin = remaining_ms * 0.1
    if margin < MIN_MARGIN_MS:
        margin = MIN_MARGIN_MS
    elif margin > MAX_MARGIN_MS:
        margin = MAX_MARGIN_MS
    half = remaining_ms / 2
    return half if margin > half else margin


#: After the last arming the thread keeps waking at the poll interval this long before it sleeps
#: until notified, so back-to-back invocations arm it without a notify and without waking it.
IDLE_LINGER_NS = 1_000_000_000


class Watchdog:
    """The process's watchdog; ``arm`` at invocation start, ``disarm`` at its end.

    Arming publishes one tuple; the thread is notified only when it would otherwise wake too
    late for the new arming (it sleeps indefinitely, or past the new deadline). The two sides
    follow Dekker's order — arm writes ``_armed`` then reads ``_wake_at``; the thread writes
    ``_wake_at`` then reads ``_armed`` (under the condition's lock) — so no arming is missed.
    """

    def __init__(self, on_timeout: TimeoutCallback, on_memory: MemoryCallback) -> None:
        self._on_timeout = on_timeout
        self._on_memory = on_memory
        self._cond = threading.Condition(threading.Lock())
        self._thread: Optional[threading.Thread] = None
        # After a fork the thread object is copied but the thread is gone: start a new one.
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._forget_thread)
        self._armed: Optional[Arming] = None
        #: armings so far: an invocation armed and disarmed between two wake-ups still counts
        #: as activity, so the thread keeps lingering (polling) instead of sleeping for a notify
        self._arm_count = 0
        #: RSS at the previous poll of this arming (None: none yet, the start's RSS is the base)
        self._last_rss: Optional[int] = None
        #: whether that RSS was at least half the limit (then the thread polls faster)
        self._last_rss_high = False
        #: perf ns at which the thread's current wait ends; None: waiting for a notify
        self._wake_at: Optional[int] = None
        #: True from the thread's start until its loop exits (which only a bug can make happen)
        self._running = False

    def arm(
        self,
        inv: Invocation,
        fire_at_ns: Optional[int],
        memory_threshold_bytes: Optional[int],
        poll_ms: float,
    ) -> None:
        """Watch ``inv``: timeout warning at ``fire_at_ns`` (perf_counter_ns), RSS threshold."""
        poll_ns = max(1, int(poll_ms * 1_000_000))
        self._armed = (inv, fire_at_ns, memory_threshold_bytes, poll_ns)
        self._arm_count += 1
        thread = self._thread
        if thread is None or not self._running:  # a flag: Thread.is_alive() costs ≈0.6 µs
            if thread is not None:  # killed by something we did not catch: report, restart
                _safety.report("watchdog", RuntimeError("the watchdog thread had died; restarted"))
                self._wake_at = None
            self._start()
            return
        due = fire_at_ns
        if memory_threshold_bytes is not None:
            first_poll = time.perf_counter_ns() + poll_ns
            if due is None or first_poll < due:
                due = first_poll
        wake_at = self._wake_at
        if wake_at is None or (due is not None and wake_at > due):
            with self._cond:
                self._cond.notify()

    def disarm(self) -> None:
        self._armed = None

    def _forget_thread(self) -> None:
        self._thread = None
        self._running = False
        self._wake_at = None
        self._cond = threading.Condition(threading.Lock())

    def _start(self) -> None:
        self._running = True
        self._thread = threading.Thread(
            target=self._run_guarded, name="lambda-trace-watchdog", daemon=True
        )
        try:
            self._thread.start()
        except BaseException:
            self._running = False
            raise

    def _run_guarded(self) -> None:
        try:
            self._run()
        finally:
            self._running = False

    def _run(self) -> None:
        probe = _memory.probe()
        current: Optional[Arming] = None
        timeout_done = memory_done = True
        idle_since: Optional[int] = None
        arms_seen = -1
        poll_ns = 10_000_000
        while True:
            with self._cond:
                armed = self._armed
                if armed is not current:
                    current = armed
                    if armed is not None:
                        self._last_rss = None
                        self._last_rss_high = False
                        timeout_done = armed[1] is None
                        memory_done = armed[2] is None
                        poll_ns = armed[3]
                now = time.perf_counter_ns()
                wait: Optional[int]
                if armed is None:
                    arms = self._arm_count
                    if idle_since is None or arms != arms_seen:
                        idle_since, arms_seen = now, arms
                    wait = poll_ns if now - idle_since < IDLE_LINGER_NS else None
                else:
                    idle_since = None
                    waits = []
                    if not timeout_done and armed[1] is not None:
                        waits.append(armed[1] - now)
                    if not memory_done:
                        # from half the limit up, a poll 4x as often: more chances to run
                        # between a hog's page faults on a busy CPU (≈1 µs per poll)
                        waits.append(poll_ns >> 2 if self._last_rss_high else poll_ns)
                    wait = min(waits) if waits else None
                self._wake_at = None if wait is None else now + wait
                if self._armed is not armed:
                    continue  # re-armed meanwhile: recompute before sleeping
                if wait is None:
                    self._cond.wait()
                    continue
                if wait > 0:
                    self._cond.wait(wait / 1e9)
                if self._armed is not armed or armed is None:
                    continue
            inv, fire_at, threshold, _ = armed
            if inv.finished:
                continue
            try:
                if not memory_done and threshold is not None:
                    memory_done = self._check_memory(inv, probe, threshold)
                now = time.perf_counter_ns()
                if not timeout_done and fire_at is not None and now >= fire_at:
                    timeout_done = True
                    if self._armed is armed:
                        self._on_timeout(inv, now)
            except BaseException as exc:  # the watchdog must outlive any bug (a sink's SystemExit)
                _safety.report("watchdog", exc)

    def _check_memory(self, inv: Invocation, probe: _memory.MemoryProbe, threshold: int) -> bool:
        """Poll RSS once; True once the warning has been written (or memory cannot be read)."""
        try:
            rss = probe.rss_bytes()
        except Exception as exc:  # reported as the memory failure it is, then not polled again
            _safety.report("memory", exc)
            return True
        if rss is None:
            return True
        last = inv.rss_seen if self._last_rss is None else self._last_rss
        growth, self._last_rss = rss - last, rss
        limit_mb = inv.memory_limit_mb
        self._last_rss_high = limit_mb is not None and rss * 2 >= limit_mb * _MB
        if rss > inv.rss_seen:
            inv.rss_seen = rss
        if inv.finished:
            return False
        if rss >= threshold or _crosses_before_next_poll(rss, growth, limit_mb):
            self._on_memory(inv, time.perf_counter_ns(), rss)
            return True
        return False


def _crosses_before_next_poll(rss: int, growth: int, limit_mb: Optional[int]) -> bool:
    """True when RSS, growing as fast as over the last poll interval, passes the limit first.

    Lambda's cgroup kills at the limit without notice. Between two polls (10 ms, plus up to the
    interpreter's 5 ms switch interval while the handler holds the GIL) a function that faults in
    pages at full speed (~6 MB/ms) grows by more than the 10% between the warning share and the
    limit, so the share alone can be jumped over. Judged only from half the limit up, so a
    one-off load early in an invocation is not taken for a runaway.
    """
    if growth <= 0 or not limit_mb:
        return False
    limit = limit_mb * _MB
    return rss * 2 >= limit and rss + growth >= limit


_MB = 1024 * 1024
