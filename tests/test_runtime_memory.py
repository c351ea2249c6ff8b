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


# A fat parent (200 MB touched) fork+execs a traced handler that allocates 30 MB: the child's
# ru_maxrss starts at the parent's size, as under the local runner.
_FAT_PARENT = """
import os, sys
block = bytearray(200 * 1024 * 1024)
block[::4096] = b"x" * len(block[::4096])
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-c", sys.argv[1]])
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""

_TRACED_CHILD = """
import json, resource
from lambda_trace import _memory, trace
from lambda_trace.testing import FakeContext, capture

@trace(metrics=False)
def handler(event, context):
    data = bytearray(30 * 1024 * 1024)
    data[::4096] = b"y" * len(data[::4096])
    return len(data)

with capture() as cap:
    handler({}, FakeContext(memory_limit_in_mb="1024"))
print(json.dumps({
    "peak_mb": cap.invocations[0]["memory_peak_mb"],
    "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "reset": _memory.probe()._clear_refs is not None,
}))
"""


def test_peak_of_a_process_execd_from_a_bigger_one_is_its_own():
    """A ru_maxrss floor inherited at exec is detected once; the peak then comes from VmHWM."""
    import json
    import subprocess

    from runtime_support import ROOT

    result = subprocess.run(
        [sys.executable, "-c", _FAT_PARENT, _TRACED_CHILD],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    if not facts["reset"]:
        pytest.skip("clear_refs not permitted here")
    assert facts["ru_maxrss_mb"] > 190  # the inherited floor this test is about
    assert 30 <= facts["peak_mb"] < 150  # the child's own peak: interpreter + 30 MB


def test_peak_without_an_inherited_floor_uses_getrusage():
    """A process whose ru_maxrss follows its own RSS keeps the cheap getrusage path."""
    probe = _memory.MemoryProbe()
    if not probe.reset_peak():
        pytest.skip("clear_refs not permitted here")
    assert probe._peak_from_status is False
    assert probe.peak_bytes_since_reset() == _memory._ru_maxrss_bytes()
