"""Error classification, IAM details from AccessDenied messages, and message scrubbing."""

from __future__ import annotations

import socket

import pytest

from lambda_trace import _errors
from lambda_trace.schema import ERROR_CLASSES


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("AccessDenied", 403, "permission_denied"),
        ("AccessDeniedException", 400, "permission_denied"),
        ("UnauthorizedOperation", 403, "permission_denied"),
        ("AuthorizationError", 403, "permission_denied"),
        ("403", 403, "permission_denied"),
        ("ThrottlingException", 400, "throttled"),
        ("Throttling", 400, "throttled"),
        ("TooManyRequestsException", 429, "throttled"),
        ("ProvisionedThroughputExceededException", 400, "throttled"),
        ("RequestLimitExceeded", 503, "throttled"),
        ("SlowDown", 503, "throttled"),
        (None, 429, "throttled"),
        ("ResourceNotFoundException", 400, "not_found"),
        ("NoSuchKey", 404, "not_found"),
        ("NoSuchBucket", 404, "not_found"),
        ("404", 404, "not_found"),
        ("AWS.SimpleQueueService.NonExistentQueue", 400, "not_found"),
        ("ValidationException", 400, "validation"),
        ("InvalidParameterValue", 400, "validation"),
        ("InvalidParameterException", 400, "validation"),
        (None, 400, "validation"),
        ("ConditionalCheckFailedException", 400, "conflict"),
        ("TransactionCanceledException", 400, "conflict"),
        ("ResourceConflictException", 409, "conflict"),
        (None, 409, "conflict"),
        ("InternalError", 500, "server"),
        ("ServiceUnavailable", 503, "server"),
        (None, 502, "server"),
        ("SomethingOdd", 418, "client"),
        (None, 418, "client"),
        (None, 200, None),
    ],
)
def test_codes_and_statuses_map_to_error_classes(code, status, expected):
    """An AWS error code decides first, the HTTP status otherwise."""
    assert _errors.classify(code, status) == expected
    assert expected is None or expected in ERROR_CLASSES


class EndpointConnectionError(Exception):
    pass


class ConnectTimeoutError(EndpointConnectionError):
    pass


class ReadTimeoutError(Exception):
    pass


class ConnectionClosedError(Exception):
    pass


class ParamValidationError(Exception):
    pass


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (EndpointConnectionError("x"), "network"),
        (ConnectionClosedError("x"), "network"),
        (ConnectionRefusedError(), "network"),
        (ConnectTimeoutError("x"), "timeout"),
        (ReadTimeoutError("x"), "timeout"),
        (socket.timeout("timed out"), "timeout"),
        (TimeoutError(), "timeout"),
        (ParamValidationError("x"), "validation"),
        (ValueError("x"), None),
    ],
)
def test_exceptions_without_a_response_are_classified_by_type_name(exc, expected):
    """Timeouts win over connection errors they derive from; unknown types have no class."""
    assert _errors.classify_exception(exc) == expected


def test_iam_action_and_resource_come_from_the_message():
    """The 'not authorized to perform: X on resource: Y because ...' text yields X and Y.

    An S3 object ARN is reduced to its bucket: object keys are user data (issue 17).
    """
    message = (
        "User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to perform: "
        "s3:PutObject on resource: arn:aws:s3:::bucket/key because no identity-based policy "
        "allows the s3:PutObject action"
    )
    assert _errors.iam_details(message, "s3", "PutObject") == (
        "s3:PutObject",
        "arn:aws:s3:::bucket/*",
        False,
    )


def test_iam_message_with_explicit_deny_and_trailing_period():
    """Other phrasings (explicit deny, a final period) still give action and resource."""
    message = (
        "User: arn:aws:sts::1:assumed-role/r/f is not authorized to perform: dynamodb:GetItem "
        "on resource: arn:aws:dynamodb:us-east-1:1:table/T with an explicit deny in an "
        "identity-based policy."
    )
    action, resource, inferred = _errors.iam_details(message, "dynamodb", "GetItem")
    assert (action, resource, inferred) == (
        "dynamodb:GetItem",
        "arn:aws:dynamodb:us-east-1:1:table/T",
        False,
    )


def test_iam_message_without_resource():
    """A message naming only the action gives no resource."""
    message = "User: arn:aws:iam::1:user/u is not authorized to perform: sqs:sendmessage"
    assert _errors.iam_details(message, "sqs", "SendMessage") == ("sqs:sendmessage", None, False)


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("s3", "PutObject", "s3:PutObject"),
        ("s3", "HeadObject", "s3:GetObject"),
        ("s3", "ListObjectsV2", "s3:ListBucket"),
        ("stepfunctions", "StartExecution", "states:StartExecution"),
        ("lambda", "Invoke", "lambda:InvokeFunction"),
    ],
)
def test_plain_access_denied_derives_the_action_and_says_so(service, operation, action):
    """S3's plain 'Access Denied' names no action: it is derived and flagged as inferred."""
    assert _errors.iam_details("Access Denied", service, operation) == (action, None, True)


def test_scrub_withholds_messages_of_classes_that_echo_values():
    """Validation-like messages may contain request values and are never written."""
    secret = "Value 'hunter2' at 'password' failed to satisfy constraint"
    assert "hunter2" not in _errors.scrub(secret, "validation")
    assert _errors.scrub("Rate exceeded", "throttled") == "Rate exceeded"


def test_truncate_keeps_messages_short():
    """Any message is cut to 300 characters, marked with an ellipsis."""
    out = _errors.truncate("x" * 5000)
    assert len(out) == _errors.MAX_MESSAGE_CHARS and out.endswith("…")


class FakeClientError(Exception):
    """Shaped like botocore's ClientError: a message and a parsed ``response``."""

    def __init__(self, code: str, message: str, status: int, operation: str = "PutItem"):
        super().__init__(
            f"An error occurred ({code}) when calling the {operation} operation: {message}"
        )
        self.response = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }


def test_handler_exception_from_aws_validation_keeps_code_but_not_values():
    """The invocation's error_message keeps botocore's head and withholds the AWS message."""
    exc = FakeClientError("ValidationException", "value 'card-4111' is invalid", 400)
    described = _errors.describe_exception(exc)
    assert described["error_type"] == "FakeClientError"
    assert described["error_class"] == "validation"
    assert "ValidationException" in described["error_message"]
    assert "card-4111" not in described["error_message"]


def test_handler_exception_from_aws_throttling_keeps_the_message():
    exc = FakeClientError("ThrottlingException", "Rate exceeded", 400)
    described = _errors.describe_exception(exc)
    assert described["error_class"] == "throttled"
    assert described["error_message"].endswith("Rate exceeded")


def test_handler_exception_of_user_code_is_truncated():
    """A user's own exception keeps its message, cut to 300 characters; it has no class."""
    described = _errors.describe_exception(RuntimeError("boom " * 200))
    assert described["error_class"] is None
    assert len(described["error_message"]) == _errors.MAX_MESSAGE_CHARS
