"""urllib3 (and so requests) and http.client (and so urllib.request): method, host, path, status.

The path is written without its query string and fragment, and no header or body is read.
Calls made inside an instrumented AWS call, and urllib3's own recursion for retries and
redirects, are not counted again (``_suppress``). The time is up to the response headers
(``urlopen``/``getresponse`` returning), not the reading of a streamed body.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable, Optional

from lambda_trace import _invocation, _safety
from lambda_trace._encode import jstr
from lambda_trace._patches import _wrap
from lambda_trace._patches._suppress import get_ident as _get_ident
from lambda_trace._patches._suppress import inside as _inside

MAX_PATH_CHARS = 256
MAX_CACHED_NAMES = 256
_ATTR = "_lambda_trace_call"

#: (method, host) -> (call name, pre-encoded method/host fragment)
_names: dict[tuple[str, str], tuple[str, str]] = {}


def patch_urllib3(module: ModuleType) -> None:
    """Hook for ``urllib3.connectionpool``."""
    _wrap.wrap(module.HTTPConnectionPool, "urlopen", _urlopen)


def patch_http_client(module: ModuleType) -> None:
    """Hook for ``http.client``."""
    _wrap.wrap(module.HTTPConnection, "putrequest", _putrequest)
    _wrap.wrap(module.HTTPConnection, "endheaders", _endheaders)
    _wrap.wrap(module.HTTPConnection, "getresponse", _getresponse)


def path_only(url: Any) -> str:
    """The path of ``url`` (absolute or origin-form), without query string or fragment."""
    text = url if isinstance(url, str) else str(url)
    if "://" in text[:16]:
        after = text.split("://", 1)[1]
        slash = after.find("/")
        text = after[slash:] if slash >= 0 else "/"
    for sep in ("?", "#"):
        cut = text.find(sep)
        if cut >= 0:
            text = text[:cut]
    return (text or "/")[:MAX_PATH_CHARS]


def _name(method: str, host: str) -> tuple[str, str]:
    key = (method, host)
    found = _names.get(key)
    if found is None:
        if len(_names) >= MAX_CACHED_NAMES:
            _names.clear()  # one entry per host: bounded across warm invocations
        found = _names[key] = (
            f"http {method} {host}"[:200],
            f',"method":{jstr(method)},"host":{jstr(host)}',
        )
    return found


def _fields(
    fixed: str, path: str, status: Optional[int], exc: Optional[BaseException]
) -> tuple[str, bool]:
    out = f'{fixed},"path":{jstr(path)}'
    error_class = None
    if status is not None:
        out += f',"http_status":{status}'
        if status >= 400:
            from lambda_trace import _errors  # only for a failed call: off cold start

            error_class = _errors.classify(None, status)
            out += f',"error_code":"{status}"'
    if exc is not None:
        from lambda_trace import _errors

        error_class = _errors.classify_exception(exc)
        out += f',"error_code":{jstr(type(exc).__name__)}'
    if error_class is not None:
        out += f',"error_class":"{error_class}"'
    return out, exc is not None or (status is not None and status >= 400)


def _finish(
    inv: Any,
    token: int,
    name: str,
    t0: int,
    fixed: str,
    path: str,
    status: Optional[int],
    exc: Optional[BaseException],
) -> None:
    try:
        fields, error = _fields(fixed, path, status, exc)
    except Exception as err:
        _safety.report("http wrapper", err)
        # the call is still counted, with what is known for sure
        fields, error = fixed, exc is not None or (isinstance(status, int) and status >= 400)
    try:
        inv.end(token, name, "http", t0, error, fields)
    except Exception as err:
        _safety.report("http wrapper", err)


def _urlopen(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    inv = _invocation.current
    ident = _get_ident()
    if inv is None or ident in _inside:
        return wrapped(*args, **kwargs)
    try:
        method = str(args[0] if args else kwargs["method"]).upper()
        url = args[1] if len(args) > 1 else kwargs["url"]
        name, fixed = _name(method, str(instance.host))
        path = path_only(url)
        token, t0 = inv.begin(name, "http")
    except Exception as exc:
        _safety.report("urllib3 wrapper", exc)
        return wrapped(*args, **kwargs)
    _inside.add(ident)
    try:
        response = wrapped(*args, **kwargs)
    except BaseException as exc:
        _inside.discard(ident)
        _finish(inv, token, name, t0, fixed, path, None, exc)
        raise
    _inside.discard(ident)
    status = getattr(response, "status", None)
    _finish(inv, token, name, t0, fixed, path, status if isinstance(status, int) else None, None)
    return response


def _putrequest(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    inv = _invocation.current
    if inv is not None and _get_ident() not in _inside:
        try:
            _abandon(instance)
            method = str(args[0] if args else kwargs["method"]).upper()
            url = args[1] if len(args) > 1 else kwargs["url"]
            name, fixed = _name(method, str(instance.host))
            token, t0 = inv.begin(name, "http")
            instance.__dict__[_ATTR] = (inv, token, name, t0, fixed, path_only(url))
        except Exception as exc:
            _safety.report("http.client wrapper", exc)
    return wrapped(*args, **kwargs)


def _endheaders(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    try:
        return wrapped(*args, **kwargs)
    except BaseException as exc:
        # connect or send failed: the call ends here, getresponse will never come
        pending = instance.__dict__.pop(_ATTR, None)
        if pending is not None:
            inv, token, name, t0, fixed, path = pending
            _finish(inv, token, name, t0, fixed, path, None, exc)
        raise


def _getresponse(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    pending = instance.__dict__.pop(_ATTR, None)
    if pending is None:
        return wrapped(*args, **kwargs)
    inv, token, name, t0, fixed, path = pending
    try:
        response = wrapped(*args, **kwargs)
    except BaseException as exc:
        _finish(inv, token, name, t0, fixed, path, None, exc)
        raise
    status = getattr(response, "status", None)
    _finish(inv, token, name, t0, fixed, path, status if isinstance(status, int) else None, None)
    return response


def _abandon(instance: Any) -> None:
    """A request started and never read (reused connection): close it as an error."""
    pending = instance.__dict__.pop(_ATTR, None)
    if pending is not None:
        inv, token, name, t0, fixed, path = pending
        _finish(inv, token, name, t0, fixed, path, None, RuntimeError("no response read"))
