"""What ``Ref`` and ``Fn::GetAtt`` return for each resource type, as CloudFormation returns them.

Each type's "Return values" section in the CloudFormation resource reference
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-template-resource-type-ref.html)
says what ``Ref`` gives (a name for a bucket, table, parameter or bus; the URL for a queue; the
ARN for a topic or a secret; the key id for a KMS key) and which attributes ``Fn::GetAtt``
knows. Values computed here are *predictions* from the resource's name; once the runner has
created a resource, what the service answered (a secret's ARN with its random suffix, a KMS
key's id, a table's stream ARN) replaces them (see ``provision_resources``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Callable

#: resource type -> the property that names it explicitly (Name properties are honoured)
NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SSM::Parameter": "Name",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::Logs::LogGroup": "LogGroupName",
}


@dataclass(frozen=True)
class Where:
    """The account a resource lives in."""

    region: str
    account: str


Attribute = Callable[[str, Where], str]

#: resource type -> (what Ref returns, {attribute: value}), both computed from the name
_VALUES: dict[str, tuple[Attribute, dict[str, Attribute]]] = {
    "AWS::S3::Bucket": (
        lambda name, w: name,
        {
            "Arn": lambda name, w: f"arn:aws:s3:::{name}",
            "DomainName": lambda name, w: f"{name}.s3.amazonaws.com",
            "RegionalDomainName": lambda name, w: f"{name}.s3.{w.region}.amazonaws.com",
            "DualStackDomainName": lambda name, w: f"{name}.s3.dualstack.{w.region}.amazonaws.com",
            "WebsiteURL": lambda name, w: f"http://{name}.s3-website-{w.region}.amazonaws.com",
        },
    ),
    "AWS::DynamoDB::Table": (
        lambda name, w: name,
        {
            "Arn": lambda name, w: f"arn:aws:dynamodb:{w.region}:{w.account}:table/{name}",
            # The real label is the creation time; the created table's own ARN replaces this.
            "StreamArn": lambda name, w: (
                f"arn:aws:dynamodb:{w.region}:{w.account}:table/{name}/stream/local"
            ),
        },
    ),
    "AWS::SQS::Queue": (
        lambda name, w: f"https://sqs.{w.region}.amazonaws.com/{w.account}/{name}",
        {
            "Arn": lambda name, w: f"arn:aws:sqs:{w.region}:{w.account}:{name}",
            "QueueName": lambda name, w: name,
            "QueueUrl": lambda name, w: f"https://sqs.{w.region}.amazonaws.com/{w.account}/{name}",
        },
    ),
    "AWS::SNS::Topic": (
        lambda name, w: f"arn:aws:sns:{w.region}:{w.account}:{name}",
        {
            "TopicArn": lambda name, w: f"arn:aws:sns:{w.region}:{w.account}:{name}",
            "TopicName": lambda name, w: name,
        },
    ),
    "AWS::SNS::Subscription": (
        lambda name, w: f"arn:aws:sns:{w.region}:{w.account}:{name}:local",
        {"Arn": lambda name, w: f"arn:aws:sns:{w.region}:{w.account}:{name}:local"},
    ),
    # Secrets Manager appends "-" and six random characters; without provisioning the ARN
    # stays partial (Secrets Manager accepts a partial ARN as a SecretId).
    "AWS::SecretsManager::Secret": (
        lambda name, w: f"arn:aws:secretsmanager:{w.region}:{w.account}:secret:{name}",
        {"Id": lambda name, w: f"arn:aws:secretsmanager:{w.region}:{w.account}:secret:{name}"},
    ),
    "AWS::SSM::Parameter": (
        lambda name, w: name,
        {
            "Arn": lambda name, w: (
                f"arn:aws:ssm:{w.region}:{w.account}:parameter/{name.lstrip('/')}"
            ),
        },
    ),
    # A key has no name; KMS picks its id. The prediction is a stable UUID from the logical id.
    "AWS::KMS::Key": (
        lambda name, w: _key_id(name),
        {
            "KeyId": lambda name, w: _key_id(name),
            "Arn": lambda name, w: f"arn:aws:kms:{w.region}:{w.account}:key/{_key_id(name)}",
        },
    ),
    "AWS::KMS::Alias": (lambda name, w: name, {}),
    "AWS::Events::EventBus": (
        lambda name, w: name,
        {
            "Name": lambda name, w: name,
            "Arn": lambda name, w: f"arn:aws:events:{w.region}:{w.account}:event-bus/{name}",
        },
    ),
    "AWS::Events::Rule": (
        lambda name, w: name,
        {"Arn": lambda name, w: f"arn:aws:events:{w.region}:{w.account}:rule/{name}"},
    ),
    "AWS::Lambda::Function": (
        lambda name, w: name,
        {"Arn": lambda name, w: f"arn:aws:lambda:{w.region}:{w.account}:function:{name}"},
    ),
    "AWS::Lambda::LayerVersion": (
        lambda name, w: f"arn:aws:lambda:{w.region}:{w.account}:layer:{name}:1",
        {},
    ),
    "AWS::IAM::Role": (
        lambda name, w: name,
        {"Arn": lambda name, w: f"arn:aws:iam::{w.account}:role/{name}"},
    ),
    "AWS::Logs::LogGroup": (
        lambda name, w: name,
        {"Arn": lambda name, w: f"arn:aws:logs:{w.region}:{w.account}:log-group:{name}:*"},
    ),
}


def default_name(type_: str, stack: str, logical_id: str, fifo: bool = False) -> str:
    """The name a resource gets when the template gives none (deterministic, unlike AWS's)."""
    name = f"{stack}-{logical_id}"
    if type_ == "AWS::S3::Bucket":
        return name.lower()  # bucket names are lowercase only
    if type_ == "AWS::KMS::Alias":
        return f"alias/{name}"
    if fifo and type_ in ("AWS::SQS::Queue", "AWS::SNS::Topic"):
        return name + ".fifo"  # CloudFormation's generated FIFO names end in .fifo too
    return name


def ref(type_: str, name: str, where: Where) -> str:
    """What ``Ref`` returns for a resource of this type and name (its name when unknown)."""
    known = _VALUES.get(type_)
    return known[0](name, where) if known else name


def get_att(type_: str, name: str, attribute: str, where: Where) -> str | None:
    """The attribute's predicted value, or None when the type does not document it."""
    known = _VALUES.get(type_)
    compute = known[1].get(attribute) if known else None
    return compute(name, where) if compute else None


def attributes(type_: str) -> list[str]:
    """The Fn::GetAtt attributes documented for this type."""
    known = _VALUES.get(type_)
    return sorted(known[1]) if known else []


def _key_id(logical_name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"lambda-trace:kms:{logical_name}"))
