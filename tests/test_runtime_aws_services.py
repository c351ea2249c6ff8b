"""The resource acted on comes from an allow-list of parameter names, never from values."""

from __future__ import annotations

import pytest

from lambda_trace._patches.aws_services import MAX_TARGET_CHARS, TARGETS, target


@pytest.mark.parametrize(
    ("service", "params", "expected"),
    [
        ("s3", {"Bucket": "photos", "Key": "users/42/secret.jpg", "Body": b"..."}, "photos"),
        ("dynamodb", {"TableName": "orders", "Item": {"card": {"S": "4111"}}}, "orders"),
        ("dynamodb", {"RequestItems": {"b": [{"PutRequest": {}}], "a": []}}, "a,b"),
        (
            "dynamodb",
            {"TransactItems": [{"Put": {"TableName": "t1"}}, {"Update": {"TableName": "t2"}}]},
            "t1,t2",
        ),
        ("dynamodb", {"Statement": "SELECT * FROM t WHERE pw='x'"}, None),
        (
            "sqs",
            {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/jobs", "MessageBody": "m"},
            "jobs",
        ),
        ("sns", {"TopicArn": "arn:aws:sns:us-east-1:1:alerts", "Message": "m"}, "alerts"),
        ("sns", {"PhoneNumber": "+15555550100", "Message": "m"}, None),
        ("lambda", {"FunctionName": "arn:aws:lambda:us-east-1:1:function:resize:prod"}, "resize"),
        ("lambda", {"FunctionName": "resize:prod", "Payload": b"{}"}, "resize"),
        ("secretsmanager", {"SecretId": "prod/db"}, "prod/db"),
        ("ssm", {"Name": "/app/flag", "WithDecryption": True}, "/app/flag"),
        ("kinesis", {"StreamName": "clicks", "Data": b"x"}, "clicks"),
        (
            "stepfunctions",
            {"stateMachineArn": "arn:aws:states:r:1:stateMachine:flow"},
            "stateMachine:flow",
        ),
        ("unknown-service", {"Bucket": "x"}, None),
    ],
)
def test_target_reads_only_identifier_parameters(service, params, expected):
    """Bucket, table, queue, topic, function, secret id, parameter name, stream: nothing else."""
    assert target(service, params) == expected


def test_target_never_raises_on_odd_shapes():
    """A malformed request (wrong types) gives no target instead of an error."""
    assert target("dynamodb", {"TransactItems": "oops"}) is None
    assert target("s3", None) is None
    assert target("s3", {"Bucket": 123}) is None


def test_target_is_clipped():
    assert len(target("s3", {"Bucket": "b" * 5000})) == MAX_TARGET_CHARS


def test_every_target_function_accepts_an_empty_request():
    """Each entry of the data table is a small pure function tolerant of missing names."""
    for service in TARGETS:
        assert target(service, {}) is None
