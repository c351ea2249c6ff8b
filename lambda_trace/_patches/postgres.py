"""PostgreSQL drivers, shared: the system name and the host of a connection string.

The drivers' patches: ``pg_psycopg2`` (psycopg2), ``pg_psycopg`` (psycopg 3, sync and async),
``pg_pg8000`` (pg8000, every interface).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any

SYSTEM = "postgresql"


def dsn_host(dsn: Any) -> str:
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
