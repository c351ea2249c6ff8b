"""Resident memory probes: current RSS from /proc/self/statm, per-invocation peak reset."""

from __future__ import annotations

import os
import sys

import pytest

from lambda_trace import _memory

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


def test_rss_is_read_from_statm():
    probe = _memory.probe()
    rss = probe.rss_bytes()
    with open("/proc/self/status") as status:
        vmrss_kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
    assert rss is not None and abs(rss / 1024 - vmrss_kb) < 20 * 1024


def test_peak_reset_forgets_an_earlier_allocation():
    probe = _memory.probe()
    block = bytearray(150 * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])
    del block
    high = probe.peak_bytes_since_reset()
    if not probe.reset_peak():
        pytest.skip("clear_refs not permitted here")
    assert probe.peak_bytes_since_reset() < high - 100 * 1024 * 1024


# The child only reads /proc and exits: fork's multi-threading caveat (3.12+) does not apply.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_one_probe_per_process_and_a_new_one_after_fork():
    """A forked child reads its own /proc/self, not the parent's inherited descriptors."""
    parent = _memory.probe()
    assert _memory.probe() is parent
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report whether it got a fresh probe, then leave at once
        fresh = _memory.probe() is not parent
        os.write(write_fd, b"fresh" if fresh else b"stale")
        os._exit(0)
    os.close(write_fd)
    answer = os.read(read_fd, 16)
    os.waitpid(pid, 0)
    os.close(read_fd)
    assert answer == b"fresh"


def test_to_mb():
    assert _memory.to_mb(3 * 1024 * 1024) == 3.0 and _memory.to_mb(None) is None
