"""Error class and code of a database or cache driver's exception, never its message.

The code is a SQLSTATE (PostgreSQL, PEP 249 drivers expose it as ``pgcode``/``sqlstate``), a
MySQL error number, a SQLite result code name, or else the exception's class name. Messages
are never recorded: drivers echo values in them (``Key (email)=(...) already exists``).

SQLSTATE classes: https://www.postgresql.org/docs/current/errcodes-appendix.html
MySQL/MariaDB numbers: https://mariadb.com/kb/en/mariadb-error-code-reference/
"""

from __future__ import annotations

from lambda_trace import _errors

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Optional

#: SQLSTATE (full code first, then its two-character class) -> error class
_SQLSTATE = {
    "57014": "timeout",  # query_canceled: statement_timeout
    "55P03": "timeout",  # lock_not_available: lock_timeout
    "25P03": "timeout",  # idle_in_transaction_session_timeout
    "42501": "permission_denied",  # insufficient_privilege
    "42P01": "not_found",  # undefined_table
    "42703": "not_found",  # undefined_column
    "42883": "not_found",  # undefined_function
    "3D000": "not_found",  # invalid_catalog_name (no such database)
    "53300": "throttled",  # too_many_connections
    "08": "network",
    "28": "permission_denied",
    "40": "conflict",  # serialization failure, deadlock
    "23": "conflict",  # integrity constraint violation
    "22": "validation",  # data exception
    "42": "validation",  # syntax error or access rule violation
    "53": "throttled",  # insufficient resources
    "57": "server",
    "58": "server",
    "XX": "server",
}

_MYSQL = {
    **dict.fromkeys((2002, 2003, 2005, 2006, 2013, 2055), "network"),
    **dict.fromkeys((1044, 1045, 1142, 1143, 1227, 1370, 1698), "permission_denied"),
    **dict.fromkeys((3024, 1969, 1205, 1907), "timeout"),  # max_execution_time, lock wait
    **dict.fromkeys((1213, 1062, 1451, 1452, 1216, 1217, 1022), "conflict"),
    **dict.fromkeys((1146, 1049, 1054, 1305), "not_found"),
    **dict.fromkeys((1064, 1149, 1366, 1406, 1265, 1292), "validation"),
    **dict.fromkeys((1040, 1203, 1226), "throttled"),
}

#: class names (anywhere in the MRO) -> error class, before the generic network/timeout names
_CLASSES = {
    "AuthenticationError": "permission_denied",
    "AuthenticationWrongNumberOfArgsError": "permission_denied",
    "NoPermissionError": "permission_denied",
    "InvalidPassword": "permission_denied",
    "InvalidAuthorizationSpecification": "permission_denied",
    "WatchError": "conflict",
    "IntegrityError": "conflict",
    "DataError": "validation",
    "ProgrammingError": "validation",
    "InterfaceError": "network",
    "InternalError": "server",
    "NotSupportedError": "client",
    "BusyLoadingError": "server",
    "ReadOnlyError": "server",
    "ResponseError": "client",
    "QueryCanceled": "timeout",
}

_SQLITE = {
    "SQLITE_BUSY": "conflict",
    "SQLITE_LOCKED": "conflict",
    "SQLITE_CONSTRAINT": "conflict",
    "SQLITE_AUTH": "permission_denied",
    "SQLITE_PERM": "permission_denied",
    "SQLITE_READONLY": "permission_denied",
    "SQLITE_CANTOPEN": "not_found",
    "SQLITE_FULL": "server",
    "SQLITE_IOERR": "server",
    "SQLITE_CORRUPT": "server",
}


def describe(exc: BaseException, connecting: bool = False) -> tuple[str, str]:
    """``(error_class, error_code)`` for a driver exception."""
    errno = _mysql_errno(exc)  # first: PyMySQL errors carry a generic sqlstate too
    if errno is not None:
        return _MYSQL.get(errno) or ("network" if 2000 <= errno < 2100 else "client"), str(errno)
    code = _sqlstate(exc)
    if code:
        return _SQLSTATE.get(code) or _SQLSTATE.get(code[:2]) or "client", code
    sqlite_name = getattr(exc, "sqlite_errorname", None)
    if isinstance(sqlite_name, str) and sqlite_name.startswith("SQLITE_"):
        base = sqlite_name.split("_", 2)
        return _SQLITE.get("_".join(base[:2]), "client"), sqlite_name[:64]
    name = type(exc).__name__[:128]
    for cls in type(exc).__mro__:
        found = _CLASSES.get(cls.__name__)
        if found is not None:
            return found, name
    generic = _errors.classify_exception(exc)
    if generic is not None:
        return generic, name
    # OperationalError and friends: at connect it is the network (refused, DNS, auth are
    # told apart above when the driver says so); later, the server.
    if _auth_failure(exc):
        return "permission_denied", name
    return ("network" if connecting else "server"), name


def _sqlstate(exc: BaseException) -> Optional[str]:
    for attr in ("pgcode", "sqlstate"):  # psycopg2, psycopg 3
        value = getattr(exc, attr, None)
        if isinstance(value, str) and len(value) == 5:
            return value
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], dict):  # pg8000: the server's error fields, C = code
        value = args[0].get("C")
        if isinstance(value, str) and len(value) == 5:
            return value
    return None


def _mysql_errno(exc: BaseException) -> Optional[int]:
    module = type(exc).__module__ or ""
    if not (module.startswith("pymysql") or module.startswith("MySQLdb")):
        return None
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):
        return args[0]
    return None


def _auth_failure(exc: BaseException) -> bool:
    # libpq reports a failed login only in its text; it is read here, never recorded.
    try:
        text = str(exc).lower()
    except Exception:
        return False
    return "authentication failed" in text or "access denied" in text
