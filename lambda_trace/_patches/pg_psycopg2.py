"""psycopg2, as ``postgresql`` db calls.

psycopg2's connection and cursor are C types whose methods cannot be wrapped, so
``psycopg2.connect`` is (timed as ``CONNECT``) and given a ``connection_factory`` subclass
whose cursors are subclasses of the requested cursor class with timed ``execute``: a
connection made before the patch is not traced (import ``lambda_trace`` first, see
docs/runtime.md).
"""

from __future__ import annotations

import contextlib
from types import ModuleType

from lambda_trace._patches import _db, _wrap, db_sql
from lambda_trace._patches.postgres import SYSTEM, dsn_host

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Callable

#: base class -> its traced subclass (cursor and connection factories the user chose)
_subclasses: dict[type, type] = {}


def patch_psycopg2(module: ModuleType) -> None:
    """Hook for ``psycopg2``."""
    _wrap.wrap(module, "connect", _psycopg2_connect)


def _psycopg2_connect(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    original_args, original_kwargs = args, kwargs
    try:
        if len(args) > 1:  # connect(dsn, connection_factory, ...)
            args = (args[0], _traced_connection_class(args[1]), *args[2:])
        else:
            kwargs = dict(kwargs)
            factory = kwargs.get("connection_factory")
            kwargs["connection_factory"] = _traced_connection_class(factory)
        host = kwargs.get("host") or dsn_host(args[0] if args else kwargs.get("dsn"))
        name, fields = _db.name_and_fields(SYSTEM, _db.CONNECT, "", host)
    except Exception:
        return wrapped(*original_args, **original_kwargs)
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
    # kept on our connection subclass: `conn.info` builds an object and asks libpq each time
    attributes = getattr(conn, "__dict__", None)
    host = attributes.get("_lambda_trace_host") if attributes is not None else None
    if host is None:
        try:
            host = str(conn.info.host)
        except Exception:
            return ""
        if attributes is not None:
            attributes["_lambda_trace_host"] = host
    return host


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
