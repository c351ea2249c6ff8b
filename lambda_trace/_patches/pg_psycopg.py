"""psycopg (3), sync and async, as ``postgresql`` db calls: its Python classes, wrapped in place.

``Connection.connect`` (and ``psycopg.connect``) is the ``CONNECT`` call; ``Cursor.execute``
and ``executemany`` are timed (``Connection.execute`` goes through them); ``commit`` and
``rollback`` too. Connections made before the patch are traced as well.
"""

from __future__ import annotations

import contextlib
import weakref
from types import ModuleType

from lambda_trace._patches import _db, _wrap, db_sql
from lambda_trace._patches.postgres import SYSTEM, dsn_host

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Callable


def patch_psycopg(module: ModuleType) -> None:
    """Hook for ``psycopg``: sync and async connections and cursors, in place."""
    _wrap.wrap(module.Connection, "connect", _psycopg_connect)
    if "connect" in module.__dict__:  # `psycopg.connect`: the classmethod bound at import
        _wrap.wrap(module, "connect", _psycopg_connect)
    _wrap.wrap(module.AsyncConnection, "connect", _psycopg_connect_async)
    for cls in (module.Cursor,):
        for method in ("execute", "executemany"):
            _wrap.wrap(cls, method, _psycopg_execute)
    for cls in (module.AsyncCursor,):
        for method in ("execute", "executemany"):
            _wrap.wrap(cls, method, _psycopg_execute_async)
    for method in ("commit", "rollback"):
        _wrap.wrap(module.Connection, method, _psycopg_end_tx)
        _wrap.wrap(module.AsyncConnection, method, _psycopg_end_tx_async)


#: connection -> its host; ``conn.info.host`` builds an object and asks libpq at every call
_psycopg_hosts: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _psycopg_host(conn: Any) -> str:
    try:
        return _psycopg_hosts[conn]
    except (KeyError, TypeError):
        pass
    try:
        host = conn.info.host
    except Exception:
        return ""
    with contextlib.suppress(TypeError):
        _psycopg_hosts[conn] = host
    return str(host)


def _connect_name(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, str]:
    host = kwargs.get("host") or dsn_host(args[0] if args else kwargs.get("conninfo"))
    return _db.name_and_fields(SYSTEM, _db.CONNECT, "", host)


def _psycopg_connect(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    if _db.active() is None:
        return wrapped(*args, **kwargs)
    name, fields = _connect_name(args, kwargs)
    return _db.run(name, fields, wrapped, args, kwargs, connecting=True)


def _psycopg_connect_async(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    inv = _db.active()
    if inv is None:
        return wrapped(*args, **kwargs)
    name, fields = _connect_name(args, kwargs)
    return _db.run_async(inv, name, fields, wrapped, args, kwargs, connecting=True)


def _statement_name(
    instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[str, str]:
    query = args[0] if args else kwargs.get("query")
    operation, target = db_sql.describe(query)
    return _db.name_and_fields(SYSTEM, operation, target, _psycopg_host(instance.connection))


def _psycopg_execute(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    if _db.active() is None:
        return wrapped(*args, **kwargs)
    name, fields = _statement_name(instance, args, kwargs)
    return _db.run(name, fields, wrapped, args, kwargs)


def _psycopg_execute_async(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    inv = _db.active()
    if inv is None:
        return wrapped(*args, **kwargs)
    name, fields = _statement_name(instance, args, kwargs)
    return _db.run_async(inv, name, fields, wrapped, args, kwargs)


def _psycopg_end_tx(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    if _db.active() is None:
        return wrapped(*args, **kwargs)
    operation = wrapped.__name__.upper()
    name, fields = _db.name_and_fields(SYSTEM, operation, "", _psycopg_host(instance))
    return _db.run(name, fields, wrapped, args, kwargs)


def _psycopg_end_tx_async(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    inv = _db.active()
    if inv is None:
        return wrapped(*args, **kwargs)
    operation = wrapped.__name__.upper()
    name, fields = _db.name_and_fields(SYSTEM, operation, "", _psycopg_host(instance))
    return _db.run_async(inv, name, fields, wrapped, args, kwargs)
