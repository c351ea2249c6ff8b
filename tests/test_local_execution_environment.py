"""One execution environment: a real child process, its pipes read line by line, its deadline,
its freezing and its end."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pytest

from lambda_trace.local.execution_environment import Environment, new_log_stream, spawn
from lambda_trace.local.runtime_api import RuntimeAPIServer


def start(tmp_path: Path, code: str) -> Environment:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONUNBUFFERED": "1"}
    return spawn([sys.executable, "-c", code], tmp_path, env, RuntimeAPIServer(), "stream")


def wait(environment: Environment, seconds: float, out: list[str]) -> str:
    kind, _ = environment.wait(time.monotonic() + seconds, ("next",), out.append,
                               memory_limit=None, poll_interval_s=0.005)  # fmt: skip
    return kind


def test_both_pipes_are_read_by_line_and_a_last_partial_line_is_kept(tmp_path: Path) -> None:
    code = "import sys; print('one'); print('two', file=sys.stderr); sys.stdout.write('tail')"
    environment = start(tmp_path, code)
    out: list[str] = []
    try:
        assert wait(environment, 10, out) == "exited"
    finally:
        environment.discard(out.append)
    assert sorted(out) == ["one\n", "tail", "two\n"]
    assert environment.log_stream == "stream"


def test_a_process_that_outlives_the_deadline_is_killed_on_discard(tmp_path: Path) -> None:
    environment = start(tmp_path, "import time; print('up', flush=True); time.sleep(60)")
    out: list[str] = []
    began = time.monotonic()
    assert wait(environment, 0.5, out) == "deadline"
    assert 0.5 <= time.monotonic() - began < 5
    environment.discard(out.append)
    assert environment.process.poll() is not None  # the whole group got SIGKILL
    assert out == ["up\n"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_frozen_process_is_stopped_until_thawed(tmp_path: Path) -> None:
    environment = start(tmp_path, "import time; time.sleep(60)")
    pid = environment.process.pid
    try:
        environment.freeze()
        assert environment.frozen and _settles(pid, "T") == "T"
        environment.thaw()
        assert not environment.frozen and _settles(pid, "S") == "S"
    finally:
        environment.discard(lambda text: None)
    assert environment.process.poll() is not None


def test_each_environment_gets_its_own_log_stream_name() -> None:
    first, second = new_log_stream("$LATEST"), new_log_stream("$LATEST")
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", first)
    assert first != second
    assert "/[7]" in new_log_stream("7")


def _settles(pid: int, wanted: str) -> str:
    """The process's state letter once it is ``wanted``, or after 5 s: a signal takes effect
    when the process is next scheduled, and a starting interpreter is running, not sleeping."""
    deadline = time.monotonic() + 5
    while True:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == wanted or time.monotonic() > deadline:
            return state
        time.sleep(0.01)
