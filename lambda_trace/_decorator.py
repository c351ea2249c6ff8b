"""``@trace``: bare or with keyword options; the handler's result and exceptions pass untouched."""

from __future__ import annotations

import functools
from sys import getrecursionlimit, setrecursionlimit

from lambda_trace import _safety
from lambda_trace._config import resolve
from lambda_trace._lifecycle import HandlerTracer

# `typing` and `inspect` stay off the import path (≈5 ms and ≈10 ms of cold start).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional, TypeVar, Union, overload

    from typing_extensions import ParamSpec

    from lambda_trace._config import Settings, Sink

    P = ParamSpec("P")
    R = TypeVar("R")
else:

    def overload(fn):  # the overloads are for type checkers; the last definition wins
        return fn


#: ``co_flags`` bit of an ``async def`` function's code (``inspect.CO_COROUTINE``).
_CO_COROUTINE = 0x80


def _instrument_early() -> None:
    # Database drivers are patched from `from lambda_trace import trace` on, so that connections
    # opened by module-level code above the decorated handler are traced (docs/runtime.md).
    # The kill switches are read here: disabled, not even _patches is imported.
    import os

    disabled = os.environ.get("LAMBDA_TRACE_DISABLED", "").strip().lower()
    db = os.environ.get("LAMBDA_TRACE_DB", "").strip().lower()
    if disabled in ("1", "true", "yes", "on") or db in ("0", "false", "no", "off"):
        return
    try:
        from lambda_trace._patches import instrument

        instrument(aws=False, http=False, db=True)
    except Exception as exc:
        _safety.report("instrument", exc)


_instrument_early()


#: Attribute on a traced handler holding its resolved Settings (for tests and introspection).
SETTINGS_ATTR = "__lambda_trace_settings__"


@overload
def trace(fn: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def trace(  # noqa: F811 - ruff does not see through the runtime `overload` stand-in
    *,
    enabled: Optional[bool] = None,
    call_lines: Optional[str] = None,
    slow_ms: Optional[float] = None,
    max_call_lines: Optional[int] = None,
    metrics: Optional[bool] = None,
    namespace: Optional[str] = None,
    service: Optional[str] = None,
    timeout_margin_ms: Optional[float] = None,
    memory_warning_ratio: Optional[float] = None,
    memory_poll_ms: Optional[float] = None,
    watchdog: Optional[bool] = None,
    aws: Optional[bool] = None,
    http: Optional[bool] = None,
    db: Optional[bool] = None,
    sink: Optional[Sink] = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def trace(  # noqa: F811
    fn: Optional[Callable[..., Any]] = None,
    /,
    **options: Any,
) -> Union[Callable[..., Any], Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """Trace a Lambda handler: time downstream calls, write records and EMF metrics.

    Use bare (``@trace``) or with options (``@trace(call_lines="slow")``); an option left as
    None falls back to its ``LAMBDA_TRACE_*`` variable, then to the default. With
    ``enabled=False`` or ``LAMBDA_TRACE_DISABLED=1`` the handler is returned unchanged.
    """
    settings = resolve(options)
    if fn is None:
        return lambda f: _decorate(f, settings)
    return _decorate(fn, settings)


def _decorate(fn: Callable[..., Any], settings: Settings) -> Callable[..., Any]:
    if isinstance(fn, (classmethod, staticmethod)):
        # The wrapper would be a plain function: a classmethod object is not callable, and a
        # staticmethod's wrapper would receive the instance as `event`. Say so now, not per call.
        kind = type(fn).__name__
        raise TypeError(
            f"@trace must be placed below @{kind}, not above it: "
            f"@{kind} / @trace / def handler(...)"
        )
    if not settings.enabled:
        return fn
    try:
        from lambda_trace._patches import instrument

        instrument(aws=settings.aws, http=settings.http, db=settings.db)
    except Exception as exc:
        _safety.report("instrument", exc)
    tracer = HandlerTracer(settings)

    if is_async(fn):

        @functools.wraps(fn)
        async def async_handler(*args: Any, **kwargs: Any) -> Any:
            inv = tracer.start(args, kwargs)
            if inv is None:
                limit = getrecursionlimit()
                setrecursionlimit(limit + 1)  # our frame of this level, given back (see below)
                try:
                    return await fn(*args, **kwargs)
                finally:
                    if getrecursionlimit() == limit + 1:
                        setrecursionlimit(limit)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                tracer.finish(inv, exc)
                raise
            tracer.finish(inv, None, result)
            return result

        setattr(async_handler, SETTINGS_ATTR, settings)
        return async_handler

    @functools.wraps(fn)
    def handler(*args: Any, **kwargs: Any) -> Any:
        inv = tracer.start(args, kwargs)
        if inv is None:
            # Already inside an invocation: a handler calling itself (or another traced function)
            # would get one frame of ours per level, half its recursion depth. The frame is
            # given back by raising the limit by one while the inner call runs (≈0.1 µs).
            limit = getrecursionlimit()
            setrecursionlimit(limit + 1)
            try:
                return fn(*args, **kwargs)
            finally:
                if getrecursionlimit() == limit + 1:  # unless the handler set its own limit
                    setrecursionlimit(limit)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            # Records are written, then the very same exception continues (bare raise keeps
            # its traceback, __cause__ and __context__ as the handler left them).
            tracer.finish(inv, exc)
            raise
        tracer.finish(inv, None, result)
        return result

    setattr(handler, SETTINGS_ATTR, settings)
    return handler


def is_async(fn: Callable[..., Any]) -> bool:
    """``inspect.iscoroutinefunction(fn)``, without importing inspect for plain functions.

    An object whose ``__call__`` is ``async def`` counts as async too (``inspect`` says no).
    """
    if type(fn).__name__ == "function" and not hasattr(fn, "_is_coroutine_marker"):
        return bool(fn.__code__.co_flags & _CO_COROUTINE)
    import inspect  # partials, methods, marked callables: rare enough to pay for inspect

    if inspect.iscoroutinefunction(fn):
        return True
    if inspect.isroutine(fn) or inspect.isclass(fn):
        return False
    call = type(fn).__dict__.get("__call__") or getattr(type(fn), "__call__", None)  # noqa: B004
    return inspect.iscoroutinefunction(call)
