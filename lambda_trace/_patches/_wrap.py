"""Install and remove function wrappers on class or module attributes, remembering the originals.

A wrapper is ``wrapper(wrapped, instance, args, kwargs)`` (wrapt's convention). A plain Python
function (``def``, not ``async def``) is replaced by a plain function that calls the wrapper: no
wrapt import (≈1.8 ms of cold start in a boto3 handler, where botocore, urllib3 and http.client
are all patched at the first ``@trace``) and a cheaper call. Anything else (a classmethod, a C
function such as ``sqlite3.connect``, a coroutine function whose kind callers may inspect) gets
a ``wrapt.FunctionWrapper``, which proxies every attribute of what it wraps.
"""

from __future__ import annotations

import functools
from types import FunctionType, MethodType

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Callable

    Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]

#: (owner, attribute) -> the attribute before we wrapped it
_originals: dict[tuple[Any, str], Any] = {}

#: ``co_flags`` of a coroutine or async generator function (``inspect.CO_COROUTINE`` etc.)
_ASYNC_FLAGS = 0x80 | 0x100 | 0x200


def wrap(owner: Any, attribute: str, wrapper: Wrapper) -> None:
    """Wrap ``owner.attribute`` with ``wrapper(wrapped, instance, args, kwargs)`` once."""
    key = (owner, attribute)
    if key in _originals:
        return
    original = owner.__dict__[attribute]
    _originals[key] = original
    if type(original) is FunctionType and not original.__code__.co_flags & _ASYNC_FLAGS:
        replacement = (_method(original, wrapper) if isinstance(owner, type)
                       else _function(original, wrapper))
    else:
        import wrapt  # first use: a patch target has just been imported

        replacement = wrapt.FunctionWrapper(original, wrapper)
    setattr(owner, attribute, replacement)


def _method(original: Callable[..., Any], wrapper: Wrapper) -> Callable[..., Any]:
    """A method calling ``wrapper(original bound to self, self, args, kwargs)``."""

    @functools.wraps(original)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return wrapper(MethodType(original, self), self, args, kwargs)

    return method


def _function(original: Callable[..., Any], wrapper: Wrapper) -> Callable[..., Any]:
    """A module-level function calling ``wrapper(original, None, args, kwargs)``."""

    @functools.wraps(original)
    def function(*args: Any, **kwargs: Any) -> Any:
        return wrapper(original, None, args, kwargs)

    return function


def unwrap_all() -> None:
    """Restore every wrapped attribute (for tests; hooks stay registered but find nothing to do)."""
    for (owner, attribute), original in list(_originals.items()):
        setattr(owner, attribute, original)
    _originals.clear()


def is_wrapped(owner: Any, attribute: str) -> bool:
    return (owner, attribute) in _originals
