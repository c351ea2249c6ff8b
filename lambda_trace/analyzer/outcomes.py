"""How one invocation ended, and the keys its failures are counted under.

:func:`classify` says whether it timed out, failed, ran out of memory or was under memory
pressure; :func:`top_frame` names where an error was raised (the error groups' key).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, Optional, TypedDict

from lambda_trace.analyzer.faults import returned_5xx
from lambda_trace.analyzer.join import Invocation
from lambda_trace.analyzer.model import Event
from lambda_trace.analyzer.numbers import as_float

#: Max Memory Used at or above this share of Memory Size counts as memory pressure.
MEMORY_PRESSURE_RATIO = 0.9

_EMPTY: dict[str, Any] = {}


class Outcome(NamedTuple):
    """How an invocation ended."""

    timed_out: bool
    failed: bool
    oom: bool
    pressure: bool


def classify(inv: Invocation, size: Optional[float], peak: Optional[float]) -> Outcome:
    """How it ended: timed out, failed (an error or a crash), out of memory, memory pressure."""
    report = inv.report or _EMPTY
    status = report.get("status")
    limited = size is not None and peak is not None and size > 0
    at_limit = limited and peak >= size  # type: ignore[operator]
    timed_out = inv.timed_out or status == "timeout"
    exit_ = inv.runtime_exit
    # "signal: killed" is how Lambda ends a function at its memory limit, but also any other
    # kill: without Max Memory Used at the limit it is a crash, not evidence of memory.
    oom = (
        report.get("error_type") == "Runtime.OutOfMemory"
        or bool(exit_ is not None and (
            (exit_.get("oom") and exit_.get("signal") != "killed") or at_limit))
        or (status == "error" and at_limit)
    )
    record = inv.record
    failed = (
        oom
        or status == "error"
        or exit_ is not None
        or (record is not None and (record.get("status") == "error"
                                    or returned_5xx(record) is not None))
        # an exception the code caught and logged does not fail the invocation
        or any(e.get("error_type") and e.get("unhandled") is not False for e in inv.errors)
    )
    pressure = (
        not oom and limited and (timed_out or failed)
        and peak >= MEMORY_PRESSURE_RATIO * size  # type: ignore[operator]
    )
    return Outcome(timed_out, failed and not timed_out, oom, pressure)


UNEVENTFUL = Outcome(False, False, False, False)
#: REPORT statuses that say nothing went wrong (absent: an older runtime's plain REPORT)
QUIET_STATUSES = frozenset({None, "success"})



_LIBRARY_PATH = re.compile(
    r'File "(?:[^"]*/(?:site-packages|dist-packages|var/runtime|var/lang/lib|python3\.\d+)/'
    r"|<frozen )"
)


def repeats(event: Event, previous: Optional[Event]) -> bool:
    """The same event again, but for its timestamp and whitespace (a console's two renderings)."""
    if previous is None or previous["type"] != event["type"] or event["type"] == "call":
        return False
    if previous.get("log_stream") != event.get("log_stream") or previous.keys() != event.keys():
        return False
    for key, value in event.items():
        if key == "timestamp_ms":
            continue
        other = previous[key]
        if isinstance(value, str) and isinstance(other, str):
            if value.split() != other.split():
                return False
        elif value != other:
            return False
    return True


def is_access_denied(error: Event) -> bool:
    stack = error.get("stack")
    last = stack[-1] if isinstance(stack, list) and stack else ""
    text = f"{error.get('error_type') or ''} {error.get('message') or ''} {last}"
    return "AccessDenied" in text or "not authorized to perform" in text


class OomExample(TypedDict):
    """One out-of-memory invocation's evidence (``Aggregator.oom_examples``)."""

    request_id: Optional[str]
    memory_size_mb: Optional[float]
    max_memory_used_mb: Optional[float]
    duration_ms: Optional[float]
    #: from lambda-trace's memory warning, when one was written before the end
    warning_rss_mb: Optional[float]
    warning_elapsed_ms: Optional[float]
    #: the longest-running call at the warning: name, kind, running_ms
    in_flight: Optional[dict[str, Any]]


def oom_example(inv: Invocation, size: Optional[float], peak: Optional[float],
                duration: Optional[float]) -> OomExample:
    """What one out-of-memory invocation tells: its size, when it died, the memory warning."""
    warning = getattr(inv, "memory_warning", None)
    example: OomExample = {
        "request_id": inv.request_id,
        "memory_size_mb": size,
        "max_memory_used_mb": peak,
        "duration_ms": duration,
        "warning_rss_mb": None,
        "warning_elapsed_ms": None,
        "in_flight": None,
    }
    if warning is not None:
        example["warning_rss_mb"] = as_float(warning.get("rss_mb"))
        example["warning_elapsed_ms"] = as_float(warning.get("elapsed_ms"))
        running = [c for c in warning.get("in_flight") or () if isinstance(c, dict)]
        if running:
            longest = max(running, key=lambda c: as_float(c.get("running_ms")) or 0.0)
            example["in_flight"] = {"name": longest.get("name"), "kind": longest.get("kind"),
                                    "running_ms": as_float(longest.get("running_ms"))}
    return example


def top_frame(stack: Any) -> Optional[str]:
    """The innermost frame of a Python or Node.js stack (a list of lines or one text), shortened."""
    if not stack:
        return None
    lines: list[str] = []
    for item in stack if isinstance(stack, list) else [stack]:
        lines.extend(str(item).replace("\r", "\n").split("\n"))
    python_frame = None
    own_frame = None
    for line in lines:
        text = line.replace("\u00a0", " ").strip()
        if text.startswith('File "'):
            python_frame = text  # the last one is the innermost
            if not _LIBRARY_PATH.search(text):
                own_frame = text
        elif text.startswith("at ") and python_frame is None:
            return text[3:][:200]
    if python_frame is None:
        return None
    # The innermost frame of the function's own code says where to look; botocore's
    # _make_api_call, where every ClientError is raised, says nothing.
    python_frame = own_frame or python_frame
    # 'File "/var/task/app.py", line 12, in handler' -> 'app.py:12 in handler'
    try:
        path, rest = python_frame[6:].split('"', 1)
        parts = [p.strip() for p in rest.split(",")]
        line_no = parts[1].split()[-1] if len(parts) > 1 else "?"
        func = parts[2][3:] if len(parts) > 2 and parts[2].startswith("in ") else ""
        # a function name is one word: a traceback pasted on one line (the console's copy)
        # continues with the source line after it
        func = func.split()[0] if func.split() else ""
        short = path.rsplit("/", 1)[-1]
        return f"{short}:{line_no} in {func}".strip()[:200]
    except (ValueError, IndexError):
        return python_frame[:200]
