"""sqlite3, as ``sqlite`` db calls (no host: the database is a local file).

``sqlite3.Connection`` and ``Cursor`` are C types: ``sqlite3.connect`` is wrapped (timed as
``CONNECT``) and given a ``factory`` subclass whose ``execute*`` methods and cursors are timed.
A connection opened before the patch is not traced (import ``lambda_trace`` first). The
database file name is never recorded.
"""

from __future__ import annotations

from types import ModuleType

from lambda_trace._patches import _db, _wrap, db_sql

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Callable

SYSTEM = "sqlite"

#: user's factory class -> its traced subclass
_subclasses: dict[type, type] = {}


def patch(module: ModuleType) -> None:
    """Hook for ``sqlite3``."""
    _wrap.wrap(module, "connect", _connect)
    dbapi2 = getattr(module, "dbapi2", None)
    if dbapi2 is not None and dbapi2.__dict__.get("connect") is not module.connect:
        _wrap.wrap(dbapi2, "connect", _connect)


def _connect(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    try:
        import sqlite3

        kwargs = dict(kwargs)
        if len(args) > 5:  # connect(database, timeout, detect_types, isolation_level,
            # check_same_thread, factory, ...)
            factory = _traced_class(args[5] or sqlite3.Connection, _connection_members)
            args = (*args[:5], factory, *args[6:])
        else:
            base = kwargs.get("factory") or sqlite3.Connection
            kwargs["factory"] = _traced_class(base, _connection_members)
    except Exception:
        return wrapped(*args, **kwargs)
    name, fields = _db.name_and_fields(SYSTEM, _db.CONNECT, "", "")
    return _db.run(name, fields, wrapped, args, kwargs, connecting=True)


def _traced_class(base: type, members: Callable[[], dict[str, Any]]) -> type:
    if getattr(base, "_lambda_trace", False):
        return base
    traced = _subclasses.get(base)
    if traced is None:
        body = {**members(), "_lambda_trace": True, "__module__": __name__}
        traced = _subclasses[base] = type(f"Traced{base.__name__}", (base,), body)
    return traced


def _connection_members() -> dict[str, Any]:
    return {
        "cursor": _cursor,
        "execute": _statement("execute"),
        "executemany": _statement("executemany"),
        "executescript": _statement("executescript"),
        "commit": _transaction("commit"),
        "rollback": _transaction("rollback"),
    }


def _cursor_members() -> dict[str, Any]:
    return {
        "execute": _statement("execute"),
        "executemany": _statement("executemany"),
        "executescript": _statement("executescript"),
    }


def _cursor(self: Any, *args: Any, **kwargs: Any) -> Any:
    import sqlite3

    if args:
        args = (_traced_class(args[0] or sqlite3.Cursor, _cursor_members), *args[1:])
    else:
        base = kwargs.get("factory") or sqlite3.Cursor
        kwargs["factory"] = _traced_class(base, _cursor_members)
    return super(type(self), self).cursor(*args, **kwargs)


def _statement(method: str) -> Callable[..., Any]:
    def timed(self: Any, sql: Any, *args: Any, **kwargs: Any) -> Any:
        original = getattr(super(type(self), self), method)
        if _db.active() is None:
            return original(sql, *args, **kwargs)
        operation, target = ("OTHER", "") if method == "executescript" else db_sql.describe(sql)
        name, fields = _db.name_and_fields(SYSTEM, operation, target, "")
        return _db.run(name, fields, original, (sql, *args), kwargs)

    timed.__name__ = method
    return timed


def _transaction(method: str) -> Callable[..., Any]:
    operation = method.upper()

    def timed(self: Any) -> Any:
        original = getattr(super(type(self), self), method)
        if _db.active() is None:
            return original()
        name, fields = _db.name_and_fields(SYSTEM, operation, "", "")
        return _db.run(name, fields, original, (), {})

    timed.__name__ = method
    return timed
