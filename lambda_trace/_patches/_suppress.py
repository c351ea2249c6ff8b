"""Per-thread "inside an instrumented call" depth, so one call is never counted twice.

An AWS call sends through urllib3, which sends through http.client; urllib3 retries recurse into
``urlopen``. The outermost instrumented layer raises the depth and the inner ones call straight
through while it is non-zero (OpenTelemetry's suppression flag, per thread).
"""

from __future__ import annotations

import threading


class _Depth(threading.local):
    depth = 0


state = _Depth()
