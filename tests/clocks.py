"""Clocks for tests that send timestamps to a service which judges them against now.

CloudWatch Logs refuses events older than 14 days or more than 2 hours ahead, EMF documents
obey the same window, and a Lambda deadline lies in the future: such timestamps are built from
``now_ms()``, never written as literals (``scripts/check_clock_literals.py`` enforces it).
"""

from __future__ import annotations

import time
from typing import Any

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


def now_ms() -> int:
    return int(time.time() * 1000)


class ShiftedTime:
    """A stand-in for the ``time`` module whose ``time()`` is ``offset_s`` away from the real one.

    Patched into one module (``monkeypatch.setattr(runner, "time", ShiftedTime(...))``), it
    plays a machine whose clock is off, while the service on the other side keeps real time.
    """

    def __init__(self, offset_s: float) -> None:
        self._offset_s = offset_s

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    def time(self) -> float:
        return time.time() + self._offset_s
