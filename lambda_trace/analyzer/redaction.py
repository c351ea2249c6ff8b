"""The analyzer's one redaction point: every event leaves the parser with its text redacted.

Log lines are written by code we do not control (the handler's own ``logger.error``, a runtime's
traceback, an older lambda-trace): a message can hold a URL with its query string, a bearer
token, a connection string or an S3 object key. ``Parser.iter_events`` passes each event through
``redact_event``, so ``analyze`` (all four formats) and ``events`` show what
``lambda_trace.redact`` leaves, and no renderer has to remember to.

Only the fields that hold free text or names are redacted (by event type, see ``_FIELDS``); the
numbers, ids and timestamps pass untouched. Call names repeat across a log, so results are cached.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from lambda_trace.analyzer.model import Event
from lambda_trace.redact import redact

#: Distinct texts remembered (call names, stack lines); the cache is emptied when it is full.
MAX_CACHED = 8192

_cache: dict[str, str] = {}


def redacted(text: str) -> str:
    """``redact(text)``, remembered; ``text`` itself (the same object) when nothing changed."""
    found = _cache.get(text)
    if found is None:
        if len(_cache) >= MAX_CACHED:
            _cache.clear()
        found = redact(text)
        if found == text:
            found = text  # `is` tells callers nothing changed
        _cache[text] = found
    elif found == text:
        return text
    return found


def _text(value: Any) -> Any:
    return redacted(value) if value.__class__ is str else value


def _texts(value: Any) -> Any:
    """A list of strings (a stack), each redacted."""
    if value.__class__ is list:
        return [_text(item) for item in value]
    return _text(value)


def _string_values(value: Any) -> Any:
    """A mapping's string values redacted (annotations, EMF dimensions); keys are names."""
    if value.__class__ is not dict:
        return _text(value)
    for k, v in value.items():
        if _text(v) is not v:  # rebuilt only when something changes (rarely)
            return {k: _text(v) for k, v in value.items()}
    return value


def _call_summary(value: Any) -> Any:
    """``calls``: ``{name: {count, total_ms, max_ms, errors}}`` with names redacted.

    Two names that redact to the same text are added together, so the counts stay exact.
    """
    if value.__class__ is not dict:
        return value
    if all(_text(name) is name for name in value):
        return value  # the usual: no name changes, nothing to rebuild
    out: dict[Any, Any] = {}
    for name, stats in value.items():
        key = _text(name)
        seen = out.get(key)
        if seen is None or seen.__class__ is not dict or stats.__class__ is not dict:
            out[key] = stats
            continue
        merged = dict(seen)
        for field in ("count", "total_ms", "errors"):
            a, b = seen.get(field), stats.get(field)
            if isinstance(a, (int, float)) and isinstance(b, (int, float)):
                merged[field] = a + b
        a, b = seen.get("max_ms"), stats.get("max_ms")
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            merged["max_ms"] = max(a, b)
        out[key] = merged
    return out


def _in_flight(value: Any) -> Any:
    if value.__class__ is not list:
        return value
    out = []
    for item in value:
        if item.__class__ is dict:
            item = dict(item)
            for key in ("name", "path", "target", "host"):
                if key in item:
                    item[key] = _text(item[key])
        out.append(item)
    return out


_Cleaner = Optional[Callable[[Any], Any]]  # None: a plain text field (the common case, inlined)
_CALL_FIELDS: tuple[tuple[str, _Cleaner], ...] = (
    ("name", None), ("path", None), ("target", None), ("resource", None), ("host", None),
    ("error_message", None), ("parent", None),
)
_WARNING_FIELDS: tuple[tuple[str, _Cleaner], ...] = (
    ("in_flight", _in_flight), ("calls", _call_summary), ("stack", _texts),
)

#: event type -> (key, how to clean its value)
_FIELDS: dict[str, tuple[tuple[str, _Cleaner], ...]] = {
    "call": _CALL_FIELDS,
    "invocation": (
        ("error_message", None), ("calls", _call_summary), ("annotations", _string_values),
    ),
    "timeout_warning": _WARNING_FIELDS,
    "memory_warning": _WARNING_FIELDS,
    "error": (("message", None), ("stack", _texts)),
    "access_denied": (("message", None), ("resource", None), ("principal", None)),
    "runtime_exit": (("reason", None),),
    "emf": (("dimensions", _string_values),),
}


def redact_event(event: Event) -> Event:
    """``event`` with its free-text fields redacted in place (and returned)."""
    fields = _FIELDS.get(event["type"])
    if fields is None:
        return event
    cache = _cache
    for key, clean in fields:
        value = event.get(key)
        if value is None:
            continue
        if clean is not None:
            event[key] = clean(value)
        elif value.__class__ is str:
            found = cache.get(value)
            if found is None:
                found = redacted(value)
            if found is not value:
                event[key] = found
        else:
            event[key] = _text(value)
    return event
