"""Resident memory: cheap current RSS for polling, and the peak RSS of one invocation.

Peak per invocation: writing ``5`` to ``/proc/self/clear_refs`` resets the kernel's high-water
mark (VmHWM, which ``getrusage().ru_maxrss`` reports too), so after a reset at invocation start
``ru_maxrss`` at the end is this invocation's peak (≈1 µs, where reading /proc/self/status costs
≈25 µs). Except in a process exec'd from a bigger one: Linux reports in ``ru_maxrss`` the larger
of the current high-water mark and the peak of the memory the process had *before* its exec (a
copy of its parent's), and clear_refs resets only the former. The first reset checks for such an
inherited floor; a process that has one reads VmHWM with one ``pread`` of /proc/self/status.
Where the reset is not permitted (not Linux, hardened /proc) the peak is the highest of the RSS
samples the watchdog polled and the RSS at start and end.
"""

from __future__ import annotations

import os

from lambda_trace import _held_io

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Optional

    from lambda_trace._libc import HeldCalls

try:
    import resource as _resource
except ImportError:  # pragma: no cover - Windows
    _resource = None  # type: ignore[assignment]

_MB = 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class MemoryProbe:
    """Per-process handles on /proc, opened once."""

    def __init__(self) -> None:
        self._statm: Optional[int] = _open("/proc/self/statm", os.O_RDONLY)
        self._clear_refs: Optional[int] = _open("/proc/self/clear_refs", os.O_WRONLY)
        #: /proc/self/status, opened only in a process whose ru_maxrss has an inherited floor
        self._status: Optional[int] = None
        #: None until the first reset decides; then whether the peak is VmHWM, not ru_maxrss
        self._peak_from_status: Optional[bool] = None
        #: the reset's write keeping the GIL (``_libc``) once ``_ctypes`` is loaded, else None
        self._held: Optional[HeldCalls] = None

    def rss_bytes(self) -> Optional[int]:
        """Current resident set size (one ``pread`` of /proc/self/statm), None if unknown."""
        if self._statm is None:
            return None
        try:
            return int(os.pread(self._statm, 64, 0).split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            return None

    def reset_peak(self) -> bool:
        """Reset the high-water mark; False when not permitted (then use sampled peaks)."""
        if self._clear_refs is None:
            return False
        held = self._held
        if held is None:
            held = self._held = _held_io.new()
        try:
            if held is None or held.write_unpolled(self._clear_refs, b"5") is None:
                os.write(self._clear_refs, b"5")
        except OSError:
            _close(self._clear_refs)
            self._clear_refs = None
            return False
        if self._peak_from_status is None:
            self._peak_from_status = self._has_inherited_floor()
        return True

    def _has_inherited_floor(self) -> bool:
        """True when ru_maxrss stays above the RSS right after a reset (see the module doc)."""
        usage = _ru_maxrss_bytes()
        rss = self.rss_bytes()
        if usage is None or rss is None or usage <= rss * _FLOOR_RATIO + _FLOOR_SLACK:
            return False
        self._status = _open("/proc/self/status", os.O_RDONLY)
        return self._vm_hwm_bytes() is not None

    def _vm_hwm_bytes(self) -> Optional[int]:
        if self._status is None:
            return None
        try:
            data = os.pread(self._status, 4096, 0)
            start = data.index(b"VmHWM:") + 6
            return int(data[start : data.index(b"kB", start)]) * 1024
        except (OSError, ValueError):
            return None

    def peak_bytes_since_reset(self) -> Optional[int]:
        """The high-water mark in bytes (VmHWM or ``ru_maxrss``), None where unavailable."""
        if self._peak_from_status:
            peak = self._vm_hwm_bytes()
            if peak is not None:
                return peak
        return _ru_maxrss_bytes()


#: ru_maxrss may exceed the RSS sampled just after a reset by this much before we call it a floor
_FLOOR_RATIO = 1.05
_FLOOR_SLACK = 2 * _MB


def _ru_maxrss_bytes() -> Optional[int]:
    """``ru_maxrss`` in bytes (Linux reports KiB), None where unavailable."""
    if _resource is None:
        return None
    try:
        return int(_resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss) * 1024
    except (OSError, ValueError):
        return None


def to_mb(n_bytes: Optional[int]) -> Optional[float]:
    return None if n_bytes is None else round(n_bytes / _MB, 1)


def _open(path: str, flags: int) -> Optional[int]:
    try:
        return os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None


def _close(fd: int) -> None:
    try:  # noqa: SIM105 - contextlib is not otherwise on the import path
        os.close(fd)
    except OSError:
        pass


_probe: list[MemoryProbe] = []


def probe() -> MemoryProbe:
    """This process's probe, created on first use."""
    if not _probe:
        _probe.append(MemoryProbe())
    return _probe[0]


# A forked child must open its own /proc/self files (the inherited ones describe the parent).
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_probe.clear)
