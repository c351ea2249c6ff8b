"""Classify downstream failures and take IAM facts out of AccessDenied messages, leaking no values.

Pure functions over strings and numbers: no botocore import, exception types are matched by name.
"""

from __future__ import annotations

import re
from typing import Optional

#: Longest error message we ever write; AWS messages can echo request values (see ``scrub``).
MAX_MESSAGE_CHARS = 300

_PERMISSION_CODES = frozenset(
    {
        "UnauthorizedOperation",
        "AuthorizationError",
        "AuthorizationErrorException",
        "NotAuthorized",
        "NotAuthorizedException",
        "Forbidden",
        "ForbiddenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "KMSAccessDeniedException",
        "AllAccessDisabled",
    }
)
_THROTTLE_CODES = frozenset(
    {
        "TooManyRequests",
        "TooManyRequestsException",
        "ProvisionedThroughputExceeded",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
        "RequestThrottled",
        "RequestThrottledException",
        "ThrottledException",
        "LimitExceededException",
        "TransactionInProgressException",
        "EC2ThrottledException",
        "PriorRequestNotComplete",
        "BandwidthLimitExceeded",
    }
)
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NoSuchBucket", "NoSuchEntity", "NoSuchUpload"})
_VALIDATION_CODES = frozenset(
    {
        "ValidationException",
        "ValidationError",
        "SerializationException",
        "MissingParameter",
        "MissingParameterValue",
        "MalformedQueryString",
        "MalformedPolicyDocument",
        "ParamValidationError",
        "InvalidRequest",
        "InvalidArgument",
        "EntityTooLarge",
        "EntityTooSmall",
        "RequestEntityTooLargeException",
    }
)
_CONFLICT_CODES = frozenset(
    {
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
        "TransactionConflictException",
        "ResourceInUseException",
        "ResourceConflictException",
        "PreconditionFailed",
        "OperationAbortedException",
        "BucketAlreadyExists",
        "BucketAlreadyOwnedByYou",
        "ConcurrentModificationException",
        "IdempotentParameterMismatch",
    }
)
_SERVER_CODES = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServerErrorException",
        "InternalServiceError",
        "InternalServiceErrorException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ServiceException",
        "ServiceFailure",
        "Unavailable",
        "KMSInternalException",
    }
)
#: Exception class names (anywhere in the MRO) that mean "no HTTP answer": checked timeout first,
#: because urllib3 and requests timeouts also derive from connection errors.
_TIMEOUT_TYPES = frozenset(
    {
        "ReadTimeoutError",
        "ConnectTimeoutError",
        "ReadTimeout",
        "ConnectTimeout",
        "Timeout",
        "TimeoutError",
        "timeout",
        "TimeoutException",
    }
)
_NETWORK_TYPES = frozenset(
    {
        "EndpointConnectionError",
        "ConnectionClosedError",
        "ConnectionError",
        "ConnectionRefusedError",
        "ConnectionResetError",
        "ConnectionAbortedError",
        "BrokenPipeError",
        "ProxyConnectionError",
        "NewConnectionError",
        "ProtocolError",
        "RemoteDisconnected",
        "IncompleteRead",
        "SSLError",
        "gaierror",
        "HTTPClientError",
        "MaxRetryError",
        "NetworkError",  # httpx.ConnectError, ReadError, ...
        "ClientConnectionError",  # aiohttp.ClientConnectorError, ServerDisconnectedError, ...
    }
)
_VALIDATION_TYPES = frozenset({"ParamValidationError", "UnknownParameterError", "ValidationError"})
_PERMISSION_TYPES = frozenset({"NoCredentialsError", "PartialCredentialsError"})


def classify(code: Optional[str], status: Optional[int]) -> Optional[str]:
    """The error class for an error code and/or HTTP status; None when neither says failure."""
    if code:
        by_code = _classify_code(code)
        if by_code is not None:
            return by_code
    if status is None or status < 400:
        return "client" if code else None
    if status == 403 or status == 401:
        return "permission_denied"
    if status == 429:
        return "throttled"
    if status in (404, 410):
        return "not_found"
    if status in (409, 412):
        return "conflict"
    if status in (400, 413, 422):
        return "validation"
    if status == 408:
        return "timeout"
    if status >= 500:
        return "server"
    return "client"


def _classify_code(code: str) -> Optional[str]:
    if code.startswith("AccessDenied") or code in _PERMISSION_CODES:
        return "permission_denied"
    if "Throttl" in code or code in _THROTTLE_CODES:
        return "throttled"
    if "NotFound" in code or code.startswith("NoSuch") or "DoesNotExist" in code:
        return "not_found"
    if "NonExistent" in code:  # SQS: AWS.SimpleQueueService.NonExistentQueue
        return "not_found"
    if code in _NOT_FOUND_CODES:
        return "not_found"
    if code in _CONFLICT_CODES or "Conflict" in code or code.startswith("ConditionalCheckFailed"):
        return "conflict"
    if code in _VALIDATION_CODES or code.startswith("InvalidParameter"):
        return "validation"
    if code in _SERVER_CODES or code.startswith("Internal"):
        return "server"
    if code.isdigit():
        return None  # a bare status as code (S3 HEAD, moto's JSON 403): the status decides
    if code.startswith("Invalid") or code.startswith("Malformed"):
        return "validation"
    return None


def classify_exception(exc: BaseException) -> Optional[str]:
    """The error class for an exception raised instead of a response (timeouts, network, ...)."""
    names = [cls.__name__ for cls in type(exc).__mro__]
    for name in names:
        if name in _TIMEOUT_TYPES:
            return "timeout"
    for name in names:
        if name in _NETWORK_TYPES:
            return "network"
        if name in _VALIDATION_TYPES:
            return "validation"
        if name in _PERMISSION_TYPES:
            return "permission_denied"
    return None


# "User: arn:aws:sts::1:assumed-role/r/f is not authorized to perform: s3:PutObject on resource:
# arn:aws:s3:::b/k because no identity-based policy allows the s3:PutObject action"
_IAM_PATTERN = (
    r"not authorized to perform:?\s+(?P<action>[A-Za-z0-9-]+:[A-Za-z0-9*]+)"
    r"(?:\s+on resource:?\s+(?P<resource>\"?[^\s\"]+\"?))?"
)
_iam_re: list[re.Pattern[str]] = []  # compiled on first AccessDenied, not at import

#: botocore service name -> IAM service prefix, where they differ.
_IAM_PREFIX = {
    "stepfunctions": "states",
    "elbv2": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "sesv2": "ses",
    "rds-data": "rds-data",
    "apigatewaymanagementapi": "execute-api",
    "dynamodbstreams": "dynamodb",
    "sagemaker-runtime": "sagemaker",
    "bedrock-runtime": "bedrock",
    "opensearch": "es",
}
#: Operations whose IAM action is not named like the operation.
_IAM_ACTION = {
    ("s3", "HeadObject"): "GetObject",
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjectVersions"): "ListBucketVersions",
    ("s3", "DeleteObjects"): "DeleteObject",
    ("s3", "CreateMultipartUpload"): "PutObject",
    ("s3", "UploadPart"): "PutObject",
    ("s3", "CompleteMultipartUpload"): "PutObject",
    ("s3", "UploadPartCopy"): "PutObject",
    ("s3", "CopyObject"): "PutObject",
    ("s3", "ListMultipartUploads"): "ListBucketMultipartUploads",
    ("s3", "ListBuckets"): "ListAllMyBuckets",
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeAsync"): "InvokeFunction",
    ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
}


def iam_details(
    message: Optional[str], service: Optional[str], operation: Optional[str]
) -> tuple[Optional[str], Optional[str], bool]:
    """``(action, resource, inferred)`` for an AccessDenied error.

    The action and resource come from the message when AWS names them; otherwise (S3's plain
    "Access Denied") the action is derived from service and operation and ``inferred`` is True.
    """
    if message:
        if not _iam_re:
            _iam_re.append(re.compile(_IAM_PATTERN))
        match = _iam_re[0].search(message)
        if match:
            resource = match.group("resource")
            if resource:
                resource = redact(resource.strip('"').rstrip(".,;"))  # S3: bucket level only
            return match.group("action"), resource, False
    if service and operation:
        prefix = _IAM_PREFIX.get(service, service)
        action = _IAM_ACTION.get((service, operation), operation)
        return f"{prefix}:{action}", None, True
    return None, None, False


#: Classes whose AWS messages tend to echo request values ("Value 'x' at 'item' failed ...").
_WITHHELD_CLASSES = frozenset({"validation", "conflict", "client"})


def scrub(message: Optional[str], error_class: Optional[str] = None) -> Optional[str]:
    """A message safe to log: withheld for classes that echo values, else truncated."""
    if message is None:
        return None
    if error_class in _WITHHELD_CLASSES:
        return "(message withheld: it may echo request values)"
    return truncate(message)


def truncate(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, marked with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def aws_error_facts(exc: BaseException) -> tuple[Optional[str], Optional[str], Optional[int]]:
    """``(code, message, http_status)`` of a botocore ``ClientError``-like exception, else Nones.

    Never raises: any exception type can arrive here, with properties or values that do.
    """
    try:
        response = getattr(exc, "response", None)
        if not isinstance(response, dict):
            return None, None, None
        error = response.get("Error")
        code = message = None
        if isinstance(error, dict):
            code = error.get("Code")
            message = error.get("Message")
        meta = response.get("ResponseMetadata")
        status = meta.get("HTTPStatusCode") if isinstance(meta, dict) else None
        return (
            _text_or_none(code),
            _text_or_none(message),
            status if isinstance(status, int) and not isinstance(status, bool) else None,
        )
    except Exception:
        return None, None, None


def _text_or_none(value: object) -> Optional[str]:
    if value is None:
        return None
    try:
        return str(value)
    except Exception:  # a broken __str__: the value is unknown, not fatal
        return None


def redact(text: str) -> str:
    """``text`` without credentials, query strings, userinfo or S3 object keys (``redact``)."""
    from lambda_trace.redact import redact as _redact

    return _redact(text)


def describe_exception(exc: BaseException) -> dict[str, Optional[str]]:
    """``error_type``, ``error_class`` and a scrubbed ``error_message`` for a handler exception.

    Never raises: on any surprise the record keeps the type and loses only the message.
    """
    try:
        return _describe(exc)
    except Exception:
        return {"error_type": type(exc).__name__, "error_class": None, "error_message": None}


#: Packages whose exception messages echo request values: database drivers quote rows and
#: statements (``Key (email)=(...) already exists``), Redis echoes command arguments.
_ECHOING_MODULES = ("psycopg2", "psycopg", "pg8000", "pymysql", "MySQLdb", "sqlite3", "redis")


def _echoing_error(exc: BaseException) -> Optional[dict[str, Optional[str]]]:
    """The description of an exception whose message must not be written, else None."""
    name = type(exc).__name__
    if name == "InvalidURL":  # http.client echoes the netloc, userinfo and all
        message = "(message withheld: it may echo the URL's credentials)"
        return {"error_type": name, "error_class": "validation", "error_message": message}
    if (type(exc).__module__ or "").split(".", 1)[0] not in _ECHOING_MODULES:
        return None
    from lambda_trace._patches.db_errors import describe as describe_db

    message = "(message withheld: database and cache errors echo values)"
    return {"error_type": name, "error_class": describe_db(exc)[0], "error_message": message}


def _describe(exc: BaseException) -> dict[str, Optional[str]]:
    echoing = _echoing_error(exc)
    if echoing is not None:
        return echoing
    code, _, status = aws_error_facts(exc)
    error_class = classify(code, status) if (code or status) else None
    if error_class is None:
        error_class = classify_exception(exc)
    message = _text_or_none(exc)
    if code is not None:
        # botocore's text: "An error occurred (Code) when calling the Op operation: <AWS message>"
        head, sep, _ = (message or "").partition(": ")
        if error_class in _WITHHELD_CLASSES and sep:
            message = f"{head}: (message withheld: it may echo request values)"
        else:
            message = truncate(message or "")
    elif error_class == "validation":
        message = scrub(message, error_class)
    elif message is not None:
        message = truncate(message)
    if message is not None:
        message = truncate(redact(message))
    return {"error_type": type(exc).__name__, "error_class": error_class, "error_message": message}
