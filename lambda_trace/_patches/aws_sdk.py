"""botocore: time every service operation through ``BaseClient._make_api_call``.

botocore objects are read defensively: the service and operation are needed, everything else
(status, retries, request id, error code) is optional. Request parameters are read only through
the allow-list in ``aws_services``; responses are read only for ``ResponseMetadata`` and
``Error.Code``/``Error.Message`` (the message only to extract IAM action and resource).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable, Optional

from lambda_trace import _invocation, _safety
from lambda_trace._contract import field
from lambda_trace._encode import jstr
from lambda_trace._patches import _wrap
from lambda_trace._patches._suppress import get_ident as _get_ident
from lambda_trace._patches._suppress import inside as _inside
from lambda_trace._patches.aws_services import target as _target

# Call line fragments, from the declared record keys (``_contract``).
_TARGET, _HTTP_STATUS, _RETRIES, _AWS_REQUEST_ID = (
    field("call", k) for k in ("target", "http_status", "retries", "aws_request_id"))
_ERROR_CLASS, _ERROR_CODE, _ACTION, _RESOURCE, _ACTION_INFERRED = (
    field("call", k)
    for k in ("error_class", "error_code", "action", "resource", "action_inferred"))

MAX_NAME_CHARS = 200
MAX_CACHED_NAMES = 256

#: (service, operation) -> (call name, pre-encoded `,"service":..,"operation":..` fragment)
_names: dict[tuple[str, str], tuple[str, str]] = {}


def patch(module: ModuleType) -> None:
    """Hook for ``botocore.client``."""
    _wrap.wrap(module.BaseClient, "_make_api_call", _make_api_call)


def _name(service: str, operation: str) -> tuple[str, str]:
    key = (service, operation)
    found = _names.get(key)
    if found is None:
        if len(_names) >= MAX_CACHED_NAMES:
            _names.clear()  # bounded across warm invocations, whatever the code calls
        name = f"{service}.{operation}"[:MAX_NAME_CHARS]
        # Schema v2: the name holds service and operation; the lines' ``service`` is ours.
        found = _names[key] = (name, "")
    return found


def _make_api_call(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    inv = _invocation.current
    if inv is None:
        return wrapped(*args, **kwargs)
    try:
        operation = args[0] if args else kwargs["operation_name"]
        params = args[1] if len(args) > 1 else kwargs.get("api_params")
        service = instance.meta.service_model.service_name
        found = _names.get((service, operation))  # _name's cache, read inline (hot path)
        name, fixed = found if found is not None else _name(service, operation)
        token, t0 = inv.begin(name, "aws")
    except Exception as exc:
        _safety.report("botocore wrapper", exc)
        return wrapped(*args, **kwargs)
    # Mark this thread as inside an AWS call (not if an outer AWS call already did: a credential
    # refresh calling STS inside a call).
    ident = _get_ident()
    outer = ident not in _inside
    if outer:
        _inside.add(ident)
    try:
        response = wrapped(*args, **kwargs)
    except BaseException as exc:
        if outer:
            _inside.discard(ident)
        try:
            fields = fixed + _error_fields(exc, service, operation, params)
        except Exception as err:
            _safety.report("botocore wrapper", err)
            fields = fixed  # the call is still counted, with what is known for sure
        _end(inv, token, name, t0, True, fields)
        raise
    if outer:
        _inside.discard(ident)
    deferred: Any = None
    if inv.tail_based and not inv.detail:
        # Most likely buffered until the end decides, and most invocations turn out ordinary:
        # the values are read now (the request and response are not kept), the text is built
        # only for a line that is written (≈1.5 µs a call saved), and the call is buffered in
        # end_call's lock acquisition.
        try:
            deferred = (_deferred_fields, fixed, _target(service, params), _metadata(response))
        except Exception as err:
            _safety.report("botocore wrapper", err)
            deferred = fixed
    try:
        timing = inv.end_call(token, name, "aws", t0, False, deferred)
    except Exception as err:
        _safety.report("botocore wrapper", err)
        return response
    if timing is not None:  # the target and metadata are read only for a line that is written
        try:
            line_fields = fixed + _target_field(service, params) + _metadata_fields(response)
        except Exception as err:
            _safety.report("botocore wrapper", err)
            line_fields = fixed
        inv.write_call(name, "aws", timing, False, line_fields)
    return response


def _metadata(response: Any) -> Any:
    """``(status, retries, request id)`` in botocore's usual shape, else the fields' text."""
    try:
        meta = response["ResponseMetadata"]
        status, retries = meta["HTTPStatusCode"], meta["RetryAttempts"]
        request_id = meta["RequestId"]
        if type(status) is int and type(retries) is int and type(request_id) is str and request_id:
            return status, retries, request_id[:128]
    except (KeyError, TypeError, IndexError):
        pass
    return _metadata_fields_slow(response)


def _deferred_fields(fixed: str, target: Optional[str], metadata: Any) -> str:
    out = fixed if target is None else f"{fixed}{_TARGET}{jstr(target)}"
    if type(metadata) is str:
        return out + metadata
    status, retries, request_id = metadata
    return f"{out}{_HTTP_STATUS}{status}{_RETRIES}{retries}{_AWS_REQUEST_ID}{jstr(request_id)}"


def _end(inv: Any, token: int, name: str, t0: int, error: bool, fields: str) -> None:
    try:
        inv.end(token, name, "aws", t0, error, fields)
    except Exception as err:
        _safety.report("botocore wrapper", err)


def _target_field(service: str, params: Any) -> str:
    value = _target(service, params)
    return f"{_TARGET}{jstr(value)}" if value is not None else ""


def _metadata_fields(response: Any) -> str:
    try:  # the shape botocore always returns, read in one go
        meta = response["ResponseMetadata"]
        status = meta["HTTPStatusCode"]
        retries = meta["RetryAttempts"]
        request_id = meta["RequestId"]
        if type(status) is int and type(retries) is int and type(request_id) is str and request_id:
            return (
                f"{_HTTP_STATUS}{status}{_RETRIES}{retries}{_AWS_REQUEST_ID}"
                f"{jstr(request_id[:128])}"
            )
    except (KeyError, TypeError, IndexError):
        pass
    return _metadata_fields_slow(response)


def _metadata_fields_slow(response: Any) -> str:
    meta = response.get("ResponseMetadata") if isinstance(response, dict) else None
    if not isinstance(meta, dict):
        return ""
    out = ""
    status = meta.get("HTTPStatusCode")
    if isinstance(status, int):
        out += f"{_HTTP_STATUS}{status}"
    retries = meta.get("RetryAttempts")
    if isinstance(retries, int):
        out += f"{_RETRIES}{retries}"
    request_id = _request_id(meta)
    if request_id:
        out += f"{_AWS_REQUEST_ID}{jstr(request_id[:128])}"
    return out


def _request_id(meta: dict[str, Any]) -> Optional[str]:
    value = meta.get("RequestId")
    if not value:
        headers = meta.get("HTTPHeaders")
        if isinstance(headers, dict):
            value = headers.get("x-amz-request-id") or headers.get("x-amzn-requestid")
    return value if isinstance(value, str) else None


def _error_fields(exc: BaseException, service: str, operation: str, params: Any) -> str:
    from lambda_trace import _errors  # only once a call fails: ≈0.4 ms (and `re`) off cold start

    code, message, status = _errors.aws_error_facts(exc)
    error_class = _errors.classify(code, status) if (code or status) else None
    if error_class is None:
        error_class = _errors.classify_exception(exc)
    # A parameter AWS rejected as invalid may not be an identifier at all (a value passed where a
    # name belongs, e.g. a secret as a parameter name): no target then.
    out = "" if error_class == "validation" else _target_field(service, params)
    response = getattr(exc, "response", None)
    out += _metadata_fields(response)
    if error_class is not None:
        out += f'{_ERROR_CLASS}"{error_class}"'
    out += f"{_ERROR_CODE}{jstr((code or type(exc).__name__)[:128])}"
    if error_class == "permission_denied":
        action, resource, inferred = _errors.iam_details(message, service, operation)
        if action:
            out += f"{_ACTION}{jstr(action[:256])}"
        if resource:
            out += f"{_RESOURCE}{jstr(resource[:1024])}"
        if inferred:
            out += _ACTION_INFERRED + "true"
    return out
