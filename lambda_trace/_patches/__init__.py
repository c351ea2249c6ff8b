"""Downstream auto-instrumentation, installed lazily by module name; the only user of wrapt.

``instrument()`` registers post-import hooks for the targets by *string*: nothing here imports
botocore, urllib3, a database driver or wrapt until the user's code imports a target.
Idempotent. ``lambda_trace._decorator`` registers the database hooks as soon as ``trace`` is
imported (not only at decoration): drivers with C connection types (psycopg2, sqlite3) can only
be traced for connections opened after their patch, and module-level code connects before the
handler below it is decorated.
"""

from __future__ import annotations

from lambda_trace._patches import _hooks, _wrap

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from types import ModuleType
    from typing import Callable

#: module name -> "module:function" of the hook that patches it, by switch
_TARGETS = {
    "aws": (("botocore.client", "aws_sdk", "patch"),),
    "http": (
        ("urllib3.connectionpool", "http_clients", "patch_urllib3"),
        ("http.client", "http_clients", "patch_http_client"),
        ("httpx", "httpx_client", "patch"),
        ("aiohttp.client", "aiohttp_client", "patch"),
    ),
    "db": (
        ("psycopg2", "pg_psycopg2", "patch_psycopg2"),
        ("psycopg", "pg_psycopg", "patch_psycopg"),
        ("pg8000.core", "pg_pg8000", "patch_pg8000"),
        ("pymysql.connections", "mysql", "patch_connections"),
        ("pymysql.cursors", "mysql", "patch_cursors"),
        ("sqlite3", "sqlite", "patch"),
        ("redis.client", "redis_client", "patch_client"),
        ("redis.connection", "redis_client", "patch_connection"),
        ("redis.asyncio.client", "redis_client", "patch_async_client"),
        ("redis.asyncio.connection", "redis_client", "patch_async_connection"),
    ),
}

_registered: set[str] = set()


def instrument(aws: bool = True, http: bool = True, db: bool = True) -> None:
    """Patch botocore (``aws``), HTTP clients (``http``) and database/cache drivers (``db``)
    as soon as they are imported."""
    for switch, on in (("aws", aws), ("http", http), ("db", db)):
        if not on or switch in _registered:
            continue
        _registered.add(switch)
        for module_name, patch_module, function in _TARGETS[switch]:
            _hooks.when_imported(module_name, _hook(patch_module, function))


def _hook(patch_module: str, function: str) -> Callable[[ModuleType], None]:
    def run(module: ModuleType) -> None:
        import importlib

        getattr(importlib.import_module(f"lambda_trace._patches.{patch_module}"), function)(module)

    return run


def uninstrument() -> None:
    """Remove every wrapper (tests). Hooks still pending stay registered and re-patch on import."""
    _wrap.unwrap_all()
    _registered.clear()
