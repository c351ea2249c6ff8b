"""Where record lines go: stdout by default, written with one ``os.write`` per line.

A ``Sink`` is any callable taking one complete JSON line without its newline. Writing straight
to file descriptor 1 (not through ``print``/``sys.stdout``) means a line is in the pipe the moment
it is written, so it survives the SIGKILL that follows a Lambda timeout or an out-of-memory stop.
"""

from __future__ import annotations

import os
import threading

from lambda_trace._config import Sink

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

__all__ = ["Sink", "fd_sink", "get_default_sink", "set_default_sink", "stdout_sink"]


def fd_sink(fd: int) -> Sink:
    """A sink writing each line plus ``\\n`` to file descriptor ``fd``.

    Writes are serialised: a pipe keeps only writes up to PIPE_BUF (4 KB) whole, and the
    watchdog thread may write a long warning while a worker thread writes a call line.
    """
    lock = threading.Lock()

    def write_data(data: bytes) -> None:
        with lock:
            written = os.write(fd, data)
            while written < len(data):  # a partial write (signal, full non-blocking pipe)
                data = data[written:]
                written = os.write(fd, data)

    def write(line: str) -> None:
        write_data((line + "\n").encode("utf-8", "replace"))

    def write_lines(lines: list[str]) -> None:
        write_data(("\n".join(lines) + "\n").encode("utf-8", "replace"))

    # The end of an invocation writes its record and EMF lines in one system call.
    setattr(write, LINES_ATTR, write_lines)  # setattr: type checkers refuse function attributes
    return write


#: Attribute of a sink made by ``fd_sink``: a callable writing several lines in one write.
LINES_ATTR = "write_lines"


stdout_sink: Sink = fd_sink(1)

_default: list[Sink] = [stdout_sink]


def get_default_sink() -> Sink:
    """The sink used by handlers decorated without ``sink=``."""
    return _default[0]


def set_default_sink(sink: Optional[Sink]) -> Sink:
    """Replace the default sink (None restores stdout); returns the previous one."""
    previous = _default[0]
    _default[0] = sink if sink is not None else stdout_sink
    return previous
