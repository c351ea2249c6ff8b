"""httpx ``Client.send`` and ``AsyncClient.send``: one ``http`` call per request.

Every request of an httpx client (``get``, ``post``, ``stream``, ``request``) goes through
``send``, redirects included, so each is one call; the time runs to the response (its body too,
unless ``stream=True``). httpx sends through httpcore, not urllib3 or http.client, so nothing
else counts it; a sync send still marks its thread so that a transport built on urllib3 is not
counted twice. Host, route and status as for the other HTTP clients (``http_clients``).
"""

from __future__ import annotations

from types import ModuleType

from lambda_trace import _invocation, _safety
from lambda_trace._patches import _wrap, http_clients
from lambda_trace._patches._suppress import get_ident as _get_ident
from lambda_trace._patches._suppress import inside as _inside

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Callable


def patch(module: ModuleType) -> None:
    """Hook for ``httpx``."""
    _wrap.wrap(module.Client, "send", _send)
    _wrap.wrap(module.AsyncClient, "send", _send_async)


def _name(request: Any) -> tuple[str, str]:
    url = request.url
    query = url.query
    target = url.path + ("?" + query.decode("ascii", "replace") if query else "")
    signed = http_clients.signed_for_s3(request.headers)
    return http_clients.call_name(str(request.method).upper(), url.host, target, signed)


def _status(response: Any) -> Any:
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _send(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    inv = _invocation.current
    ident = _get_ident()
    if inv is None or ident in _inside:
        return wrapped(*args, **kwargs)
    try:
        name, fixed = _name(args[0] if args else kwargs["request"])
        token, t0 = inv.begin(name, "http")
    except Exception as exc:
        _safety.report("httpx wrapper", exc)
        return wrapped(*args, **kwargs)
    _inside.add(ident)
    try:
        response = wrapped(*args, **kwargs)
    except BaseException as exc:
        _inside.discard(ident)
        http_clients.finish(inv, token, name, t0, fixed, None, exc)
        raise
    _inside.discard(ident)
    http_clients.finish(inv, token, name, t0, fixed, _status(response), None)
    return response


def _send_async(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    inv = _invocation.current
    if inv is None:
        return wrapped(*args, **kwargs)
    return _timed(inv, wrapped, args, kwargs)


async def _timed(
    inv: Any, wrapped: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    try:
        name, fixed = _name(args[0] if args else kwargs["request"])
        token, t0 = inv.begin(name, "http")
    except Exception as exc:
        _safety.report("httpx wrapper", exc)
        return await wrapped(*args, **kwargs)
    try:
        response = await wrapped(*args, **kwargs)
    except BaseException as exc:
        http_clients.finish(inv, token, name, t0, fixed, None, exc)
        raise
    http_clients.finish(inv, token, name, t0, fixed, _status(response), None)
    return response
