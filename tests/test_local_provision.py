"""Provisioning creates a template's resources in moto and enforces each function's IAM policies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from lambda_trace.local.provision import Account, _for_moto
from lambda_trace.local.template import Template, load

ROOT = Path(__file__).resolve().parent.parent
UPLOADS = "lambda-trace-uploads-123456789012"
ARCHIVE = "lambda-trace-archive-123456789012"
TABLE = "lambda-trace-OrdersTable"


@pytest.fixture(scope="module")
def template() -> Template:
    return load(ROOT / "template.yaml")


@pytest.fixture
def account(moto) -> Iterator[Account]:
    """A provisioned account on the session's moto server; IAM checks are off again afterwards."""
    account = Account(moto.endpoint)
    yield account
    account.enforce_iam(False)


def test_storage_is_created_under_the_local_names(account: Account, template: Template):
    """Buckets and tables exist after provisioning, and provisioning twice is harmless; what
    the runner does not create (the API, the alarms) is named."""
    first = account.create_resources(template)
    second = account.create_resources(template)
    buckets = {b["Name"] for b in account.client("s3").list_buckets()["Buckets"]}
    assert buckets == set(template.buckets.values())
    assert account.client("dynamodb").list_tables()["TableNames"] == [TABLE]
    assert first.physical == second.physical
    assert first.physical["OrdersTable"]["Ref"] == TABLE
    skipped_types = {type_ for _, type_, _ in first.skipped}
    assert "AWS::CloudWatch::Alarm" in skipped_types
    assert "AWS::ApiGateway::RestApi" in skipped_types
    assert first.skipped_line().startswith("not provisioned locally: ")


def test_a_function_gets_exactly_its_roles_permissions(account: Account, template: Template):
    """With IAM enforced, granted actions work and a missing one is a real AccessDenied."""
    account.create_admin()
    account.create_resources(template)
    account.client("s3").put_object(Bucket=UPLOADS, Key="receipts/r.json", Body=b"{}")
    archiver = account.role_credentials(template.function("ReceiptArchiver"))
    orders = account.role_credentials(template.function("OrdersApi"))
    account.enforce_iam()
    s3 = account.client("s3", archiver)
    assert s3.get_object(Bucket=UPLOADS, Key="receipts/r.json")["Body"].read() == b"{}"
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=ARCHIVE, Key="archive/r.json", Body=b"{}")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    dynamodb = account.client("dynamodb", orders)
    dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"S": "b"}})
    with pytest.raises(ClientError, match="not authorized to perform: dynamodb:PutItem"):
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    # The administrator (the runner's own identity) may do anything.
    account.client("s3").put_object(Bucket=ARCHIVE, Key="by-admin", Body=b"1")


def test_unknown_credentials_are_refused_once_iam_is_on(account: Account):
    """Enforcement is real: a key moto never issued cannot sign requests."""
    account.create_admin()
    account.enforce_iam()
    from lambda_trace.local.provision import FAKE_CREDENTIALS

    with pytest.raises(ClientError):
        account.client("sqs", FAKE_CREDENTIALS).list_queues()
    account.enforce_iam(False)
    account.client("sqs", FAKE_CREDENTIALS).list_queues()


def test_policies_are_widened_only_where_moto_cannot_check_resources():
    """S3 statements keep their resources; DynamoDB ones become "*" with the same actions."""
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "dynamodb:GetItem"],
                "Resource": ["arn:aws:s3:::b/*", "arn:aws:dynamodb:us-east-1:1:table/t"],
            },
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b"},
        ]
    }
    assert _for_moto(document)["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": ["arn:aws:s3:::b/*", "arn:aws:dynamodb:us-east-1:1:table/t"],
        },
        {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": "arn:aws:s3:::b"},
    ]
