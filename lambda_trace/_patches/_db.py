"""Timing of one database or cache call: the ``kind: "db"`` record every driver patch writes.

Name ``"{system} {operation}"`` plus ``" {target}"`` (``postgresql SELECT orders``); fields
``system``, ``operation``, ``target``, ``host`` and, on failure, ``error_class``/``error_code``.
A driver call made inside another instrumented call of the same thread (``Connection.execute``
opening a cursor and calling its ``execute``) is not counted again (``_suppress``); async calls
do not use that per-thread mark (tasks interleave on one thread) and are never nested.
"""

from __future__ import annotations

from lambda_trace import _invocation, _safety
from lambda_trace._contract import field
from lambda_trace._encode import jstr
from lambda_trace._patches._suppress import get_ident as _get_ident
from lambda_trace._patches._suppress import inside as _inside
from lambda_trace._patches._url import strip_userinfo

# Call line fragments, from the declared record keys (``_contract``).
_SYSTEM, _OPERATION, _TARGET, _HOST, _ERROR_CLASS, _ERROR_CODE = (
    field("call", k) for k in ("system", "operation", "target", "host", "error_class",
                               "error_code"))

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Callable, Optional

MAX_NAME_CHARS = 200
MAX_HOST_CHARS = 128
MAX_CACHED_NAMES = 512
CONNECT = "CONNECT"

#: (system, operation, target, host) -> (call name, pre-encoded fields)
_names: dict[tuple[str, str, str, str], tuple[str, str]] = {}


def name_and_fields(system: str, operation: str, target: str, host: Any) -> tuple[str, str]:
    """The call name and its constant fields, cached (a few statements repeat all the time)."""
    host_text = clean_host(host)
    key = (system, operation, target, host_text)
    found = _names.get(key)
    if found is None:
        if len(_names) >= MAX_CACHED_NAMES:
            _names.clear()
        name = f"{system} {operation} {target}" if target else f"{system} {operation}"
        fields = f'{_SYSTEM}"{system}"{_OPERATION}{jstr(operation)}'
        if target:
            fields += f"{_TARGET}{jstr(target)}"
        if host_text:
            fields += f"{_HOST}{jstr(host_text)}"
        found = _names[key] = (name[:MAX_NAME_CHARS], fields)
    return found


def clean_host(host: Any) -> str:
    """A host name fit to record: no userinfo, no socket path (a file name is not a host)."""
    if not isinstance(host, str) or not host:
        return ""
    host = strip_userinfo(host)
    if host.startswith("/"):
        return "localhost"  # a Unix socket directory
    return str(host).split(",")[0][:MAX_HOST_CHARS]  # libpq's multi-host lists: the first


def active() -> Optional[Any]:
    """The running invocation when database calls are traced for it, else None."""
    inv = _invocation.current
    if inv is None or not getattr(inv.settings, "db", True):
        return None
    return inv


def run(
    name: str,
    fields: str,
    wrapped: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    connecting: bool = False,
) -> Any:
    """Call ``wrapped`` timed as one db call (straight through outside an invocation)."""
    inv = active()
    if inv is None:
        return wrapped(*args, **kwargs)
    ident = _get_ident()
    outer = ident not in _inside
    # A connection opened inside a command (redis connects lazily) is its own call.
    if not outer and not connecting:
        return wrapped(*args, **kwargs)
    try:
        token, t0 = inv.begin(name, "db")
    except Exception as exc:
        _safety.report("db wrapper", exc)
        return wrapped(*args, **kwargs)
    if outer:
        _inside.add(ident)
    try:
        result = wrapped(*args, **kwargs)
    except BaseException as exc:
        if outer:
            _inside.discard(ident)
        end(inv, token, name, t0, fields, exc, connecting)
        raise
    if outer:
        _inside.discard(ident)
    end(inv, token, name, t0, fields, None, connecting)
    return result


async def run_async(
    inv: Any,
    name: str,
    fields: str,
    wrapped: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    connecting: bool = False,
) -> Any:
    """``run`` for a coroutine function: timed from the first await to its result."""
    try:
        token, t0 = inv.begin(name, "db")
    except Exception as exc:
        _safety.report("db wrapper", exc)
        return await wrapped(*args, **kwargs)
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as exc:
        end(inv, token, name, t0, fields, exc, connecting)
        raise
    end(inv, token, name, t0, fields, None, connecting)
    return result


def end(
    inv: Any,
    token: int,
    name: str,
    t0: int,
    fields: str,
    exc: Optional[BaseException],
    connecting: bool = False,
) -> None:
    """Finish a db call; never raises into the driver's caller."""
    try:
        if exc is not None:
            try:
                from lambda_trace._patches import db_errors  # `re`: only once a call fails

                error_class, code = db_errors.describe(exc, connecting)
                fields += f'{_ERROR_CLASS}"{error_class}"{_ERROR_CODE}{jstr(code)}'
            except Exception as err:
                _safety.report("db wrapper", err)
        inv.end(token, name, "db", t0, exc is not None, fields)
    except Exception as err:
        _safety.report("db wrapper", err)
