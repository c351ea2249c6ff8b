"""urllib3 (and so requests) and http.client (and so urllib.request): method, host, route, status.

The host is written without userinfo and the path only as its route template (``_url``): no
query string, no id-like segment, no object key. No body is read, and of the headers only
whether the request is signed for S3 (SigV4's credential scope), which makes its path a key.
Calls made inside an instrumented AWS call, and urllib3's own recursion for retries and
redirects, are not counted again (``_suppress``). The time is up to the response headers
(``urlopen``/``getresponse`` returning), not the reading of a streamed body.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable, Optional

from lambda_trace import _invocation, _safety
from lambda_trace._contract import field
from lambda_trace._encode import jstr
from lambda_trace._patches import _url, _wrap
from lambda_trace._patches._suppress import get_ident as _get_ident
from lambda_trace._patches._suppress import inside as _inside

# Call line fragments, from the declared record keys (``_contract``).
_METHOD, _HOST, _ROUTE, _HTTP_STATUS, _ERROR_CODE, _ERROR_CLASS = (
    field("call", k) for k in ("method", "host", "route", "http_status", "error_code",
                               "error_class"))

MAX_PATH_CHARS = 256
MAX_CACHED_NAMES = 256
_ATTR = "_lambda_trace_call"
#: SigV4's credential scope of a request signed for S3 (``.../us-east-1/s3/aws4_request``)
_S3_SCOPE = "/s3/aws4_request"

#: (method, host, route) -> (call name, pre-encoded method/host/route fragment)
_names: dict[tuple[str, str, str], tuple[str, str]] = {}


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
    return _url.split_target(url)[0][:MAX_PATH_CHARS]


def call_name(method: str, host: Any, url: Any, s3_signed: bool = False) -> tuple[str, str]:
    """``(name, fixed fields)`` of a request: ``http GET host/route`` and method/host/route."""
    clean_host = _url.strip_userinfo(str(host))
    path, query = _url.split_target(url)
    route = _url.http_route(clean_host, path[:MAX_PATH_CHARS], query, s3_signed)
    return _name(method, clean_host, route)


def _name(method: str, host: str, route: str) -> tuple[str, str]:
    key = (method, host, route)
    found = _names.get(key)
    if found is None:
        if len(_names) >= MAX_CACHED_NAMES:
            _names.clear()  # bounded across warm invocations, whatever the code calls
        found = _names[key] = (
            f"http {method} {host}{route}"[:200],
            f"{_METHOD}{jstr(method)}{_HOST}{jstr(host)}{_ROUTE}{jstr(route)}",
        )
    return found


def signed_for_s3(headers: Any) -> bool:
    """True when ``headers`` carry a SigV4 signature scoped to S3 (its path is an object key)."""
    if not headers:
        return False
    try:
        value = headers.get("Authorization") or headers.get("authorization")
    except Exception:
        return False
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return isinstance(value, str) and _S3_SCOPE in value


def _fields(
    fixed: str, status: Optional[int], exc: Optional[BaseException]
) -> tuple[str, bool]:
    out = fixed
    error_class = None
    if status is not None:
        out += f"{_HTTP_STATUS}{status}"
        if status >= 400:
            from lambda_trace import _errors  # only for a failed call: off cold start

            error_class = _errors.classify(None, status)
            out += f'{_ERROR_CODE}"{status}"'
    if exc is not None:
        from lambda_trace import _errors

        error_class = _errors.classify_exception(exc)
        out += f"{_ERROR_CODE}{jstr(type(exc).__name__)}"
    if error_class is not None:
        out += f'{_ERROR_CLASS}"{error_class}"'
    return out, exc is not None or (status is not None and status >= 400)


def finish(
    inv: Any,
    token: int,
    name: str,
    t0: int,
    fixed: str,
    status: Optional[int],
    exc: Optional[BaseException],
) -> None:
    try:
        fields, error = _fields(fixed, status, exc)
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
        headers = args[3] if len(args) > 3 else kwargs.get("headers")
        name, fixed = call_name(method, instance.host, url, signed_for_s3(headers))
        token, t0 = inv.begin(name, "http")
    except Exception as exc:
        _safety.report("urllib3 wrapper", exc)
        return wrapped(*args, **kwargs)
    _inside.add(ident)
    try:
        response = wrapped(*args, **kwargs)
    except BaseException as exc:
        _inside.discard(ident)
        finish(inv, token, name, t0, fixed, None, exc)
        raise
    _inside.discard(ident)
    status = getattr(response, "status", None)
    finish(inv, token, name, t0, fixed, status if isinstance(status, int) else None, None)
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
            name, fixed = call_name(method, instance.host, url)
            token, t0 = inv.begin(name, "http")
            instance.__dict__[_ATTR] = (inv, token, name, t0, fixed)
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
            inv, token, name, t0, fixed = pending
            finish(inv, token, name, t0, fixed, None, exc)
        raise


def _getresponse(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    pending = instance.__dict__.pop(_ATTR, None)
    if pending is None:
        return wrapped(*args, **kwargs)
    inv, token, name, t0, fixed = pending
    try:
        response = wrapped(*args, **kwargs)
    except BaseException as exc:
        finish(inv, token, name, t0, fixed, None, exc)
        raise
    status = getattr(response, "status", None)
    finish(inv, token, name, t0, fixed, status if isinstance(status, int) else None, None)
    return response


def _abandon(instance: Any) -> None:
    """A request started and never read (reused connection): close it as an error."""
    pending = instance.__dict__.pop(_ATTR, None)
    if pending is not None:
        inv, token, name, t0, fixed = pending
        finish(inv, token, name, t0, fixed, None, RuntimeError("no response read"))
