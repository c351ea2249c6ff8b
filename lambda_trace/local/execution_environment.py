"""One execution environment: a runtime process, its Runtime API server and its log stream.

It lives from spawn to discard: frozen with SIGSTOP while idle, thawed for an invocation, its
process group SIGKILLed at a deadline or over the memory limit. Its stdout and stderr are read
line by line and handed to ``output``, the caller's writer of log events; the environment
keeps no log of its own.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
import uuid
import weakref
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

from lambda_trace.local import memory
from lambda_trace.local.runtime_api import RuntimeAPIServer, RuntimeMessage

#: Writes one piece of the runtime's output (a line with its newline, or a last partial one).
Output = Callable[[str], None]


class Environment:
    """One runtime process, its Runtime API server, its log stream and its memory meter."""

    def __init__(self, process: subprocess.Popen[bytes], api: RuntimeAPIServer, stream: str):
        self.process = process
        self.api = api
        self.log_stream = stream
        self.spawned_at = time.monotonic()
        self.memory = memory.TreeMemory(process.pid)
        self.open_fds: dict[int, bytearray] = {}
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                fd = pipe.fileno()
                os.set_blocking(fd, False)
                self.open_fds[fd] = bytearray()
        self.frozen = False
        #: messages received but not consumed yet (a response and the next /next often arrive
        #: together)
        self.backlog: list[RuntimeMessage] = []
        self.finalizer = weakref.finalize(self, _kill_group, process.pid)

    # -- the event loop -------------------------------------------------------------------------

    def wait(
        self,
        deadline: float,
        want: Sequence[str],
        output: Output,
        *,
        memory_limit: Optional[int],
        poll_interval_s: float,
    ) -> tuple[str, Optional[RuntimeMessage]]:
        """Pump output until a wanted runtime message, the deadline, a memory kill or an exit.

        Returns ``(kind, message)`` where kind is a message kind, "deadline", "memory" or
        "exited"; the process is already dead for "memory". Memory is not sampled when
        ``memory_limit`` is None.
        """
        next_sample = 0.0
        while True:
            found = self._take(want)
            if found is not None:
                return found.kind, found
            now = time.monotonic()
            if memory_limit is not None and now >= next_sample:
                next_sample = now + poll_interval_s
                if self.memory.sample() > memory_limit:
                    self.kill(output)
                    return "memory", None
            self.backlog.extend(self._pump(max(0.0, min(poll_interval_s, deadline - now)), output))
            if self._take(want, peek=True) is None and self.process.poll() is not None:
                self._drain(output, until_eof=True)
                self.backlog.extend(self.api.messages())
                found = self._take(want)
                if found is not None:
                    return found.kind, found
                return "exited", None
            if time.monotonic() >= deadline:
                return "deadline", None

    def _take(self, want: Sequence[str], peek: bool = False) -> Optional[RuntimeMessage]:
        for i, message in enumerate(self.backlog):
            if message.kind in want:
                return message if peek else self.backlog.pop(i)
        return None

    def _pump(self, timeout: float, output: Output) -> list[RuntimeMessage]:
        fds = [*self.open_fds, self.api.wakeup_fd]
        readable, _, _ = select.select(fds, [], [], timeout)
        for fd in readable:
            if fd in self.open_fds:
                self._read(fd, output)
        messages = self.api.messages()
        if messages:
            # Whatever the runtime wrote before this request is in the pipes by now.
            self._drain(output)
        return messages

    def _drain(self, output: Output, until_eof: bool = False) -> None:
        give_up = time.monotonic() + 1.0
        while self.open_fds:
            wait = max(0.0, give_up - time.monotonic()) if until_eof else 0.0
            readable, _, _ = select.select(list(self.open_fds), [], [], wait)
            if not readable:
                break
            for fd in readable:
                self._read(fd, output)
        if until_eof:
            for fd in list(self.open_fds):
                self._flush_partial(fd, output)

    def _read(self, fd: int, output: Output) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._flush_partial(fd, output)
            return
        buffer = self.open_fds[fd]
        buffer.extend(data)
        *lines, rest = bytes(buffer).split(b"\n")
        buffer[:] = rest
        for line in lines:
            output(line.decode("utf-8", errors="replace") + "\n")

    def _flush_partial(self, fd: int, output: Output) -> None:
        rest = self.open_fds.pop(fd, None)
        if rest:
            output(rest.decode("utf-8", errors="replace"))

    # -- the process ----------------------------------------------------------------------------

    def freeze(self) -> None:
        if not self.frozen and self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGSTOP)
            self.frozen = True

    def thaw(self) -> None:
        if self.frozen:
            _signal_group(self.process.pid, signal.SIGCONT)
            self.frozen = False

    def kill(self, output: Output) -> None:
        _kill_group(self.process.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self._drain(output, until_eof=True)

    def discard(self, output: Output) -> None:
        if self.process.poll() is None:
            self.kill(output)
        else:
            self._drain(output, until_eof=True)
        self.finalizer.detach()
        self.api.close()
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


def spawn(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str], api: RuntimeAPIServer, stream: str
) -> Environment:
    """Start ``argv`` as a new environment talking to ``api`` (closed if the start fails)."""
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=str(cwd),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: one killpg stops the whole tree
        )
    except OSError:
        api.close()
        raise
    return Environment(process, api, stream)


def new_log_stream(version: str) -> str:
    """``YYYY/MM/DD/[$LATEST]<32 hex>``: one per execution environment (docs/formats.md §0.2)."""
    today = datetime.now(timezone.utc).strftime("%Y/%m/%d")
    return f"{today}/[{version}]{uuid.uuid4().hex}"


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _kill_group(pid: int) -> None:
    _signal_group(pid, signal.SIGKILL)
