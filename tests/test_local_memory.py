"""The runner measures a runtime's process tree from /proc: current use, peak, children."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from lambda_trace.local import memory

pytestmark = pytest.mark.skipif(not memory.available(), reason="needs /proc (Linux)")

#: Allocates N MiB (touching every page), says "ready", then waits to be killed.
HOLDER = """
import sys, time
block = bytearray(int(sys.argv[1]) * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1
print("ready", flush=True)
time.sleep(60)
"""


def start(mib: int, *extra: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(mib), *extra], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return process


def test_a_process_memory_is_its_resident_set():
    """sample() sees memory a process has touched; peak_mb keeps the highest, rounded up."""
    holder = start(60)
    try:
        meter = memory.TreeMemory(holder.pid)
        used = meter.sample()
        assert 60 * memory.MIB < used < 120 * memory.MIB
        assert meter.peak_mb == -(-used // memory.MIB)
    finally:
        holder.kill()
        holder.wait()


def test_children_count_towards_the_tree():
    """A child process's memory is added to its parent's (Lambda's cgroup holds them all)."""
    parent_code = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', {HOLDER!r}, '50'], "
        "stdout=subprocess.PIPE, text=True)\n"
        "child.stdout.readline()\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert parent.stdout is not None and parent.stdout.readline() == "ready\n"
        assert len(memory.children(parent.pid)) == 1
        own = max(memory.status_kib(parent.pid) or (0, 0)) * 1024
        assert memory.TreeMemory(parent.pid).sample() > own + 50 * memory.MIB
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()


def test_a_gone_process_reads_as_nothing():
    """After exit there is no status, and sampling reports zero without raising."""
    holder = start(1)
    holder.kill()
    holder.wait()
    time.sleep(0.01)
    assert memory.status_kib(holder.pid) is None
    assert memory.TreeMemory(holder.pid).sample() == 0
