"""``_libc`` and its gate ``_held_io``: fstat and write that keep the GIL, and never block.

Why they exist (the module docstring): a thread waiting for the GIL is woken by every release,
so the handler's short system calls each paid a wake-up while the watchdog waited. What must
hold: the same answers as ``os``'s calls, no write that could block (a full pipe, a closed
reader, more than PIPE_BUF bytes: then None and ``os.write`` takes over), no GIL release, not
loaded on the cold start, and the stdout sink using them from the first invocation after
``_ctypes`` is loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from runtime_support import ROOT

from lambda_trace import _held_io
from lambda_trace._libc import PIPE_BUF, HeldCalls

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's libc")


@pytest.fixture
def held() -> HeldCalls:
    import _ctypes  # noqa: F401 - what the gate waits for

    calls = _held_io.new()
    assert calls is not None
    return calls


def test_identity_is_fstat_s_device_and_inode(held: HeldCalls, tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    path = tmp_path / "f"
    path.write_text("x")
    file_fd = os.open(path, os.O_RDONLY)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in (read_end, write_end, file_fd, null):
            st = os.fstat(fd)
            assert held.identity(fd) == (st.st_dev, st.st_ino)
        os.close(file_fd)
        assert held.identity(file_fd) is None  # closed: where os.fstat raises EBADF
    finally:
        for fd in (read_end, write_end, null):
            os.close(fd)


def test_writes_reach_a_pipe_and_a_file(held: HeldCalls, tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    try:
        assert held.write(write_end, b'{"a":1}\n') == 8
        assert os.read(read_end, 100) == b'{"a":1}\n'
        line = b"y" * PIPE_BUF
        assert held.write(write_end, line) == PIPE_BUF
        assert os.read(read_end, PIPE_BUF + 1) == line
    finally:
        os.close(read_end)
        os.close(write_end)
    fd = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT)
    try:
        assert held.write(fd, b"abc") == 3
    finally:
        os.close(fd)
    assert (tmp_path / "out").read_bytes() == b"abc"


def test_more_than_pipe_buf_is_left_to_os_write(held: HeldCalls) -> None:
    read_end, write_end = os.pipe()
    try:
        assert held.write(write_end, b"z" * (PIPE_BUF + 1)) is None
        os.set_blocking(read_end, False)
        with pytest.raises(BlockingIOError):
            os.read(read_end, 1)  # nothing was written
    finally:
        os.close(read_end)
        os.close(write_end)


def test_a_closed_reader_is_left_to_os_write(held: HeldCalls) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        assert held.write(write_end, b"x") is None  # POLLERR: os.write raises BrokenPipeError
    finally:
        os.close(write_end)


FULL_PIPE = """
    import _ctypes, os, sys
    from lambda_trace import _held_io
    held = _held_io.new()
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        while True:
            os.write(write_end, b"f" * 4096)
    except BlockingIOError:
        pass
    os.set_blocking(write_end, True)    # full, and a write to it would now block
    print(held.write(write_end, b"one more line"), flush=True)
"""


def test_a_full_pipe_is_left_to_os_write_instead_of_blocking_with_the_gil() -> None:
    """In its own process: a write that blocked while keeping the GIL would never return."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(FULL_PIPE)], cwd=str(ROOT),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"


def _waiter_turns(call: object, fd: int, seconds: float = 0.1) -> int:
    """How often a thread waiting for the GIL got it while this one made ``call`` in a loop."""
    turns = [0]
    stop = threading.Event()

    def waiter() -> None:
        while not stop.is_set():
            turns[0] += 1
            time.sleep(0)  # releases the GIL and queues for it again at once

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.01)
    turns[0] = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for _ in range(100):
            call(fd)  # type: ignore[operator]
    stop.set()
    thread.join()
    return turns[0]


def test_the_calls_keep_the_gil(held: HeldCalls) -> None:
    """os.fstat hands the GIL to a waiting thread at every call; ours only at the interpreter's
    5 ms switch interval (so ≈40 times in 0.2 s, against thousands here)."""
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    try:
        with open(os.devnull, "w") as null:
            released = _waiter_turns(os.fstat, null.fileno(), 0.2)
            kept = _waiter_turns(held.identity, null.fileno(), 0.2)
    finally:
        sys.setswitchinterval(old_interval)
    assert released > 150, released
    assert kept * 4 < released, (kept, released)


COLD = """
    import json, sys
    from lambda_trace import trace, sinks
    from lambda_trace.testing import FakeContext

    @trace
    def handler(event, context):
        return "ok"

    def stdout_target():
        import gc
        return [o for o in gc.get_objects() if isinstance(o, sinks._FdTarget)][0]

    states = []
    for _ in range(3):
        handler({}, FakeContext(timeout_ms=5000))
        states.append(("_ctypes" in sys.modules, stdout_target().held is not None))
    print(json.dumps(states), file=sys.stderr)
"""


def test_not_loaded_on_the_cold_start_then_used_from_the_next_invocation() -> None:
    """The first invocation leaves ``_ctypes`` unloaded (≈1.2 ms); the second arming loads it
    (``_thread_timer``), and the stdout sink writes through the held calls from the third on
    (its next invocation start); every record still arrives."""
    path = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT)) if p)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(COLD)], cwd=str(ROOT / "tests"),
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": path})
    assert done.returncode == 0, done.stderr
    states = json.loads(done.stderr.strip().splitlines()[-1])
    assert states == [[False, False], [True, False], [True, True]]
    records = [line for line in done.stdout.splitlines() if '"type":"invocation"' in line]
    assert len(records) == 3, done.stdout


def test_the_gate_waits_for_ctypes() -> None:
    code = ("import sys\nfrom lambda_trace import _held_io\n"
            "print(_held_io.new() is None, '_ctypes' in sys.modules)\n"
            "import _ctypes\nprint(_held_io.new() is not None)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=str(ROOT), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "True"]
