"""Resident memory of a runtime's process tree, read from ``/proc`` (Linux).

Lambda enforces MemorySize with a cgroup; there is none here, so the runner polls this every few
milliseconds and kills the tree when it crosses the limit. ``VmHWM`` (the kernel's own peak)
catches spikes that fall between two polls: a peak over the limit is a kill a cgroup would have
made too.
"""

from __future__ import annotations

import os
from typing import Optional

MIB = 1024 * 1024

#: Re-discover child processes every this many samples (children are rare and cost a scan).
_CHILD_SCAN_EVERY = 20


def available() -> bool:
    """True where ``/proc/<pid>/status`` exists (Linux)."""
    return os.path.exists(f"/proc/{os.getpid()}/status")


def status_kib(pid: int) -> Optional[tuple[int, int]]:
    """``(VmRSS, VmHWM)`` in KiB for one process; None once it has gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            text = f.read()
    except OSError:
        return None
    rss = hwm = 0
    for line in text.splitlines():
        if line.startswith(b"VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith(b"VmHWM:"):
            hwm = int(line.split()[1])
    return rss, hwm


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (all threads' children, recursively)."""
    found: list[int] = []
    stack = [pid]
    while stack:
        parent = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children", "rb") as f:
                    kids = [int(p) for p in f.read().split()]
            except (OSError, ValueError):
                continue
            found.extend(kids)
            stack.extend(kids)
    return found


class TreeMemory:
    """Current and peak memory of one process and its descendants."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_bytes = 0
        self._children: list[int] = []
        self._samples = 0

    def sample(self) -> int:
        """Bytes in use now, counting the main process's peak since its last reset; updates peak."""
        if self._samples % _CHILD_SCAN_EVERY == 0:
            self._children = children(self.pid)
        self._samples += 1
        total_kib = 0
        main = status_kib(self.pid)
        if main is not None:
            total_kib += max(main)
        for child in self._children:
            child_status = status_kib(child)
            if child_status is not None:
                total_kib += child_status[0]
        used = total_kib * 1024
        self.peak_bytes = max(self.peak_bytes, used)
        return used

    @property
    def peak_mb(self) -> int:
        """The peak in whole MB (Lambda's ``Max Memory Used`` unit; MB here means MiB)."""
        return -(-self.peak_bytes // MIB)
