"""Threads currently inside an instrumented call, so one call is never counted twice.

An AWS call sends through urllib3, which sends through http.client; urllib3 retries recurse into
``urlopen``. The outermost instrumented layer adds its thread to ``inside`` and the inner layers
call straight through while it is there (OpenTelemetry's suppression flag, per thread). A set of
thread idents costs about half of a ``threading.local`` counter on this path.
"""

from __future__ import annotations

from threading import get_ident

#: idents of the threads inside an instrumented call; set add/discard/in are atomic under the GIL
inside: set[int] = set()

__all__ = ["get_ident", "inside"]
