"""PostgreSQL: psycopg2, psycopg (3, sync and async) and pg8000, as ``postgresql`` db calls.

psycopg2's connection and cursor are C types whose methods cannot be wrapped, so
``psycopg2.connect`` is (timed as ``CONNECT``) and given a ``connection_factory`` subclass
whose cursors are subclasses of the requested cursor class with timed ``execute``: a
connection made before the patch is not traced (import ``lambda_trace`` first, see
docs/runtime.md). psycopg 3 and pg8000 are Python classes, wrapped in place; pg8000 is timed at
its core connection, so its DB-API, legacy and native interfaces all count once.
"""

from __future__ import annotations

import contextlib
import weakref
from types import ModuleType
from typing import Any, Callable

from lambda_trace._patches import _db, _wrap, db_sql

SYSTEM = "postgresql"


# -- psycopg2 -------------------------------------------------------------------------------

#: base class -> its traced subclass (cursor and connection factories the user chose)
_subclasses: dict[type, type] = {}


def patch_psycopg2(module: ModuleType) -> None:
    """Hook for ``psycopg2``."""
    _wrap.wrap(module, "connect", _psycopg2_connect)


def _psycopg2_connect(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    try:
        kwargs = dict(kwargs)
        kwargs["connection_factory"] = _traced_connection_class(kwargs.get("connection_factory"))
        host = kwargs.get("host") or _dsn_host(args[0] if args else kwargs.get("dsn"))
        name, fields = _db.name_and_fields(SYSTEM, _db.CONNECT, "", host)
    except Exception:
        return wrapped(*args, **kwargs)
    return _db.run(name, fields, wrapped, args, kwargs, connecting=True)


def _traced_connection_class(base: Any) -> type:
    import psycopg2.extensions as ext

    base = base or ext.connection
    traced = _subclasses.get(base)
    if traced is None:
        traced = _subclasses[base] = type(
            f"Traced{base.__name__}",
            (base,),
            {
                "cursor": _connection_cursor,
                "commit": _timed_method("COMMIT"),
                "rollback": _timed_method("ROLLBACK"),
                "__module__": __name__,
            },
        )
    return traced


def _connection_cursor(self: Any, *args: Any, **kwargs: Any) -> Any:
    import psycopg2.extensions as ext

    parent: Any = super(type(self), self)
    base: Any = type(self).__mro__[1]
    if base.cursor is not ext.connection.cursor:
        # The user's connection class picks its own cursor class (LoggingConnection,
        # DictConnection...): let it, then make that (Python) class a traced one.
        cursor = parent.cursor(*args, **kwargs)
        with contextlib.suppress(TypeError):
            cursor.__class__ = _traced_cursor_class(type(cursor))
        return cursor
    if len(args) >= 2:  # cursor(name, cursor_factory, ...)
        factory = args[1] or self.cursor_factory or ext.cursor
        args = (args[0], _traced_cursor_class(factory), *args[2:])
    else:
        factory = kwargs.get("cursor_factory") or self.cursor_factory or ext.cursor
        kwargs["cursor_factory"] = _traced_cursor_class(factory)
    return parent.cursor(*args, **kwargs)


def _traced_cursor_class(base: type) -> type:
    traced = _subclasses.get(base)
    if traced is None:
        if getattr(base, "_lambda_trace", False):
            return base
        traced = _subclasses[base] = type(
            f"Traced{base.__name__}",
            (base,),
            {
                "execute": _cursor_method("execute"),
                "executemany": _cursor_method("executemany"),
                "callproc": _callproc,
                "_lambda_trace": True,
                "__module__": __name__,
            },
        )
    return traced


def _psycopg2_host(conn: Any) -> str:
    try:
        return conn.info.host
    except Exception:
        return ""


def _cursor_method(method: str) -> Callable[..., Any]:
    def timed(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        original = getattr(super(type(self), self), method)
        if _db.active() is None:
            return original(query, *args, **kwargs)
        operation, target = db_sql.describe(query)
        name, fields = _db.name_and_fields(
            SYSTEM, operation, target, _psycopg2_host(self.connection)
        )
        return _db.run(name, fields, original, (query, *args), kwargs)

    timed.__name__ = method
    return timed


def _callproc(self: Any, procname: Any, *args: Any, **kwargs: Any) -> Any:
    original = super(type(self), self).callproc
    if _db.active() is None:
        return original(procname, *args, **kwargs)
    name, fields = _db.name_and_fields(SYSTEM, "CALL", "", _psycopg2_host(self.connection))
    return _db.run(name, fields, original, (procname, *args), kwargs)


def _timed_method(operation: str) -> Callable[..., Any]:
    method = operation.lower()

    def timed(self: Any) -> Any:
        original = getattr(super(type(self), self), method)
        if _db.active() is None:
            return original()
        name, fields = _db.name_and_fields(SYSTEM, operation, "", _psycopg2_host(self))
        return _db.run(name, fields, original, (), {})

    timed.__name__ = method
    return timed


def _dsn_host(dsn: Any) -> str:
    """The host of a libpq connection string (``host=h ...`` or a ``postgresql://`` URL)."""
    if not isinstance(dsn, str):
        return ""
    if "://" in dsn:
        from urllib.parse import urlsplit

        try:
            return urlsplit(dsn).hostname or ""
        except ValueError:
            return ""
    for part in dsn.split():
        key, _, value = part.partition("=")
        if key.strip() == "host":
            return value.strip("'\"")
    return ""


# -- psycopg 3 --------------------------------------------------------------------------------


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
    return host


def _connect_name(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, str]:
    host = kwargs.get("host") or _dsn_host(args[0] if args else kwargs.get("conninfo"))
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


# -- pg8000 -----------------------------------------------------------------------------------


def patch_pg8000(module: ModuleType) -> None:
    """Hook for ``pg8000.core``: every statement of every pg8000 interface goes through here."""
    _wrap.wrap(module.CoreConnection, "__init__", _pg8000_connect)
    _wrap.wrap(module.CoreConnection, "execute_unnamed", _pg8000_execute)
    _wrap.wrap(module.CoreConnection, "execute_simple", _pg8000_execute)
    _wrap.wrap(module.CoreConnection, "execute_named", _pg8000_execute_named)


def _pg8000_connect(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    host = args[1] if len(args) > 1 else kwargs.get("host", "localhost")
    if kwargs.get("unix_sock") is not None or (len(args) > 6 and args[6] is not None):
        host = "localhost"
    with contextlib.suppress(Exception):  # remembered for its statements, even at init
        instance._lambda_trace_host = _db.clean_host(host)
    if _db.active() is None:
        return wrapped(*args, **kwargs)
    name, fields = _db.name_and_fields(SYSTEM, _db.CONNECT, "", host)
    return _db.run(name, fields, wrapped, args, kwargs, connecting=True)


def _pg8000_host(conn: Any) -> str:
    host = getattr(conn, "_lambda_trace_host", "")
    return host if isinstance(host, str) else ""


def _pg8000_execute(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    if _db.active() is None:
        return wrapped(*args, **kwargs)
    statement = args[0] if args else kwargs.get("statement")
    operation, target = db_sql.describe(statement)
    name, fields = _db.name_and_fields(SYSTEM, operation, target, _pg8000_host(instance))
    return _db.run(name, fields, wrapped, args, kwargs)


def _pg8000_execute_named(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    # execute_named(statement_name, params, columns, input_funcs, statement): the SQL is last
    if _db.active() is None:
        return wrapped(*args, **kwargs)
    statement = args[4] if len(args) > 4 else kwargs.get("statement")
    operation, target = db_sql.describe(statement)
    name, fields = _db.name_and_fields(SYSTEM, operation, target, _pg8000_host(instance))
    return _db.run(name, fields, wrapped, args, kwargs)
