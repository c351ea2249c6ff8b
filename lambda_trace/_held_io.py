"""Whether the GIL-keeping system calls of ``_libc`` can be used yet, and one for each caller.

Stdlib only and cheap to import: it is on the cold start, ``_libc`` (and ``_ctypes``) is not.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from lambda_trace._libc import HeldCalls

#: [True] once ``_libc`` works here, [False] once it does not; empty: not tried yet
_usable: list[bool] = []


def new() -> Optional[HeldCalls]:
    """A ``HeldCalls`` of the caller's own, or None: ``_ctypes`` is not loaded yet (ask again
    at the next invocation) or the calls cannot be made here (then os's calls are the ones)."""
    if _usable:
        if not _usable[0]:
            return None
    elif "_ctypes" not in sys.modules:
        return None  # loading it would cost the cold start ≈1.2 ms; ``_thread_timer`` will
    try:
        from lambda_trace import _libc

        calls = _libc.held_calls()
    except (ImportError, OSError, AttributeError):
        _usable.append(False)
        return None
    if not _usable:
        _usable.append(True)
    return calls
