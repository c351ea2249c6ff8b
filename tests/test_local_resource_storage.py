"""Storage resources: S3 buckets, DynamoDB tables, CloudWatch Logs groups."""

from __future__ import annotations

from resource_support import provision_in

from lambda_trace.local.resource_storage import table_params


def test_table_parameters_are_what_create_table_accepts():
    """CloudFormation-only settings are dropped; StreamSpecification gains StreamEnabled."""
    props = {
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": "5", "WriteCapacityUnits": 2},
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "g",
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                "ContributorInsightsSpecification": {"Enabled": True},
            }
        ],
        "StreamSpecification": {"StreamViewType": "KEYS_ONLY"},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": "true"},
    }
    params = table_params(props, "t")
    assert params["ProvisionedThroughput"] == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 2}
    assert "ContributorInsightsSpecification" not in params["GlobalSecondaryIndexes"][0]
    assert params["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    assert params["SSESpecification"] == {"SSEEnabled": True}
    assert "PointInTimeRecoverySpecification" not in params and "BillingMode" not in params


def test_a_bucket_a_table_and_a_log_group_are_created_with_their_settings(moto) -> None:
    resources = {
        "Bucket": {"Type": "AWS::S3::Bucket",
                   "Properties": {"VersioningConfiguration": {"Status": "Enabled"}}},
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "TimeToLiveSpecification": {"Enabled": "true", "AttributeName": "expires"},
            },
        },
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
    }
    account, resolver, done = provision_in(moto, resources)
    bucket = resolver.physical_name("Bucket")
    assert done.physical["Bucket"]["Ref"] == bucket
    assert account.client("s3").get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    table = account.client("dynamodb").describe_time_to_live(TableName="t-Table")
    assert table["TimeToLiveDescription"]["AttributeName"] == "expires"
    assert done.physical["Table"]["Arn"].endswith(":table/t-Table")
    group = done.physical["Logs"]["Ref"]
    groups = account.client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [(g["logGroupName"], g.get("retentionInDays")) for g in groups] == [(group, 7)]
