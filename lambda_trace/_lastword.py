"""The last word before a timeout that no Python thread can write: a C-level stack dump.

The watchdog thread (``_watchdog``) needs the GIL to write its ``timeout_warning``. A handler
stuck in one long C call that holds the GIL (``re.match`` backtracking, ``sum(range(10**11))``,
a C extension's loop) keeps it from running, and Lambda's kill leaves no record at all.
``faulthandler.dump_traceback_later`` runs its own C thread that writes every thread's Python
stack to a file descriptor without taking the GIL
(https://docs.python.org/3/library/faulthandler.html#dumping-the-tracebacks-after-a-timeout).
It is armed per invocation for the same moment as the warning and cancelled at its end; the
analyzer reads the dump (``Timeout (0:00:00.900000)!`` and the ``File "...", line N in f``
lines) as that timeout's stack.

It costs a thread start and join per invocation (≈40 µs, ``benchmarks/bench_last_word.py``);
``LAMBDA_TRACE_STACK_DUMP=0`` turns it off. The dump goes to a private duplicate of fd 2, so a
handler that closed stderr cannot have it written into whatever reuses that descriptor.
"""

from __future__ import annotations

import os

_state: list[int] = []  # [the private stderr descriptor], taken at the first arming
_disabled: list[bool] = []


def enabled() -> bool:
    if not _disabled:
        value = os.environ.get("LAMBDA_TRACE_STACK_DUMP", "1").strip().lower()
        _disabled.append(value in ("0", "false", "no", "off"))
    return not _disabled[0]


def arm(delay_s: float) -> None:
    """Dump every thread's stack to stderr in ``delay_s`` seconds unless ``cancel`` comes first."""
    import faulthandler  # a built-in C module: ≈0.05 ms

    if not _state:
        _state.append(os.dup(2))
    faulthandler.dump_traceback_later(max(delay_s, 0.001), repeat=False, file=_state[0])


def cancel() -> None:
    import faulthandler

    faulthandler.cancel_dump_traceback_later()
