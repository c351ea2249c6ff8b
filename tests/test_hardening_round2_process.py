"""Issue 17, "Hardening, round 2": the breaks that need a process of their own (runtime).

fd 1 closed and reused by the handler (item 6), SIGPIPE at its default action (item 9), forked
children's call lines (item 9) and the GIL-independent last word before a timeout (item 4).
Every case is a fresh interpreter running a ``@trace``d handler.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from runtime_support import ROOT


def run(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter; the package from PYTHONPATH if set, else this tree."""
    path = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT)) if p)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
        timeout=timeout, cwd=str(ROOT / "tests"),
        # (these tests read the lines of ordinary calls: every call gets its line)
        env={**os.environ, "PYTHONPATH": path, "LAMBDA_TRACE_CALL_LINES": "all"},
    )


def records(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            obj = json.loads(line)
            if "lambda_trace" in obj:
                out.append(obj)
    return out


# -- item 6: fd 1 closed by the handler and reused ----------------------------------------------

FD_REUSE = """
    import os, socket, sys
    from lambda_trace import segment, trace
    from lambda_trace.testing import FakeContext

    @trace
    def handler(event, context):
        if event == "reuse-file":
            os.close(1)
            f = open(sys.argv[1], "w")          # the lowest free descriptor: 1
            assert f.fileno() == 1, f.fileno()
            with segment("after-close"):
                pass
            f.write("the user's own data\\n")
            f.flush()
            handler.kept = f
        elif event == "reuse-socket":
            os.close(1)
            a, b = socket.socketpair()          # a takes fd 1
            assert a.fileno() == 1, a.fileno()
            with segment("after-close"):
                pass
            a.close()
            b.settimeout(1)
            handler.received = b.recv(65536)
        else:
            with segment("before"):
                pass
        return "ok"

    mode = sys.argv[2]
    print(handler("plain", FakeContext()), file=sys.stderr)
    print(handler(mode, FakeContext()), file=sys.stderr)
    print(handler("plain", FakeContext()), file=sys.stderr)
    if mode == "reuse-socket":
        print("socket got", repr(handler.received), file=sys.stderr)
"""


# With ``_ctypes`` loaded first, the stdout sink checks and writes through ``_libc``'s calls
# from the first invocation: the same guarantees must hold on both paths.
PRELOAD = {"os calls": "", "libc calls": "\n    import _ctypes\n"}


@pytest.mark.parametrize("preload", PRELOAD.values(), ids=PRELOAD.keys())
def test_lines_never_reach_a_file_that_reuses_fd_1(tmp_path: Path, preload: str) -> None:
    user_file = tmp_path / "user.txt"
    done = run(preload + FD_REUSE, str(user_file), "reuse-file")
    assert done.returncode == 0, done.stderr
    assert user_file.read_text() == "the user's own data\n"  # nothing of ours in it
    # The first invocation's lines reached stdout; writing stopped once fd 1 changed.
    before = records(done.stdout)
    assert [r["type"] for r in before] == ["call", "invocation"], done.stdout
    assert before[0]["name"] == "before"
    notes = [line for line in done.stderr.splitlines() if "stops writing" in line]
    assert len(notes) == 1, done.stderr
    assert done.stderr.count("ok") == 3


@pytest.mark.parametrize("preload", PRELOAD.values(), ids=PRELOAD.keys())
def test_lines_never_reach_a_socket_that_reuses_fd_1(preload: str) -> None:
    done = run(preload + FD_REUSE, "-", "reuse-socket")
    assert done.returncode == 0, done.stderr
    assert "socket got b''" in done.stderr, done.stderr
    assert sum("stops writing" in line for line in done.stderr.splitlines()) == 1


# -- item 9: SIGPIPE at SIG_DFL with a closed pipe ----------------------------------------------

SIGPIPE = """
    import os, signal, sys
    r, w = os.pipe()
    os.dup2(w, 1)
    os.close(w)
    os.close(r)                                  # stdout: a pipe nobody reads
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    from lambda_trace import segment, trace
    from lambda_trace.testing import FakeContext

    def plain(event, context):
        return "ok"

    traced = trace(plain)
    for _ in range(3):
        assert traced({}, FakeContext()) == "ok"
    os.write(2, b"survived\\n")
"""


@pytest.mark.parametrize("preload", PRELOAD.values(), ids=PRELOAD.keys())
def test_sigpipe_default_and_a_closed_pipe_do_not_kill_the_traced_process(preload: str) -> None:
    done = run(preload + SIGPIPE)
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert "survived" in done.stderr
    assert sum("internal error in sink" in line for line in done.stderr.splitlines()) == 1


CLOSED_PIPE = """
    import _ctypes, os, sys
    r, w = os.pipe()
    os.dup2(w, 1)
    os.close(w)
    os.close(r)                                  # stdout: a pipe nobody reads; SIGPIPE ignored
    from lambda_trace import trace
    from lambda_trace.testing import FakeContext

    traced = trace(lambda event, context: "ok")
    for _ in range(4):
        assert traced({}, FakeContext()) == "ok"
    os.write(2, b"survived\\n")
"""


def test_a_closed_pipe_is_one_reported_error_on_the_libc_path() -> None:
    """The held write sees POLLERR and leaves it to os.write, whose EPIPE is reported once."""
    done = run(CLOSED_PIPE)
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert "survived" in done.stderr
    assert sum("internal error in sink" in line for line in done.stderr.splitlines()) == 1


# -- item 9: forked children -------------------------------------------------------------------

FORK = """
    import os, sys, time
    from lambda_trace import segment, trace
    from lambda_trace.testing import FakeContext

    @trace
    def handler(event, context):
        with segment("parent-before"):
            pass
        pid = os.fork()
        if pid == 0:
            with segment("child-work"):          # in the child: not the parent's invocation
                pass
            os._exit(0)
        os.waitpid(pid, 0)
        with segment("parent-after"):
            pass
        return "ok"

    handler({}, FakeContext())
"""


def test_call_lines_of_forked_children_are_not_written_under_the_parents_request() -> None:
    done = run(FORK)
    assert done.returncode == 0, done.stderr
    recs = records(done.stdout)
    calls = [r for r in recs if r["type"] == "call"]
    (inv,) = [r for r in recs if r["type"] == "invocation"]
    assert sorted(c["name"] for c in calls) == ["parent-after", "parent-before"]
    counted = sum(s["n"] for s in inv["calls"].values())
    assert counted == len(calls) + inv.get("dropped_calls", 0)  # (written only when some were)


# -- item 4: a handler holding the GIL in C code at the deadline --------------------------------

STUCK_HANDLER = """
import re
from lambda_trace import trace


@trace
def handler(event, context):
    if event["kind"] == "regex":
        return bool(re.match(r"(a|aa)+$", "a" * 64 + "b"))  # catastrophic backtracking, in C
    return sum(range(10**11))                              # one C call, the GIL held
"""


@pytest.mark.parametrize("mode", ["thread", "signal"])  # the default, and the SIGALRM opt-in
def test_a_handler_stuck_in_c_code_leaves_its_stack_and_the_analyzer_names_it(
    tmp_path: Path, mode: str
) -> None:
    from lambda_trace.local.runner import Runner
    from lambda_trace.local.template import FunctionSpec

    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(STUCK_HANDLER)
    spec = FunctionSpec(logical_id="Fn", name="fn", handler="app.handler", code_dir=code,
                        runtime="python3.12", memory_mb=256, timeout_s=1.0,
                        log_group="/aws/lambda/fn")
    expected = {"regex": "stuck in re.match at app.py:9",
                "sum": "stuck at app.py:10 in handler"}
    with Runner(spec, freeze=False, extra_env={"LAMBDA_TRACE_STACK_DUMP": mode}) as runner:
        results = {kind: runner.invoke({"kind": kind}) for kind in expected}
    for kind, result in results.items():
        assert result.outcome == "timeout", (kind, [e.message for e in result.logs])
        messages = [e.message for e in result.logs]
        # No Python thread could run: the watchdog wrote nothing, faulthandler did.
        assert not any('"type":"timeout_warning"' in m for m in messages), messages
        assert any(m.rstrip().endswith("(most recent call first):") for m in messages), messages
        assert any(m.startswith("Timeout (0:00:00.") for m in messages) == (mode == "thread")
        log = tmp_path / f"{kind}.log"
        log.write_text("\n".join(messages) + "\n")
        done = subprocess.run(
            [sys.executable, "-m", "lambda_trace", "analyze", "--no-progress", "--format", "json",
             str(log)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        (finding,) = [f for f in report["findings"] if f["kind"] == "timeout"]
        names = [row["calls"] for row in finding["evidence"]["in_flight"]]
        assert names == [expected[kind]], (kind, names)
        events = subprocess.run(
            [sys.executable, "-m", "lambda_trace", "events", str(log)],
            capture_output=True, text=True, timeout=120)
        warnings = [json.loads(line) for line in events.stdout.splitlines()
                    if '"timeout_warning"' in line]
        assert len(warnings) == 1, events.stdout
        # no request id in the dump: `analyze` joins it to the invocation open in its stream
        assert warnings[0]["request_id"] is None
        assert warnings[0]["source"] == "faulthandler"
        assert warnings[0]["in_flight"][0]["name"] == expected[kind]


# -- item 4: the dump is cancelled when the invocation ends in time -----------------------------

CANCELLED = """
    import os, sys, time
    from lambda_trace import trace
    from lambda_trace.testing import FakeContext

    @trace
    def handler(event, context):
        return "ok"

    for _ in range(20):
        handler({}, FakeContext(timeout_ms=200))  # each would dump within 200 ms if not cancelled
    time.sleep(0.5)
    os.write(2, b"done\\n")
"""


@pytest.mark.parametrize("mode", ["thread", "signal"])
def test_an_invocation_that_ends_in_time_leaves_no_stack_dump(mode: str) -> None:
    done = run(CANCELLED) if mode == "thread" else run(
        "import os; os.environ['LAMBDA_TRACE_STACK_DUMP'] = 'signal'\n" + textwrap.dedent(
            CANCELLED))
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "done", done.stderr
    assert len(records(done.stdout)) == 20
