"""MySQL and MariaDB through PyMySQL, as ``mysql`` db calls.

PyMySQL is pure Python: ``Cursor.execute`` is wrapped in place (every cursor class inherits it),
before PyMySQL interpolates the arguments, so only the statement's verb and first table are
read; ``executemany`` is one call (its inner ``execute`` calls are not counted again).
``Connection.connect`` is the ``CONNECT`` call, wherever it runs: also for a connection made
at init, whose later statements are traced like any other.
"""

from __future__ import annotations

from types import ModuleType

from lambda_trace._patches import _db, _wrap, db_sql

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Callable

SYSTEM = "mysql"


def patch_connections(module: ModuleType) -> None:
    """Hook for ``pymysql.connections``."""
    cls = module.Connection
    _wrap.wrap(cls, "connect", _connect)
    for method in ("begin", "commit", "rollback"):
        _wrap.wrap(cls, method, _transaction)


def patch_cursors(module: ModuleType) -> None:
    """Hook for ``pymysql.cursors``."""
    _wrap.wrap(module.Cursor, "execute", _execute)
    _wrap.wrap(module.Cursor, "executemany", _execute)
    _wrap.wrap(module.Cursor, "callproc", _callproc)


def _host(conn: Any) -> Any:
    return "localhost" if getattr(conn, "unix_socket", None) else getattr(conn, "host", "")


def _connect(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    if _db.active() is None:
        return wrapped(*args, **kwargs)
    name, fields = _db.name_and_fields(SYSTEM, _db.CONNECT, "", _host(instance))
    return _db.run(name, fields, wrapped, args, kwargs, connecting=True)


def _transaction(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    if _db.active() is None:
        return wrapped(*args, **kwargs)
    operation = "BEGIN" if wrapped.__name__ == "begin" else wrapped.__name__.upper()
    name, fields = _db.name_and_fields(SYSTEM, operation, "", _host(instance))
    return _db.run(name, fields, wrapped, args, kwargs)


def _execute(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    if _db.active() is None:
        return wrapped(*args, **kwargs)
    query = args[0] if args else kwargs.get("query")
    operation, target = db_sql.describe(query, double_quotes_are_strings=True)
    conn = getattr(instance, "connection", None)
    name, fields = _db.name_and_fields(SYSTEM, operation, target, _host(conn))
    return _db.run(name, fields, wrapped, args, kwargs)


def _callproc(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    if _db.active() is None:
        return wrapped(*args, **kwargs)
    conn = getattr(instance, "connection", None)
    name, fields = _db.name_and_fields(SYSTEM, "CALL", "", _host(conn))
    return _db.run(name, fields, wrapped, args, kwargs)
