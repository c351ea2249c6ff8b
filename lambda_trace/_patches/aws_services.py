"""Per-service knowledge as data: which request parameter NAMES identify the resource acted on.

Only names on this allow-list are ever read, and only resource identifiers (bucket, table, queue,
topic, function, secret id, parameter name, stream...) are on it: never keys, items, bodies,
messages, phone numbers or any other value a request carries.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

Params = dict[str, Any]
TargetFn = Callable[[Params], Optional[str]]

#: Longest target we write; identifiers are short, anything longer is not one.
MAX_TARGET_CHARS = 256


def _param(*names: str) -> TargetFn:
    """The first of ``names`` present in the request, as a string."""

    def target(params: Params) -> Optional[str]:
        for name in names:
            value = params.get(name)
            if isinstance(value, str) and value:
                return value
        return None

    return target


def _last_segment(*names: str, sep: str = "/") -> TargetFn:
    """Like ``_param`` but only the last ``sep``-separated part (queue name from a queue URL)."""
    first = _param(*names)

    def target(params: Params) -> Optional[str]:
        value = first(params)
        return value.rstrip(sep).rsplit(sep, 1)[-1] if value else None

    return target


def _arn_name(*names: str) -> TargetFn:
    """A name or the resource part of an ARN (``arn:aws:sns:r:1:topic`` -> ``topic``)."""
    first = _param(*names)

    def target(params: Params) -> Optional[str]:
        value = first(params)
        if value and value.startswith("arn:"):
            return value.split(":", 5)[-1]
        return value

    return target


def _lambda_function(params: Params) -> Optional[str]:
    # FunctionName may be a name, a partial or full ARN, with a :qualifier suffix.
    value = params.get("FunctionName")
    if not isinstance(value, str) or not value:
        return None
    if value.startswith("arn:"):
        parts = value.split(":")
        return parts[6] if len(parts) > 6 else value
    return value.split(":", 1)[0]


def _dynamodb(params: Params) -> Optional[str]:
    table = params.get("TableName")
    if isinstance(table, str) and table:
        return table
    # Batch operations: the tables are the KEYS of RequestItems; the values are never read.
    items = params.get("RequestItems")
    if isinstance(items, dict) and items:
        return ",".join(sorted(str(k) for k in items))
    transact = params.get("TransactItems")
    if isinstance(transact, list):
        tables = set()
        for entry in transact:
            if isinstance(entry, dict):
                for action in entry.values():
                    if isinstance(action, dict) and isinstance(action.get("TableName"), str):
                        tables.add(action["TableName"])
        return ",".join(sorted(tables)) or None
    return None


def _ssm(params: Params) -> Optional[str]:
    name = _param("Name", "Path")(params)
    if name:
        return name
    names = params.get("Names")
    if isinstance(names, list) and names:
        return ",".join(str(n) for n in names[:5]) + (",…" if len(names) > 5 else "")
    return None


#: botocore service name -> how to name the resource from the request parameters.
TARGETS: dict[str, TargetFn] = {
    "s3": _param("Bucket"),
    "dynamodb": _dynamodb,
    "sqs": _last_segment("QueueUrl", "QueueName"),
    "sns": _arn_name("TopicArn", "TargetArn"),
    "lambda": _lambda_function,
    "secretsmanager": _param("SecretId", "Name"),
    "ssm": _ssm,
    "kinesis": _arn_name("StreamName", "StreamARN"),
    "firehose": _param("DeliveryStreamName"),
    "stepfunctions": _arn_name("stateMachineArn", "executionArn", "name"),
    "events": _param("EventBusName", "Name"),
    "sts": _arn_name("RoleArn"),
    "kms": _param("KeyId"),
    "logs": _param("logGroupName", "logGroupIdentifier"),
    "cloudwatch": _param("Namespace"),
    "athena": _param("WorkGroup", "QueryExecutionId"),
    "glue": _param("DatabaseName", "JobName"),
    "ecs": _param("cluster"),
    "rds-data": _arn_name("resourceArn"),
    "cognito-idp": _param("UserPoolId"),
    "sagemaker-runtime": _param("EndpointName"),
    "bedrock-runtime": _param("modelId"),
    "appconfigdata": _param("ApplicationIdentifier"),
    "apigatewaymanagementapi": _param("ConnectionId"),
    "ses": _param("ConfigurationSetName"),
    "sesv2": _param("ConfigurationSetName"),
    "dynamodbstreams": _arn_name("StreamArn"),
    "scheduler": _param("Name"),
    "elasticache": _param("CacheClusterId", "ReplicationGroupId"),
}


def target(service: str, params: Any) -> Optional[str]:
    """The resource a request acts on, or None; never raises."""
    fn = TARGETS.get(service)
    if fn is None or not isinstance(params, dict):
        return None
    try:
        value = fn(params)
    except Exception:  # third-party data; a bad shape means "unknown"
        return None
    if value is None:
        return None
    return value if len(value) <= MAX_TARGET_CHARS else value[: MAX_TARGET_CHARS - 1] + "…"
