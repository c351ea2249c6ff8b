"""``@trace``: bare or with keyword options; the handler's result and exceptions pass untouched."""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, Union, overload

from lambda_trace import _safety
from lambda_trace._config import Settings, Sink, resolve
from lambda_trace._lifecycle import HandlerTracer

if TYPE_CHECKING:
    from typing_extensions import ParamSpec

    P = ParamSpec("P")
R = TypeVar("R")

#: Attribute on a traced handler holding its resolved Settings (for tests and introspection).
SETTINGS_ATTR = "__lambda_trace_settings__"


@overload
def trace(fn: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def trace(
    *,
    enabled: Optional[bool] = None,
    call_lines: Optional[str] = None,
    slow_ms: Optional[float] = None,
    max_call_lines: Optional[int] = None,
    metrics: Optional[bool] = None,
    namespace: Optional[str] = None,
    timeout_margin_ms: Optional[float] = None,
    memory_warning_ratio: Optional[float] = None,
    memory_poll_ms: Optional[float] = None,
    watchdog: Optional[bool] = None,
    aws: Optional[bool] = None,
    http: Optional[bool] = None,
    sink: Optional[Sink] = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def trace(
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
    if not settings.enabled:
        return fn
    try:
        from lambda_trace._patches import instrument

        instrument(aws=settings.aws, http=settings.http)
    except Exception as exc:
        _safety.report("instrument", exc)
    tracer = HandlerTracer(settings)

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_handler(*args: Any, **kwargs: Any) -> Any:
            inv = tracer.start(args, kwargs)
            if inv is None:
                return await fn(*args, **kwargs)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                tracer.finish(inv, exc)
                raise
            tracer.finish(inv, None)
            return result

        setattr(async_handler, SETTINGS_ATTR, settings)
        return async_handler

    @functools.wraps(fn)
    def handler(*args: Any, **kwargs: Any) -> Any:
        inv = tracer.start(args, kwargs)
        if inv is None:
            return fn(*args, **kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            # Records are written, then the very same exception continues (bare raise keeps
            # its traceback, __cause__ and __context__ as the handler left them).
            tracer.finish(inv, exc)
            raise
        tracer.finish(inv, None)
        return result

    setattr(handler, SETTINGS_ATTR, settings)
    return handler
