"""redis-py, sync and ``redis.asyncio``, as ``redis`` db calls: the command name, never a key.

``operation`` is the command (``GET``, ``HGETALL``; the first word of ``CONFIG GET``), read
from the first argument only; keys, values and every other argument are never read. A pipeline
or transaction is one ``PIPELINE`` call with its ``command_count``. Opening a connection is its
own ``CONNECT`` call (redis-py connects lazily, inside the first command, whose time includes
it); an already open connection is not timed again.
"""

from __future__ import annotations

from types import ModuleType

from lambda_trace._contract import field
from lambda_trace._patches import _db, _wrap

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Callable

SYSTEM = "redis"
MAX_COMMAND_CHARS = 32
_COMMAND_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ._-")

#: raw first argument -> operation; the command set is small and fixed
_operations: dict[Any, str] = {}


def patch_client(module: ModuleType) -> None:
    """Hook for ``redis.client`` (and, with async wrappers, ``redis.asyncio.client``)."""
    _wrap.wrap(module.Redis, "execute_command", _command)
    _wrap.wrap(module.Pipeline, "execute", _pipeline)
    if "immediate_execute_command" in module.Pipeline.__dict__:  # WATCH: commands run at once
        _wrap.wrap(module.Pipeline, "immediate_execute_command", _command)


def patch_async_client(module: ModuleType) -> None:
    """Hook for ``redis.asyncio.client``."""
    _wrap.wrap(module.Redis, "execute_command", _command_async)
    _wrap.wrap(module.Pipeline, "execute", _pipeline_async)
    if "immediate_execute_command" in module.Pipeline.__dict__:
        _wrap.wrap(module.Pipeline, "immediate_execute_command", _command_async)


def patch_connection(module: ModuleType) -> None:
    """Hook for ``redis.connection``."""
    _wrap.wrap(_defining(module, "connect"), "connect", _connect)


def patch_async_connection(module: ModuleType) -> None:
    """Hook for ``redis.asyncio.connection``."""
    _wrap.wrap(_defining(module, "connect"), "connect", _connect_async)


def _defining(module: ModuleType, attribute: str) -> Any:
    for name in ("AbstractConnection", "Connection"):
        cls = getattr(module, name, None)
        if cls is not None and attribute in cls.__dict__:
            return cls
    raise AttributeError(f"no connection class defines {attribute}")


def operation(command: Any) -> str:
    """The command's name, upper-case, when it looks like one; ``OTHER`` otherwise."""
    found = _operations.get(command) if isinstance(command, (str, bytes)) else None
    if found is not None:
        return found
    text = command.decode("latin-1") if isinstance(command, bytes) else command
    word = text.split(" ", 1)[0].upper() if isinstance(text, str) else ""
    if not word or len(word) > MAX_COMMAND_CHARS or not set(word) <= _COMMAND_CHARS:
        word = "OTHER"
    if isinstance(command, (str, bytes)) and len(_operations) < 1024:
        _operations[command] = word
    return word


def _pool_host(client: Any) -> Any:
    try:
        kwargs = client.connection_pool.connection_kwargs
        return kwargs.get("host") or ("localhost" if kwargs.get("path") else "")
    except Exception:
        return ""


def _command_name(instance: Any, args: tuple[Any, ...]) -> tuple[str, str]:
    return _db.name_and_fields(SYSTEM, operation(args[0] if args else ""), "", _pool_host(instance))


def _command(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    if _db.active() is None:
        return wrapped(*args, **kwargs)
    name, fields = _command_name(instance, args)
    return _db.run(name, fields, wrapped, args, kwargs)


def _command_async(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    inv = _db.active()
    if inv is None:
        return wrapped(*args, **kwargs)
    name, fields = _command_name(instance, args)
    return _db.run_async(inv, name, fields, wrapped, args, kwargs)


#: from the declared record keys (``_contract``)
_COMMAND_COUNT = field("call", "command_count")


def _pipeline_name(instance: Any) -> tuple[str, str]:
    name, fields = _db.name_and_fields(SYSTEM, "PIPELINE", "", _pool_host(instance))
    try:
        count = len(instance.command_stack)
    except Exception:
        return name, fields
    return name, f"{fields}{_COMMAND_COUNT}{count}"


def _pipeline(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    if _db.active() is None:
        return wrapped(*args, **kwargs)
    name, fields = _pipeline_name(instance)
    return _db.run(name, fields, wrapped, args, kwargs)


def _pipeline_async(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    inv = _db.active()
    if inv is None:
        return wrapped(*args, **kwargs)
    name, fields = _pipeline_name(instance)
    return _db.run_async(inv, name, fields, wrapped, args, kwargs)


def _connection_host(connection: Any) -> Any:
    if getattr(connection, "path", None):  # a Unix socket: its path is not a host
        return "localhost"
    return getattr(connection, "host", "")


def _connect(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    if _db.active() is None or getattr(instance, "_sock", None) is not None:
        return wrapped(*args, **kwargs)
    name, fields = _db.name_and_fields(SYSTEM, _db.CONNECT, "", _connection_host(instance))
    return _db.run(name, fields, wrapped, args, kwargs, connecting=True)


def _connect_async(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    inv = _db.active()
    if inv is None or getattr(instance, "is_connected", False):
        return wrapped(*args, **kwargs)
    name, fields = _db.name_and_fields(SYSTEM, _db.CONNECT, "", _connection_host(instance))
    return _db.run_async(inv, name, fields, wrapped, args, kwargs, connecting=True)
