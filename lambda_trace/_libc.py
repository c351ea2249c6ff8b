"""libc functions called through ``_ctypes`` without releasing the GIL.

Why keep the GIL: ``os.fstat``/``os.write`` release it around their system call. While another
thread waits for the GIL (the watchdog, woken for its RSS poll while the handler runs Python),
every release wakes it (a futex call and a context switch) and it rarely gets the GIL: the
waiter's 5 ms switch interval starts again at each release (``take_gil`` in CPython's
``Python/ceval_gil.c``), so it stays queued for as long as the handler keeps making short system
calls, and each of them pays the wake-up (≈8 µs here against ≈1 µs for the call itself). The
calls made here cannot block — ``fstat``, ``poll`` with a zero timeout, and a ``write`` of at
most PIPE_BUF bytes that ``poll`` said has room — so keeping the GIL costs nothing.

Loaded only once ``_ctypes`` is (``_held_io``): ``_thread_timer`` loads it at the second
arming of a process, so never on the cold start (where ``_ctypes`` would cost ≈1.2 ms).
"""

from __future__ import annotations

import _ctypes  # the C module alone: ``ctypes``' Python layer would add ≈0.8 ms of import
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

_RTLD_NOW = 2
#: poll(2) event bits (the same on every Linux architecture)
POLLOUT = 0x004
_POLL_TROUBLE = 0x008 | 0x010 | 0x020  # POLLERR, POLLHUP, POLLNVAL
#: a write of at most this many bytes to a pipe with room is never split nor blocked (pipe(7))
PIPE_BUF = 4096


class Int(_ctypes._SimpleCData):  # type: ignore[type-arg]  # ctypes.c_int
    _type_ = "i"


class Long(_ctypes._SimpleCData):  # type: ignore[type-arg]  # ctypes.c_long
    _type_ = "l"


class ULong(_ctypes._SimpleCData):  # type: ignore[type-arg]  # ctypes.c_ulong: a size_t
    _type_ = "L"


class Pointer(_ctypes._SimpleCData):  # type: ignore[type-arg]  # ctypes.c_void_p
    _type_ = "P"


# ctypes.PyDLL's functions: cdecl, errno saved, and FUNCFLAG_PYTHONAPI: the call keeps the GIL
# (see the module docstring). No argtypes: the arguments are passed as they are (their conversion
# would be half of the call's cost), so each must already be a ctypes object of its C type, an
# int for a C int, or None. ctypes reads ``_flags_`` from each class's own dict.
_FLAGS = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO | _ctypes.FUNCFLAG_PYTHONAPI


class Function(_ctypes.CFuncPtr):  # a function returning int
    _flags_ = _FLAGS
    _restype_ = Int


class LongFunction(_ctypes.CFuncPtr):  # a function returning long or ssize_t
    _flags_ = _FLAGS
    _restype_ = Long


class Library:
    def __init__(self, name: object) -> None:  # None: the process itself
        self._handle = _ctypes.dlopen(name, _RTLD_NOW)  # type: ignore[arg-type]

    def function(self, name: str) -> Function:
        return Function((name, self))  # type: ignore[arg-type]

    def long_function(self, name: str) -> LongFunction:
        return LongFunction((name, self))  # type: ignore[arg-type]


class _StatBuffer(_ctypes.Array):  # type: ignore[type-arg]
    # struct stat: st_dev then st_ino, two 64-bit words on x86_64 and on aarch64 (the generic
    # layout); 144 and 128 bytes long there, room for 256.
    _type_ = ULong
    _length_ = 32


class _PollFd(_ctypes.Array):  # type: ignore[type-arg]
    # struct pollfd as two ints: fd, then events (low half) and revents (high half), little-endian
    _type_ = Int
    _length_ = 2


_functions: list[tuple[Function, Function, LongFunction]] = []


def held_calls() -> HeldCalls:
    """A new ``HeldCalls`` (buffers of its own); OSError or AttributeError where the declared
    layouts may not hold or libc lacks a function."""
    if not _functions:
        if not (sys.platform.startswith("linux") and sys.byteorder == "little"
                and _ctypes.sizeof(Pointer) == 8 and os.uname().machine in _MACHINES):
            raise OSError("libc calls are declared for 64-bit little-endian Linux only")
        libc = Library(None)
        # glibc exports ``fstat`` from 2.33 on (before, only ``__fxstat``): an older one raises
        # AttributeError here, and os's calls stay in use.
        _functions.append((libc.function("fstat"), libc.function("poll"),
                           libc.long_function("write")))
    return HeldCalls(*_functions[0])


_MACHINES = ("x86_64", "aarch64")


class HeldCalls:
    """``fstat``/``write`` of a descriptor, each one libc call that keeps the GIL.

    Not for concurrent use: one per caller that serialises its own calls (the stdout sink's
    lock; the memory probe, used by one invocation start at a time).
    """

    def __init__(self, fstat: Function, poll: Function, write: LongFunction) -> None:
        self._fstat, self._poll, self._write = fstat, poll, write
        self._stat = _StatBuffer()
        self._stat_ref = _ctypes.byref(self._stat)
        self._pollfd = _PollFd()
        self._pollfd_ref = _ctypes.byref(self._pollfd)
        self._one = ULong(1)  # nfds_t: passed as a full word, not as an int

    def identity(self, fd: int) -> Optional[tuple[int, int]]:
        """``(st_dev, st_ino)`` of ``fd``, None when it is not open (as ``os.fstat`` raising)."""
        if self._fstat(fd, self._stat_ref) != 0:
            return None
        stat = self._stat
        return stat[0], stat[1]

    def write(self, fd: int, data: bytes) -> Optional[int]:
        """Bytes written, or None when the write might block or fail: then use ``os.write``
        (which releases the GIL, retries on EINTR and raises the errno's ``OSError``)."""
        size = len(data)
        if size > PIPE_BUF:
            return None
        pollfd = self._pollfd
        pollfd[0] = fd
        pollfd[1] = POLLOUT
        if self._poll(self._pollfd_ref, self._one, 0) != 1:
            return None  # no room (or poll failed)
        revents = (pollfd[1] >> 16) & 0xFFFF
        if not revents & POLLOUT or revents & _POLL_TROUBLE:
            return None  # an error or hang-up: os.write raises what it is
        return self.write_unpolled(fd, data)

    def write_unpolled(self, fd: int, data: bytes) -> Optional[int]:
        """``write`` without the ``poll``, for a file whose writes never block (/proc's)."""
        written = self._write(fd, data, ULong(len(data)))
        return None if written < 0 else int(written)
