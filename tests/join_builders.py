"""Builders of normalised events for the join, aggregate, findings and render tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

from clocks import DAY_MS, now_ms

from lambda_trace.analyzer.model import Event, make_event

STREAM = "2026/11/27/[$LATEST]0123456789abcdef0123456789abcdef"
#: Yesterday at 11:06:40 UTC (epoch ms): inside any service's window (CloudWatch keeps 14
#: days), and always the same time of day, so minute and hour buckets split the same way.
T0 = (now_ms() // DAY_MS - 1) * DAY_MS + 40_000_000


def call(
    rid: Optional[str], name: str, start_ms: float, duration_ms: float, *,
    stream: Optional[str] = STREAM, ts: Optional[int] = None, status: str = "ok",
    kind: str = "aws", **extra: Any,
) -> Event:
    return make_event(
        "call", request_id=rid, timestamp_ms=ts, log_stream=stream, lambda_trace=1,
        name=name, kind=kind, start_ms=start_ms, duration_ms=duration_ms, status=status, **extra,
    )


def invocation(
    rid: str,
    *,
    stream: Optional[str] = STREAM,
    t0: int = T0,
    duration: float = 100.0,
    billed: Optional[float] = None,
    memory: int = 512,
    used: int = 100,
    init: Optional[float] = None,
    status: Optional[str] = None,
    error_type: Optional[str] = None,
    calls: Iterable[tuple[str, float, float]] = (),
    record: bool = False,
    timeout_s: Optional[float] = None,
    extra: Iterable[Event] = (),
) -> list[Event]:
    """START, calls, extra events, (invocation record), END, REPORT, (Task timed out)."""
    end_ts = t0 + int(duration)
    events = [make_event("start", request_id=rid, timestamp_ms=t0, log_stream=stream,
                         version="$LATEST")]
    recorded = []
    for name, start, dur in calls:
        events.append(call(rid, name, start, dur, stream=stream, ts=t0 + int(start + dur)))
        recorded.append((name, dur))
    events.extend(extra)
    if record:
        summary: dict[str, dict[str, float]] = {}
        for name, dur in recorded:
            s = summary.setdefault(name, {"count": 0, "total_ms": 0.0, "max_ms": 0.0, "errors": 0})
            s["count"] += 1
            s["total_ms"] += dur
            s["max_ms"] = max(s["max_ms"], dur)
        events.append(make_event(
            "invocation", request_id=rid, timestamp_ms=end_ts, log_stream=stream,
            lambda_trace=1, cold_start=init is not None, init_ms=init, duration_ms=duration,
            memory_limit_mb=memory, memory_peak_mb=used, status="error" if error_type else "ok",
            error_type=error_type, calls=summary,
        ))
    events.append(make_event("end", request_id=rid, timestamp_ms=end_ts, log_stream=stream))
    events.append(make_event(
        "report", request_id=rid, timestamp_ms=end_ts, log_stream=stream,
        duration_ms=duration, billed_duration_ms=billed if billed is not None else float(
            int(duration) + 1 + int(init or 0)),
        memory_size_mb=memory, max_memory_used_mb=used, init_duration_ms=init,
        status=status or "success", error_type=error_type,
    ))
    if timeout_s is not None:
        events.append(make_event("timeout", request_id=rid, timestamp_ms=end_ts,
                                 log_stream=stream, seconds=timeout_s))
    return events


def error(rid: Optional[str], error_type: str, message: str, *, stream: Optional[str] = STREAM,
          stack: Any = None, ts: Optional[int] = None) -> Event:
    return make_event("error", request_id=rid, timestamp_ms=ts, log_stream=stream,
                      error_type=error_type, message=message, stack=stack, runtime="python")


#: Log content that would run script, break out of markup or rewrite a terminal if trusted.
HOSTILE = (
    "<script>document.documentElement.setAttribute('data-pwned','script')</script>"
    "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">"
    " javascript:document.documentElement.setAttribute('data-pwned','js')"
    " \"double\" 'single' | pipe [bold red]markup[/] \x1b[31mred\x1b[0m"
    " \u202eevil\u202c \u2028line\u2029para \x00nul"
)
#: A call name that tries to close the JSON <script> block and open one of its own.
HOSTILE_NAME = (
    "</script><script>document.documentElement.setAttribute('data-pwned','breakout')</script>"
    "<!-- \u2028 &amp;"
)


def realistic_events(n: int = 120, *, hostile: bool = False, seed: int = 1) -> list[Event]:
    """A function with S3, DynamoDB (an N+1 loop), an HTTP API, cold starts, a timeout, errors."""
    import random

    rng = random.Random(seed)
    events: list[Event] = []
    for i in range(n):
        stream = f"2026/11/27/[$LATEST]{(i // 40):032x}"
        t = 0.0
        calls = []
        for _ in range(rng.randint(3, 8)):
            d = rng.lognormvariate(2.2, 0.4)
            calls.append(("dynamodb.GetItem", t, d))
            t += d + 0.3
        d = rng.lognormvariate(4.3, 0.5)
        calls.append(("s3.GetObject", t, d))
        t += d + 1
        d = rng.lognormvariate(3.6, 0.6)
        calls.append((HOSTILE_NAME if hostile and i == 0 else "http GET api.example.com", t, d))
        t += d + 2
        extra: list[Event] = []
        if i % 50 == 7:
            extra.append(error(None, "KeyError", HOSTILE if hostile else "'order_id'",
                               stream=stream,
                               stack=['  File "/var/task/app.py", line 31, in handler\n']))
        events += invocation(
            f"{i:08x}-0000-4000-8000-{i:012x}", stream=stream, t0=T0 + i * 5000,
            duration=round(t + rng.uniform(3, 15), 2), memory=512 if i < n // 2 else 1024,
            used=int(rng.uniform(120, 170)), init=round(rng.uniform(250, 600), 2)
            if i % 40 == 0 else None, calls=calls, record=True, extra=extra,
        )
    events += invocation("ffffffff-0000-4000-8000-00000000dead", stream="timeouts",
                         t0=T0 + n * 5000, duration=3000.0, status="timeout", timeout_s=3.0,
                         memory=1024, used=300)
    return events
