"""The runtime's GIL-independent last word: a faulthandler stack dump read as a timeout warning.

When a handler holds the GIL in C code at the deadline, the runtime's watchdog thread cannot
write its ``timeout_warning``; ``faulthandler`` (armed by ``lambda_trace._lastword``) writes to
stderr instead, one CloudWatch event per line (``Timeout (0:00:00.900000)!`` first when it was
armed with ``dump_traceback_later``; the signal-armed dump starts at the thread lines)::

    Thread 0x00007f3b2d0f1740 (most recent call first):
      File "/usr/lib/python3.12/re/__init__.py", line 167 in match
      File "/var/task/app.py", line 12 in handler
      File "/opt/python/lambda_trace/_decorator.py", line 135 in handler
      ...

(format: CPython's Python/traceback.c, ``_Py_DumpTraceback``). ``merge_stack_dumps`` joins those
lines back into one ``timeout_warning`` event whose in-flight entry names where the handler
was stuck (``stuck in re.match at app.py:12``, kind ``stack``), with the frames in ``stack``.
Its ``elapsed_ms`` is null (``dump_after_ms`` holds the armed delay), so when the watchdog wrote
its own warning too, that one (which names the calls in flight) is kept.
The dump carries no request id: the join gives it to the invocation open in its log stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, Optional

from lambda_trace.analyzer.model import LogEvent

_HEADER = re.compile(r"Timeout \((\d+):(\d\d):(\d\d(?:\.\d+)?)\)!\s*$")
_THREAD = re.compile(r"(?:Current thread|Thread) 0x[0-9a-fA-F]+ \(most recent call first\):\s*$")
_FRAME = re.compile(r"  File \"(?P<file>.*)\", line (?P<line>\d+|\?\?\?) in (?P<func>.*?)\s*$")
_OTHER = re.compile(r"  (?:<no Python frame>|\.\.\.|<[^>]*>)\s*$")
#: lines of one dump kept at most (CPython writes at most 100 frames per thread)
MAX_DUMP_LINES = 2000
#: path parts of code that is not the function's own
_LIBRARY_PARTS = ("/lib/python", "site-packages/", "dist-packages/", "/var/runtime/",
                  "<frozen ", "/lambda_trace/", "awslambdaric/")
_OUR_WRAPPER = "/lambda_trace/_decorator.py"
#: how the lines that may start a dump begin
_STARTS = frozenset(("Timeout (", "Thread 0x", "Current t"))


def merge_stack_dumps(log_events: Iterable[LogEvent]) -> Iterator[LogEvent]:
    """``log_events`` with each faulthandler dump (its lines in a row) made one record event.

    A dump starts at ``Timeout (…)!`` (``dump_traceback_later``) or, from the signal-armed
    dump, at its first thread line; not after ``Fatal Python error`` (a crash's own dump).
    """
    dump: Optional[list[LogEvent]] = None
    previous = ""  # the last non-blank line before this one
    for log_event in log_events:
        text = log_event.message
        if dump is not None:
            if (
                log_event.log_stream == dump[0].log_stream
                and len(dump) < MAX_DUMP_LINES
                and _continues(text)
            ):
                dump.append(log_event)
                continue
            yield _as_record(dump)
            dump = None
        c = text[:1]  # one character: no slice is made for the usual line
        if (c == "T" or c == "C") and text[:9] in _STARTS and _starts(
            text.rstrip("\r\n"), previous
        ):
            if "\n" in text.rstrip("\r\n"):  # a copy with the whole dump in one event
                yield _as_record([log_event])
                continue
            dump = [log_event]
            continue
        if (c and not c.isspace()) or text.strip():
            previous = text
        yield log_event
    if dump is not None:
        yield _as_record(dump)


def _starts(text: str, previous: str) -> bool:
    first = text.split("\n", 1)[0]
    if _HEADER.match(first):
        return True
    return bool(_THREAD.match(first)) and not previous.startswith("Fatal Python error")


def _continues(text: str) -> bool:
    line = text.rstrip("\r\n")
    return not line.strip() or bool(
        _THREAD.match(line) or _FRAME.match(line) or _OTHER.match(line))


def _as_record(dump: list[LogEvent]) -> LogEvent:
    lines: list[str] = []
    for log_event in dump:
        lines.extend(log_event.message.rstrip("\r\n").split("\n"))
    first = dump[0]
    header = _HEADER.match(lines[0])
    armed_ms = None  # the delay it was armed with; unknown for a signal-armed dump
    if header:
        hours, minutes, seconds = header.groups()
        armed_ms = round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000, 3)
    frames = _handler_frames(lines[1:] if header else lines)
    record: dict[str, Any] = {
        "lambda_trace": 1, "type": "timeout_warning", "source": "faulthandler",
        # elapsed_ms null: a warning the watchdog wrote too (it names the calls) is kept
        "request_id": None, "elapsed_ms": None, "dump_after_ms": armed_ms,
        "remaining_ms": None, "timeout_ms": None,
        "in_flight": [{"name": stuck_at(frames), "kind": "stack", "running_ms": armed_ms}],
        "calls": {}, "stack": [f"{f} line {n} in {fn}" for f, n, fn in frames],
    }
    import json

    return LogEvent(json.dumps(record), first.timestamp_ms, first.log_stream, first.log_group,
                    first.origin)


def _handler_frames(lines: list[str]) -> list[tuple[str, str, str]]:
    """The frames (most recent first) of the thread running the handler.

    That is the thread whose stack holds our ``@trace`` wrapper (the frames below it are the
    runtime's); without one, the first thread dumped (faulthandler starts with the current one).
    """
    threads: list[list[tuple[str, str, str]]] = []
    for line in lines:
        if _THREAD.match(line):
            threads.append([])
            continue
        match = _FRAME.match(line)
        if match and threads:
            threads[-1].append((match.group("file"), match.group("line"), match.group("func")))
    for frames in threads:
        for i, (path, _, _) in enumerate(frames):
            if path.endswith(_OUR_WRAPPER):
                return frames[:i]
    return threads[0] if threads else []


def _is_library(path: str) -> bool:
    return any(part in path for part in _LIBRARY_PARTS)


def _short_file(path: str) -> str:
    if "/var/task/" in path:
        return path.split("/var/task/", 1)[1]
    return path.rsplit("/", 1)[-1]


def _module(path: str) -> str:
    """``.../lib/python3.12/re/__init__.py`` -> ``re``; ``site-packages/requests/api.py`` ->
    ``requests.api``; anything else: the file name without ``.py``."""
    for marker in ("site-packages/", "dist-packages/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        found = re.search(r"/lib/python\d+(?:\.\d+)*/(.*)$", path)
        path = found.group(1) if found else path.rsplit("/", 1)[-1]
    if path.endswith(".py"):
        path = path[:-3]
    if path.endswith("/__init__"):
        path = path[: -len("/__init__")]
    return path.replace("/", ".")


def stuck_at(frames: list[tuple[str, str, str]]) -> str:
    """Where the handler was: ``stuck in re.match at app.py:12`` or ``stuck at app.py:12 in f``."""
    if not frames:
        return "stuck (no Python frame in the stack dump)"
    own = next((i for i, (path, _, _) in enumerate(frames) if not _is_library(path)), None)
    top_file, _, top_func = frames[0]
    if own is None:
        return f"stuck in {_module(top_file)}.{top_func}"
    own_file, own_line, own_func = frames[own]
    if own == 0:
        return f"stuck at {_short_file(own_file)}:{own_line} in {own_func}"
    return f"stuck in {_module(top_file)}.{top_func} at {_short_file(own_file)}:{own_line}"
