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


def test_one_probe_per_process():
    assert _memory.probe() is _memory.probe()
    assert os.getpid() in _memory._probes


def test_to_mb():
    assert _memory.to_mb(3 * 1024 * 1024) == 3.0 and _memory.to_mb(None) is None
