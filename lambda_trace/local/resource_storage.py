"""Storage resources: S3 buckets, DynamoDB tables and CloudWatch Logs groups."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from lambda_trace.local.resource_context import Context, Values, as_bool, predicted


def table_params(props: Mapping[str, Any], name: str) -> dict[str, Any]:
    """CreateTable parameters from an ``AWS::DynamoDB::Table``'s resolved properties."""
    params: dict[str, Any] = {"TableName": name}
    for key in ("AttributeDefinitions", "KeySchema", "BillingMode", "SSESpecification"):
        if key in props:
            params[key] = props[key]
    if "ProvisionedThroughput" in props:
        params["ProvisionedThroughput"] = _throughput(props["ProvisionedThroughput"])
    else:
        params.setdefault("BillingMode", "PAY_PER_REQUEST")
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if props.get(key):
            params[key] = [_index(index) for index in props[key]]
    stream = props.get("StreamSpecification")
    if isinstance(stream, Mapping) and stream.get("StreamViewType"):
        # CloudFormation has only the view type; the API also wants StreamEnabled.
        params["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    sse = params.get("SSESpecification")
    if isinstance(sse, Mapping):
        params["SSESpecification"] = {
            key: (as_bool(value) if key == "SSEEnabled" else value)
            for key, value in sse.items()
            if key in ("SSEEnabled", "SSEType", "KMSMasterKeyId")
        }
    return params


def create_bucket(context: Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
    s3 = context.client("s3")
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=name)
    status = (props.get("VersioningConfiguration") or {}).get("Status")
    if status:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
    if props.get("Tags"):
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": props["Tags"]})
    return predicted(context, logical_id)


def create_table(context: Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
    dynamodb = context.client("dynamodb")
    params = table_params(props, name)
    if props.get("Tags"):
        params["Tags"] = props["Tags"]
    try:
        table = dynamodb.create_table(**params)["TableDescription"]
    except dynamodb.exceptions.ResourceInUseException:
        table = dynamodb.describe_table(TableName=name)["Table"]
    ttl = props.get("TimeToLiveSpecification")
    if isinstance(ttl, Mapping) and as_bool(ttl.get("Enabled")):
        with contextlib.suppress(dynamodb.exceptions.ClientError):  # already on
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
    values = {"Ref": name, "Arn": table["TableArn"]}
    if table.get("LatestStreamArn"):
        values["StreamArn"] = table["LatestStreamArn"]
    return values


def find_table(context: Context, logical_id: str, name: str) -> Values | None:
    table = context.client("dynamodb").describe_table(TableName=name)["Table"]
    values = {"Ref": name, "Arn": table["TableArn"]}
    if table.get("LatestStreamArn"):
        values["StreamArn"] = table["LatestStreamArn"]
    return values


def create_log_group(
    context: Context, logical_id: str, props: Mapping[str, Any], name: str
) -> Values:
    logs = context.client("logs")
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=name)
    if props.get("RetentionInDays"):
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
    return predicted(context, logical_id)


def _throughput(value: Mapping[str, Any]) -> dict[str, int]:
    return {key: int(value[key]) for key in ("ReadCapacityUnits", "WriteCapacityUnits")}


def _index(index: Mapping[str, Any]) -> dict[str, Any]:
    """An index as the API takes it (CloudFormation adds settings CreateTable does not know)."""
    out = {key: index[key] for key in ("IndexName", "KeySchema", "Projection") if key in index}
    if "ProvisionedThroughput" in index:
        out["ProvisionedThroughput"] = _throughput(index["ProvisionedThroughput"])
    return out
