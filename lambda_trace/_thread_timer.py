"""A POSIX timer whose expiry signals one thread and makes faulthandler dump every stack, in C.

``timer_create(CLOCK_MONOTONIC)`` with ``SIGEV_THREAD_ID`` (Linux): at expiry the kernel sends a
real-time signal to that thread only (https://man7.org/linux/man-pages/man2/timer_create.2.html),
and ``faulthandler.register`` has installed a C handler for it that writes every thread's Python
stack without the GIL (https://docs.python.org/3/library/faulthandler.html#dumping-the-traceback-on-a-user-signal).
Arming and cancelling are one ``timer_settime`` each. Imported only by ``_lastword``, at the
second arming of a process: ``ctypes`` costs ≈1.2 ms of import, kept off the cold start.
"""

from __future__ import annotations

import _ctypes
import _signal
import faulthandler
import os

from lambda_trace._libc import Int, Library, Long, Pointer

#: ``sigev_notify`` value: signal the thread in ``sigev_notify_thread_id`` (Linux's <signal.h>)
SIGEV_THREAD_ID = 4
CLOCK_MONOTONIC = 1


class _SigEvent(_ctypes.Array):  # type: ignore[type-arg]
    # struct sigevent on 64-bit Linux (glibc), 64 bytes as 16 ints: sigval (2), signo, notify,
    # then the union whose first int is the thread id.
    _type_ = Int
    _length_ = 16


class _ITimerSpec(_ctypes.Array):  # type: ignore[type-arg]
    # struct itimerspec as four longs: interval (sec, nsec), then value (sec, nsec)
    _type_ = Long
    _length_ = 4


def _library() -> Library:
    libc = Library(None)
    try:
        libc.function("timer_create")
        return libc
    except AttributeError:  # glibc < 2.34 keeps timers in librt
        return Library("librt.so.1")


def _free_signal() -> int:
    """A real-time signal nobody handles from Python, from the top of the range down."""
    for signum in range(_signal.SIGRTMAX - 2, _signal.SIGRTMIN + 1, -1):
        if _signal.getsignal(signum) in (_signal.SIG_DFL, None):
            return signum
    raise OSError("no free real-time signal")


class ThreadTimer:
    """One timer for the process, aimed at ``thread_id``; the dump goes to ``fd``."""

    def __init__(self, thread_id: int, fd: int) -> None:
        if _ctypes.sizeof(Pointer) != 8:
            raise OSError("the sigevent layout is for 64-bit Linux")
        lib = _library()
        self.thread_id = thread_id
        self.pid = os.getpid()
        self.signum = _free_signal()
        faulthandler.register(self.signum, file=fd, all_threads=True, chain=False)
        event = _SigEvent()
        event[2] = self.signum
        event[3] = SIGEV_THREAD_ID
        event[4] = thread_id
        self._id = Pointer()
        create = lib.function("timer_create")
        if create(CLOCK_MONOTONIC, _ctypes.byref(event), _ctypes.byref(self._id)) != 0:
            faulthandler.unregister(self.signum)
            raise OSError(_ctypes.get_errno(), "timer_create failed")
        # No argtypes: the arguments are passed as they are (their conversion would be half
        # of the call's cost); every one is already a ctypes object, an int or None.
        self._settime = lib.function("timer_settime")
        self._delete = lib.function("timer_delete")
        self._due = _ITimerSpec()
        self._due_ref = _ctypes.byref(self._due)
        self._off_ref = _ctypes.byref(_ITimerSpec())  # all zero: disarmed

    def arm(self, delay_s: float) -> None:
        """Signal the thread once, ``delay_s`` seconds from now (replacing any earlier arming)."""
        whole = int(delay_s)
        due = self._due
        due[2] = whole
        due[3] = int((delay_s - whole) * 1e9)
        self._settime(self._id, 0, self._due_ref, None)

    def cancel(self) -> None:
        self._settime(self._id, 0, self._off_ref, None)

    def close(self) -> None:
        """Delete the timer (unless this is a forked child, where it does not exist)."""
        if self.pid == os.getpid():
            self._delete(self._id)
            faulthandler.unregister(self.signum)
