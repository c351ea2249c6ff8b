"""Where record lines go: stdout by default, written with one ``os.write`` per line.

A ``Sink`` is any callable taking one complete JSON line without its newline. Writing straight
to file descriptor 1 (not through ``print``/``sys.stdout``) means a line is in the pipe the moment
it is written, so it survives the SIGKILL that follows a Lambda timeout or an out-of-memory stop.
"""

from __future__ import annotations

import _signal  # the C module: `signal` imports enum (≈2 ms of cold start)
import errno
import os
import threading

from lambda_trace import _held_io
from lambda_trace._config import Sink, warn_once

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from lambda_trace._libc import HeldCalls

__all__ = ["Sink", "fd_sink", "get_default_sink", "set_default_sink", "stdout_sink"]


def fd_sink(fd: int, *, private_copy: bool = False) -> Sink:
    """A sink writing each line plus ``\\n`` to file descriptor ``fd``.

    Writes are serialised: a pipe keeps only writes up to PIPE_BUF (4 KB) whole, and the
    watchdog thread may write a long warning while a worker thread writes a call line.

    With ``private_copy`` (the stdout sink) lines go through a duplicate of ``fd``
    (``_FdTarget``): a handler that closes fd 1 frees the number for its next socket or file,
    and a write to "fd 1" would land there. The duplicate still refers to the original stdout;
    once fd 1 refers to another file, writing stops, with one line on stderr.
    """
    lock = threading.Lock()
    target = _FdTarget(fd) if private_copy else None

    def write_data(data: bytes) -> None:
        with lock:
            out = fd if target is None else target.fd_to_write()
            if out is None:
                return
            if _sigpipe_kills():
                _write_without_sigpipe(out, data)
            else:
                _write_all(out, data, None if target is None else target.held)

    def write(line: str) -> None:
        write_data((line + "\n").encode("utf-8", "replace"))

    def write_lines(lines: list[str]) -> None:
        write_data(("\n".join(lines) + "\n").encode("utf-8", "replace"))

    def begin() -> None:
        if target is not None:
            with lock:
                target.rebind()

    # The end of an invocation writes its record and EMF lines in one system call.
    setattr(write, LINES_ATTR, write_lines)  # setattr: type checkers refuse function attributes
    if target is not None:
        setattr(write, BEGIN_ATTR, begin)
    return write


def _write_all(fd: int, data: bytes, held: Optional[HeldCalls] = None) -> None:
    written = None if held is None else held.write(fd, data)  # keeps the GIL: ``_libc``
    if written is None:
        written = os.write(fd, data)
    while written < len(data):  # a partial write (signal, full non-blocking pipe)
        data = data[written:]
        written = os.write(fd, data)


def _sigpipe_kills() -> bool:
    """Whether SIGPIPE has its default action (Python ignores it unless the handler reset it)."""
    return bool(_signal.getsignal(_signal.SIGPIPE) == _signal.SIG_DFL)


def _write_without_sigpipe(fd: int, data: bytes) -> None:
    """Write with SIGPIPE blocked in this thread, so a closed pipe is EPIPE, not death (-13).

    A plain handler that never writes to stdout survives a closed pipe under ``SIG_DFL``; our
    write must not be what kills it. The SIGPIPE our write raised stays pending while blocked:
    it is taken (``sigtimedwait`` with no wait) before the mask is restored.
    """
    blocked = {_signal.SIGPIPE}
    previous = _signal.pthread_sigmask(_signal.SIG_BLOCK, blocked)
    try:
        _write_all(fd, data)
    finally:
        try:
            while _signal.sigtimedwait(blocked, 0) is not None:
                pass
        finally:
            _signal.pthread_sigmask(_signal.SIG_SETMASK, previous)


class _FdTarget:
    """A private duplicate of a file descriptor, and whether the original still refers to it."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.private: Optional[int] = None
        self.identity: Optional[tuple[int, int]] = None
        self.stopped = False
        #: fstat and write keeping the GIL (``_libc``), from the first invocation start after
        #: ``_ctypes`` is loaded; until then (and where they cannot be made) os's
        self.held: Optional[HeldCalls] = None

    def _identity(self) -> Optional[tuple[int, int]]:
        held = self.held
        if held is not None:
            return held.identity(self.fd)
        try:
            st = os.fstat(self.fd)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def rebind(self) -> None:
        """At invocation start: follow fd to a new file (a test capture, a redirect) if it moved.

        Not after a stop: a handler that closed fd 1 once may hold a socket there now.
        """
        if self.stopped:
            return
        if self.held is None:
            self.held = _held_io.new()
        identity = self._identity()
        if identity is None or identity == self.identity:
            return
        self._take(identity)

    def _take(self, identity: tuple[int, int]) -> None:
        private = os.dup(self.fd)  # not inherited by child processes (PEP 446)
        if self.private is not None:
            try:  # noqa: SIM105 - contextlib is not imported at cold start
                os.close(self.private)
            except OSError:
                pass
        self.private, self.identity = private, identity

    def fd_to_write(self) -> Optional[int]:
        """The private descriptor to write to; None once writing has stopped.

        fd's identity is checked at every write (one ``fstat``, ≈1 µs, next to the write's own
        system call), so the first line after a change is already not written.
        """
        if self.stopped:
            return None
        if self.private is None:
            identity = self._identity()
            if identity is None:
                raise OSError(errno.EBADF, f"file descriptor {self.fd} is closed")
            self._take(identity)
            return self.private
        if self._identity() != self.identity:
            self.stopped = True
            warn_once(
                f"file descriptor {self.fd} (stdout) was closed or now refers to another file "
                "(the handler closed or replaced it); lambda-trace stops writing records, so "
                "they cannot reach whatever reuses it",
                ("sink", f"fd {self.fd} replaced"),
            )
            return None
        return self.private


#: Attribute of a sink made by ``fd_sink``: a callable writing several lines in one write.
LINES_ATTR = "write_lines"
#: Attribute of a sink made by ``fd_sink``: called at each invocation start (see ``rebind``).
BEGIN_ATTR = "begin_invocation"


stdout_sink: Sink = fd_sink(1, private_copy=True)

_default: list[Sink] = [stdout_sink]


def get_default_sink() -> Sink:
    """The sink used by handlers decorated without ``sink=``."""
    return _default[0]


def set_default_sink(sink: Optional[Sink]) -> Sink:
    """Replace the default sink (None restores stdout); returns the previous one."""
    previous = _default[0]
    _default[0] = sink if sink is not None else stdout_sink
    return previous
