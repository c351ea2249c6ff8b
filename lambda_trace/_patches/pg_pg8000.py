"""pg8000, as ``postgresql`` db calls, timed at its core connection.

Its DB-API, legacy and native interfaces all execute through ``CoreConnection``, so each
statement counts once; ``CoreConnection.__init__`` is the ``CONNECT`` call.
"""

from __future__ import annotations

import contextlib
from types import ModuleType

from lambda_trace._patches import _db, _wrap, db_sql
from lambda_trace._patches.postgres import SYSTEM

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Callable


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
