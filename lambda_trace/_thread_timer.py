"""A POSIX timer whose expiry signals one thread and makes faulthandler dump every stack, in C.

``timer_create(CLOCK_MONOTONIC)`` with ``SIGEV_THREAD_ID`` (Linux): at expiry the kernel sends a
real-time signal to that thread only (https://man7.org/linux/man-pages/man2/timer_create.2.html),
and ``faulthandler.register`` has installed a C handler for it that writes every thread's Python
stack without the GIL (https://docs.python.org/3/library/faulthandler.html#dumping-the-traceback-on-a-user-signal).
Arming and cancelling are one ``timer_settime`` each. Imported only by ``_lastword``, at the
second arming of a process: ``ctypes`` costs ≈1.2 ms of import, kept off the cold start.
"""

from __future__ import annotations

import _signal
import ctypes
import faulthandler
import os

#: ``sigev_notify`` value: signal the thread in ``sigev_notify_thread_id`` (Linux's <signal.h>)
SIGEV_THREAD_ID = 4
CLOCK_MONOTONIC = 1


class _SigEvent(ctypes.Structure):
    # struct sigevent on 64-bit Linux (glibc): sigval, signo, notify, then a 48-byte union
    # whose first int is the thread id.
    _fields_ = [
        ("sigev_value", ctypes.c_void_p),
        ("sigev_signo", ctypes.c_int),
        ("sigev_notify", ctypes.c_int),
        ("thread_id", ctypes.c_int),
        ("_pad", ctypes.c_int * 11),
    ]


#: struct itimerspec as four longs: interval (sec, nsec), then value (sec, nsec)
_ITimerSpec = ctypes.c_long * 4


def _library() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    if hasattr(libc, "timer_create"):
        return libc
    return ctypes.CDLL("librt.so.1", use_errno=True)  # glibc < 2.34 keeps timers in librt


def _free_signal() -> int:
    """A real-time signal nobody handles from Python, from the top of the range down."""
    for signum in range(_signal.SIGRTMAX - 2, _signal.SIGRTMIN + 1, -1):
        if _signal.getsignal(signum) in (_signal.SIG_DFL, None):
            return signum
    raise OSError("no free real-time signal")


class ThreadTimer:
    """One timer for the process, aimed at ``thread_id``; the dump goes to ``fd``."""

    def __init__(self, thread_id: int, fd: int) -> None:
        if ctypes.sizeof(ctypes.c_void_p) != 8:
            raise OSError("the sigevent layout is for 64-bit Linux")
        lib = _library()
        self.thread_id = thread_id
        self.pid = os.getpid()
        self.signum = _free_signal()
        faulthandler.register(self.signum, file=fd, all_threads=True, chain=False)
        event = _SigEvent()
        event.sigev_signo = self.signum
        event.sigev_notify = SIGEV_THREAD_ID
        event.thread_id = thread_id
        self._id = ctypes.c_void_p()
        if lib.timer_create(CLOCK_MONOTONIC, ctypes.byref(event), ctypes.byref(self._id)) != 0:
            faulthandler.unregister(self.signum)
            raise OSError(ctypes.get_errno(), "timer_create failed")
        # No argtypes: ctypes then passes these objects as they are (their conversion would be
        # half of the call's cost); every argument is already a ctypes object, int or None.
        self._settime = lib.timer_settime
        self._delete = lib.timer_delete
        self._due = _ITimerSpec()
        self._due_ref = ctypes.byref(self._due)
        self._off_ref = ctypes.byref(_ITimerSpec())  # all zero: disarmed

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
