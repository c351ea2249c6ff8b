"""Install and remove wrapt function wrappers on class attributes, remembering the originals."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Callable

    Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]

#: (owner, attribute) -> the attribute before we wrapped it
_originals: dict[tuple[Any, str], Any] = {}


def wrap(owner: Any, attribute: str, wrapper: Wrapper) -> None:
    """Wrap ``owner.attribute`` with ``wrapper(wrapped, instance, args, kwargs)`` once."""
    import wrapt  # first use: a patch target has just been imported

    key = (owner, attribute)
    if key in _originals:
        return
    original = owner.__dict__[attribute]
    _originals[key] = original
    setattr(owner, attribute, wrapt.FunctionWrapper(original, wrapper))


def unwrap_all() -> None:
    """Restore every wrapped attribute (for tests; hooks stay registered but find nothing to do)."""
    for (owner, attribute), original in list(_originals.items()):
        setattr(owner, attribute, original)
    _originals.clear()


def is_wrapped(owner: Any, attribute: str) -> bool:
    return (owner, attribute) in _originals
