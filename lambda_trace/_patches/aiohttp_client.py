"""aiohttp ``ClientSession._request``: one ``http`` call per request, to its response headers.

Every ``ClientSession`` method (``get``, ``post``, ``request``, ``async with session.get``)
goes through ``_request``, redirects included. aiohttp has its own HTTP stack, so nothing else
counts the request. Host, route and status as for the other HTTP clients (``http_clients``).
"""

from __future__ import annotations

from types import ModuleType

from lambda_trace import _invocation, _safety
from lambda_trace._patches import _url, _wrap, http_clients

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Callable


def patch(module: ModuleType) -> None:
    """Hook for ``aiohttp.client``."""
    _wrap.wrap(module.ClientSession, "_request", _request)


def host_and_target(url: Any, base: Any = None) -> tuple[str, str]:
    """``(host, path?query)`` of a str or yarl URL; relative ones against the session's base."""
    if not isinstance(url, str):  # yarl.URL: host never includes userinfo
        query = url.query_string
        target = url.path + ("?" + query if query else "")
        if url.host is None and base is not None:
            return str(base.host or ""), target
        return str(url.host or ""), target
    if "://" not in url[:16]:
        return (str(base.host or "") if base is not None else ""), url
    authority = url.split("://", 1)[1]
    for sep in ("/", "?", "#"):
        cut = authority.find(sep)
        if cut >= 0:
            authority = authority[:cut]
    host = _url.strip_userinfo(authority)
    # an IPv6 literal keeps its brackets; any port goes
    host = host[: host.find("]") + 1] if host.startswith("[") else host.rsplit(":", 1)[0]
    return host, url


def _request(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    inv = _invocation.current
    if inv is None:
        return wrapped(*args, **kwargs)
    return _timed(inv, wrapped, instance, args, kwargs)


async def _timed(
    inv: Any,
    wrapped: Callable[..., Any],
    instance: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    try:
        method = str(args[0] if args else kwargs["method"]).upper()
        url = args[1] if len(args) > 1 else kwargs["str_or_url"]
        host, target = host_and_target(url, getattr(instance, "_base_url", None))
        signed = http_clients.signed_for_s3(kwargs.get("headers"))
        name, fixed = http_clients.call_name(method, host, target, signed)
        token, t0 = inv.begin(name, "http")
    except Exception as exc:
        _safety.report("aiohttp wrapper", exc)
        return await wrapped(*args, **kwargs)
    try:
        response = await wrapped(*args, **kwargs)
    except BaseException as exc:
        http_clients.finish(inv, token, name, t0, fixed, None, exc)
        raise
    status = getattr(response, "status", None)
    status = status if isinstance(status, int) else None
    http_clients.finish(inv, token, name, t0, fixed, status, None)
    return response
