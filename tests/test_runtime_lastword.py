"""The default last word (``_lastword`` ``timer``): a POSIX timer signalling the watchdog thread.

The first invocation of a process arms ``faulthandler.dump_traceback_later`` (its dump starts
with ``Timeout (…)!``); later ones arm the timer, whose dump starts at the thread lines. Each
case is a fresh interpreter; a stuck handler is killed once its dump has been read.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import textwrap
import time

import pytest
from runtime_support import ROOT

from lambda_trace.analyzer.stackdump import merge_stack_dumps
from lambda_trace.logevent import LogEvent

STUCK_WARM = """
    import sys
    from lambda_trace import trace
    from lambda_trace.testing import FakeContext

    @trace
    def handler(event, context):
        if event == "stuck":
            return sum(range(10**12))  # one C call holding the GIL: no Python thread can run
        return "ok"

    handler("warm", FakeContext(timeout_ms=5000))
    handler("warm", FakeContext(timeout_ms=5000))
    sys.stderr.write("stuck now\\n")
    sys.stderr.flush()
    handler("stuck", FakeContext(timeout_ms=400))
"""

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux timers")


def _stderr_until_dump(proc: subprocess.Popen[str], limit_s: float = 20.0) -> list[str]:
    """stderr lines until the dump's last frame line has been followed by a quiet moment."""
    assert proc.stderr is not None
    lines: list[str] = []
    buffer = ""
    deadline = time.monotonic() + limit_s
    fd = proc.stderr.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            if any("most recent call first" in line for line in lines):
                break  # the dump is complete: nothing more comes while the handler is stuck
            continue
        chunk = os.read(fd, 65536).decode(errors="replace")
        if not chunk:
            break
        buffer += chunk
        *done, buffer = buffer.split("\n")
        lines.extend(done)
    return lines


def test_a_warm_invocation_stuck_in_c_code_leaves_its_stack_by_the_timer() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_TRACE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), str(ROOT)) if p)
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(STUCK_WARM)], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT / "tests"))
    try:
        lines = _stderr_until_dump(proc)
    finally:
        proc.kill()
        proc.communicate()
    assert "stuck now" in lines, lines
    dump = lines[lines.index("stuck now") + 1:]
    # the timer's dump: no "Timeout (…)!" header (that is dump_traceback_later's, the cold start's)
    assert dump and not any(line.startswith("Timeout (") for line in dump), lines
    assert any(line.startswith(("Thread 0x", "Current thread 0x")) for line in dump), lines
    events = [LogEvent(line, 0, "stream") for line in dump]
    records = [json.loads(e.message) for e in merge_stack_dumps(events)
               if e.message.startswith("{")]
    (warning,) = [r for r in records if r.get("source") == "faulthandler"]
    assert warning["in_flight"][0]["name"] == "stuck at <string>:9 in handler", warning


def test_invocations_that_end_in_time_leave_no_dump_from_the_timer() -> None:
    code = """
        import os, time
        from lambda_trace import trace
        from lambda_trace.testing import FakeContext

        @trace
        def handler(event, context):
            return "ok"

        for _ in range(30):
            handler({}, FakeContext(timeout_ms=150))  # each would dump within 150 ms
        time.sleep(0.4)
        os.write(2, b"done\\n")
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_TRACE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), str(ROOT)) if p)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, timeout=60, cwd=str(ROOT / "tests"))
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "done", done.stderr


STUCK_IN_FORKED_CHILD = """
    import os, sys
    from lambda_trace import trace
    from lambda_trace.testing import FakeContext

    @trace
    def handler(event, context):
        if event == "stuck":
            return sum(range(10**12))  # one C call holding the GIL: no Python thread can run
        return "ok"

    handler("warm", FakeContext(timeout_ms=5000))
    handler("warm", FakeContext(timeout_ms=5000))  # the parent's timer is made here
    pid = os.fork()
    if pid:
        os.write(2, f"child {pid}\\n".encode())
        os.waitpid(pid, 0)
    else:
        handler("warm", FakeContext(timeout_ms=5000))  # the child makes its own timer
        os.write(2, b"stuck now\\n")
        handler("stuck", FakeContext(timeout_ms=400))
"""


def test_a_forked_child_makes_its_own_timer_and_leaves_its_stack() -> None:
    # POSIX timers are not inherited by fork: the child must not arm the parent's timer id.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_TRACE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), str(ROOT)) if p)
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(STUCK_IN_FORKED_CHILD)], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT / "tests"))
    lines: list[str] = []
    try:
        lines = _stderr_until_dump(proc)
    finally:
        for line in lines:
            if line.startswith("child "):
                try:  # noqa: SIM105
                    os.kill(int(line.split()[1]), 9)
                except ProcessLookupError:
                    pass
        proc.kill()
        proc.communicate()
    assert "stuck now" in lines, lines
    dump = lines[lines.index("stuck now") + 1:]
    assert dump and not any(line.startswith("Timeout (") for line in dump), lines
    assert any(line.startswith(("Thread 0x", "Current thread 0x")) for line in dump), lines
    assert any("in handler" in line for line in dump), lines
