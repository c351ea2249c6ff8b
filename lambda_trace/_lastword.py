"""The last word before a timeout that no Python thread can write: a C-level stack dump.

The watchdog thread (``_watchdog``) needs the GIL to write its ``timeout_warning``. A handler
stuck in one long C call that holds the GIL (``re.match`` backtracking, ``sum(range(10**11))``,
a C extension's loop) keeps it from running, and Lambda's kill leaves no record at all.
``faulthandler`` writes every thread's Python stack to a file descriptor from C, without the
GIL (https://docs.python.org/3/library/faulthandler.html). It is armed per invocation for the
same moment as the warning and cancelled at its end; the analyzer reads the dump (thread lines
``Thread 0x… (most recent call first):`` and ``File "...", line N in f`` lines) as that
timeout's stack.

Three ways to arm it:

* ``timer`` (the default): a POSIX timer (``timer_create`` with ``SIGEV_THREAD_ID``, through
  ``ctypes``) that sends a real-time signal to the watchdog thread at the deadline;
  ``faulthandler.register`` dumps every thread's stack from that signal, in C. Arming and
  cancelling are one ``timer_settime`` each (≈2 µs together): nothing is started or joined per
  invocation. The signal goes to our own watchdog thread, which is waiting (for its condition or
  for the GIL) by then, never to a thread running Python code. The first arming of a process
  (its cold start, where ``ctypes`` would cost ≈1.2 ms of import) uses ``thread`` instead; the
  timer is made at the second (https://man7.org/linux/man-pages/man2/timer_create.2.html).
  Where it cannot be made (no ``ctypes``, not Linux) every arming uses ``thread``. The dump
  starts at the thread lines, without ``Timeout (…)!``.
* ``thread`` (``LAMBDA_TRACE_STACK_DUMP=thread``): ``faulthandler.dump_traceback_later``, which
  starts and joins a C thread per invocation (≈60 µs, ``benchmarks/bench_last_word.py``). Its
  dump starts with ``Timeout (0:00:00.950000)!``.
* ``signal`` (``LAMBDA_TRACE_STACK_DUMP=signal``, only while the handler does not own SIGALRM):
  ``faulthandler.register(SIGALRM)`` plus ``setitimer(ITIMER_REAL)``, ≈4 µs. Not the default:
  under the local runner 2 of 10 handlers sleeping at the deadline died of SIGSEGV, the signal
  having interrupted a thread that was running Python code while all stacks were walked
  (SIGALRM goes to the process, so to any thread).

The dump is due halfway between the warning and the deadline (``dump_at``): when a Python
thread can run, the watchdog has written its warning and is idle by then, so the dump (which
reads every thread's frames without the GIL) never races it; the analyzer keeps the warning.
``LAMBDA_TRACE_STACK_DUMP=0`` turns it off. The dump goes to a private duplicate of fd 2, so a
handler that closed stderr cannot have it written into whatever reuses that descriptor.
"""

from __future__ import annotations

import _signal  # the C module: `signal` imports enum (≈2 ms of cold start)
import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Optional

    from lambda_trace._thread_timer import ThreadTimer

_fd: list[int] = []  # the private stderr descriptor, taken at the first arming
_setting: list[str] = []  # "timer", "thread", "signal" or "off", read once
_armed: list[str] = [""]  # how the running invocation was armed: "timer", "signal", "thread", ""
_armings = [0]  # armings so far: the first one (the cold start) never makes the timer


def enabled() -> bool:
    if not _setting:
        value = os.environ.get("LAMBDA_TRACE_STACK_DUMP", "1").strip().lower()
        if value in ("0", "false", "no", "off"):
            _setting.append("off")
        else:
            _setting.append(value if value in ("signal", "thread") else "timer")
    return _setting[0] != "off"


def _sigalrm_free() -> bool:
    """No Python handler on SIGALRM and no interval timer running: ours to use."""
    if not hasattr(_signal, "setitimer"):
        return False
    handler = _signal.getsignal(_signal.SIGALRM)
    if handler not in (_signal.SIG_DFL, None):
        return False
    return bool(_signal.getitimer(_signal.ITIMER_REAL) == (0.0, 0.0))


def dump_at(warning_ns: int, deadline_ns: int) -> int:
    """When the dump is due: halfway from the warning's moment to the deadline."""
    return warning_ns + (deadline_ns - warning_ns) // 2


def arm(delay_s: float, thread_id: Optional[int] = None) -> None:
    """Dump every thread's stack to stderr in ``delay_s`` seconds unless ``cancel`` comes first.

    ``thread_id``: the native id of the watchdog thread, which receives the timer's signal.
    """
    if not _fd:
        _fd.append(os.dup(2))
    delay_s = max(delay_s, 0.001)
    _armings[0] += 1
    if _setting[0] == "timer" and thread_id is not None and _armings[0] > 1:
        timer = _timer_for(thread_id)
        if timer is not None:
            timer.arm(delay_s)
            _armed[0] = "timer"
            return
    import faulthandler  # a built-in C module: ≈0.05 ms

    if _setting[0] == "signal" and _sigalrm_free():
        # Registered again at every arming: a handler set with signal.signal() since the last
        # one replaced ours, and SIGALRM's default action would end the process.
        faulthandler.unregister(_signal.SIGALRM)
        faulthandler.register(_signal.SIGALRM, file=_fd[0], all_threads=True, chain=False)
        _signal.setitimer(_signal.ITIMER_REAL, delay_s)
        _armed[0] = "signal"
        return
    faulthandler.dump_traceback_later(delay_s, repeat=False, file=_fd[0])
    _armed[0] = "thread"


def cancel() -> None:
    how, _armed[0] = _armed[0], ""
    if how == "timer":
        timer = _timer[0] if _timer else None
        if timer is not None:
            timer.cancel()
    elif how == "signal":
        if _signal.getsignal(_signal.SIGALRM) in (_signal.SIG_DFL, None):
            _signal.setitimer(_signal.ITIMER_REAL, 0)
        # else the handler took SIGALRM over during the invocation (signal.signal + alarm):
        # the timer is its own now, and stays as it set it
    elif how == "thread":
        import faulthandler

        faulthandler.cancel_dump_traceback_later()


#: [the POSIX timer] once made; [None]: it cannot be made here (every arming uses ``thread``)
_timer: list[Optional[ThreadTimer]] = []


def _timer_for(thread_id: int) -> Optional[ThreadTimer]:
    """The timer signalling ``thread_id``; made again when the watchdog thread changed (it was
    restarted, or this is a forked child, which inherits no timer: ``_forget_timer``)."""
    if _timer:
        timer = _timer[0]
        if timer is None or timer.thread_id == thread_id:
            return timer
        timer.close()
        _timer.clear()
    try:
        from lambda_trace._thread_timer import ThreadTimer

        made: Optional[ThreadTimer] = ThreadTimer(thread_id, _fd[0])
    except Exception:  # no ctypes, not Linux, no timer_create, no free real-time signal
        made = None
    _timer.append(made)
    return made


def _forget_timer() -> None:
    """After ``fork``: the child has no timer (POSIX timers are not inherited); the next arming
    makes its own. Here rather than a ``getpid()`` per arming (a system call per invocation)."""
    _timer.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_timer)
