"""``segment(name)``: time a block of the user's own code, as a context manager or a decorator."""

from __future__ import annotations

import functools
from contextvars import ContextVar, Token

from lambda_trace import _invocation, _safety
from lambda_trace._contract import field
from lambda_trace._encode import jstr

# Call line fragments, from the declared record keys (``_contract``).
_PARENT, _ERROR_CLASS, _ERROR_CODE = (
    field("call", k) for k in ("parent", "error_class", "error_code"))
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from types import TracebackType
    from typing import Any, Callable, Literal, Optional, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])

#: The innermost open segment of this thread / asyncio task: the ``parent`` of the next one.
_open_segment: ContextVar[Optional[str]] = ContextVar("lambda_trace_segment", default=None)

MAX_NAME_CHARS = 200


class segment:
    """Time a block as a ``call`` record of kind ``segment``; a no-op outside an invocation.

    Nested segments name their enclosing segment (same thread or asyncio task) in ``parent``.
    An exception leaving the block marks the segment as an error and propagates unchanged.
    """

    __slots__ = ("_state", "name")

    def __init__(self, name: str) -> None:
        self.name = str(name)[:MAX_NAME_CHARS]
        self._state: Optional[tuple[Any, ...]] = None

    def __enter__(self) -> segment:
        inv = _invocation.current
        if inv is None:
            return self
        try:
            parent = _open_segment.get()
            ctx_token = _open_segment.set(self.name)
            token, t0 = inv.begin(self.name, "segment")
            self._state = (inv, token, t0, parent, ctx_token)
        except Exception as exc:
            _safety.report("segment", exc)
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Literal[False]:
        state, self._state = self._state, None
        if state is None:
            return False
        inv, token, t0, parent, ctx_token = state
        try:
            _reset(ctx_token)
            fields = f"{_PARENT}{jstr(parent)}" if parent is not None else ""
            if exc is not None:
                from lambda_trace import _errors  # `re`: only when a segment fails

                error_class = _errors.classify_exception(exc)
                if error_class is not None:
                    fields += f'{_ERROR_CLASS}"{error_class}"'
                fields += f"{_ERROR_CODE}{jstr(type(exc).__name__)}"
            inv.end(token, self.name, "segment", t0, exc is not None, fields)
        except Exception as err:
            _safety.report("segment", err)
        return False

    def __call__(self, fn: F) -> F:
        """Use as a decorator: every call of ``fn`` is one segment (async functions too)."""
        name = self.name
        from lambda_trace._decorator import is_async

        if is_async(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with segment(name):
                    return await fn(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with segment(name):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _reset(ctx_token: Token[Optional[str]]) -> None:
    # contextlib.suppress would cost ~1 µs per segment here.
    try:  # noqa: SIM105
        _open_segment.reset(ctx_token)
    except ValueError:
        # Exited in another context than it was entered (a generator moved between tasks):
        # there is nothing to restore there.
        pass
