"""Intrinsic functions resolve to deterministic local values, or fail with a clear message."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_trace.local import return_values
from lambda_trace.local.intrinsics import NO_VALUE, Resolver, TemplateError

TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Stage": {"Type": "String", "Default": "dev"},
        "Subnets": {"Type": "CommaDelimitedList", "Default": "a,b"},
        "Required": {"Type": "String"},
    },
    "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
    "Mappings": {"Sizes": {"dev": {"Memory": 256}}},
    "Resources": {
        "Uploads": {"Type": "AWS::S3::Bucket"},
        "Named": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": {"Fn::Sub": "${AWS::StackName}-named"}},
        },
        "Orders": {"Type": "AWS::DynamoDB::Table"},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "my-fn"}},
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Loop": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Ref": "Loop"}}},
        "ProdOnly": {"Type": "AWS::S3::Bucket", "Condition": "IsProd"},
        "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": "app/db"}},
        "Fifo": {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "events"}},
        "Param": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Name": "/app/currency", "Type": "String", "Value": "EUR"},
        },
        "Key": {"Type": "AWS::KMS::Key"},
        "KeyAlias": {"Type": "AWS::KMS::Alias", "Properties": {"TargetKeyId": {"Ref": "Key"}}},
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "orders"}},
        "Group": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/app/logs"}},
    },
}

#: What CloudFormation's "Return values" sections say Ref and Fn::GetAtt give, per type:
#: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-template-resource-type-ref.html
RETURN_VALUES = [
    ({"Ref": "Secret"}, "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db"),
    (
        {"Fn::GetAtt": ["Secret", "Id"]},
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db",
    ),
    (
        {"Fn::GetAtt": ["Queue", "QueueUrl"]},
        "https://sqs.us-east-1.amazonaws.com/123456789012/Demo-Queue",
    ),
    ({"Fn::GetAtt": ["Queue", "QueueName"]}, "Demo-Queue"),
    ({"Fn::GetAtt": ["Fifo", "QueueName"]}, "Demo-Fifo.fifo"),  # FIFO names end in .fifo
    ({"Ref": "Topic"}, "arn:aws:sns:us-east-1:123456789012:events"),
    ({"Fn::GetAtt": ["Topic", "TopicName"]}, "events"),
    ({"Ref": "Param"}, "/app/currency"),
    ({"Fn::GetAtt": ["Param", "Value"]}, "EUR"),  # a property of a registry type
    ({"Fn::GetAtt": ["Param", "Type"]}, "String"),
    ({"Ref": "KeyAlias"}, "alias/Demo-KeyAlias"),
    ({"Ref": "Bus"}, "orders"),
    ({"Fn::GetAtt": ["Bus", "Arn"]}, "arn:aws:events:us-east-1:123456789012:event-bus/orders"),
    ({"Ref": "Group"}, "/app/logs"),
    ({"Fn::GetAtt": ["Group", "Arn"]}, "arn:aws:logs:us-east-1:123456789012:log-group:/app/logs:*"),
    ({"Fn::GetAtt": ["Uploads", "RegionalDomainName"]}, "demo-uploads.s3.us-east-1.amazonaws.com"),
    (
        {"Fn::GetAtt": ["Orders", "StreamArn"]},
        "arn:aws:dynamodb:us-east-1:123456789012:table/Demo-Orders/stream/local",
    ),
]


@pytest.fixture
def resolver() -> Resolver:
    return Resolver(TEMPLATE, stack_name="Demo")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Stage"}, "dev"),
        ({"Ref": "AWS::Region"}, "us-east-1"),
        ({"Ref": "AWS::AccountId"}, "123456789012"),
        ({"Ref": "Uploads"}, "demo-uploads"),  # bucket names are lowercase
        ({"Ref": "Named"}, "Demo-named"),
        ({"Ref": "Orders"}, "Demo-Orders"),
        ({"Ref": "Fn"}, "my-fn"),
        ({"Ref": "Queue"}, "https://sqs.us-east-1.amazonaws.com/123456789012/Demo-Queue"),
        (
            {"Fn::GetAtt": ["Orders", "Arn"]},
            "arn:aws:dynamodb:us-east-1:123456789012:table/Demo-Orders",
        ),
        ({"Fn::GetAtt": "Uploads.Arn"}, "arn:aws:s3:::demo-uploads"),
        (
            {"Fn::Sub": "${Uploads}/${AWS::Region}/${Fn.Arn}/${!Literal}"},
            "demo-uploads/us-east-1/arn:aws:lambda:us-east-1:123456789012:function:my-fn/${Literal}",
        ),
        ({"Fn::Sub": ["${x}-${Stage}", {"x": {"Ref": "Orders"}}]}, "Demo-Orders-dev"),
        ({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}, "a-dev"),
        ({"Fn::Select": [1, {"Ref": "Subnets"}]}, "b"),
        ({"Fn::Split": [",", "x,y"]}, ["x", "y"]),
        ({"Fn::If": ["IsProd", "big", "small"]}, "small"),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}, 256),
        ({"Fn::Base64": "hi"}, "aGk="),
        ({"a": {"Ref": "AWS::NoValue"}, "b": 1}, {"b": 1}),
    ],
)
def test_values_resolve(resolver: Resolver, value: Any, expected: Any):
    """Each intrinsic yields the value CloudFormation would, with local names and account."""
    assert resolver.resolve(value) == expected


@pytest.mark.parametrize(("value", "expected"), RETURN_VALUES)
def test_ref_and_getatt_return_what_cloudformation_returns(
    resolver: Resolver, value: Any, expected: Any
):
    """Secret -> ARN, queue -> URL, topic -> ARN, parameter/bus/table/bucket -> name..."""
    assert resolver.resolve(value) == expected


def test_created_resources_answer_with_the_services_values():
    """Once created, a resource's Ref/GetAtt are what the service said (a secret's suffixed
    ARN, a KMS key's id), also inside Fn::Sub; the rest stays predicted."""
    physical = {
        "Secret": {"Ref": "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf"},
        "Key": {"Ref": "1234abcd-0000", "Arn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd"},
    }
    resolver = Resolver(TEMPLATE, stack_name="Demo", physical=physical)
    assert resolver.resolve({"Ref": "Secret"}).endswith(":secret:app/db-AbCdEf")
    assert resolver.resolve({"Fn::Sub": "key=${Key} arn=${Key.Arn}"}) == (
        "key=1234abcd-0000 arn=arn:aws:kms:us-east-1:123456789012:key/1234abcd"
    )
    assert resolver.resolve({"Fn::GetAtt": ["Secret", "Id"]}).endswith(":secret:app/db")


def test_resources_whose_condition_is_false_are_inactive(resolver: Resolver):
    """A resource's Condition decides whether it exists, as in CloudFormation."""
    assert resolver.active("Uploads") and not resolver.active("ProdOnly")
    prod = Resolver(TEMPLATE, parameters={"Stage": "prod"}, stack_name="Demo")
    assert prod.active("ProdOnly") and prod.resolve({"Ref": "ProdOnly"}) == "demo-prodonly"


def test_no_value_drops_an_item(resolver: Resolver):
    """AWS::NoValue removes a list item as it removes a property."""
    assert resolver.resolve({"Ref": "AWS::NoValue"}) is NO_VALUE
    assert resolver.resolve(["a", {"Ref": "AWS::NoValue"}]) == ["a"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Ref": "Nope"}, "unknown resource or parameter 'Nope'"),
        ({"Ref": "Required"}, "parameter Required has no default"),
        ({"Fn::ImportValue": "x"}, "Fn::ImportValue cannot be resolved locally"),
        ({"Fn::GetAtt": ["Queue", "Nope"]}, "cannot resolve Fn::GetAtt Queue.Nope"),
        ({"Ref": "ProdOnly"}, "ProdOnly, which is not created (its condition IsProd is false)"),
        ({"Ref": "Loop"}, "circular reference through 'Loop'"),
        ({"Fn::If": ["Missing", 1, 2]}, "unknown condition 'Missing'"),
    ],
)
def test_unresolvable_values_fail_clearly(resolver: Resolver, value: Any, message: str):
    """What cannot be resolved locally raises a TemplateError saying what and where."""
    with pytest.raises(TemplateError) as error:
        resolver.resolve(value, "Resources.X.Properties")
    assert message in str(error.value)


def test_parameter_overrides_win_and_unknown_ones_are_refused():
    """Overrides replace defaults; a parameter the template does not declare is an error."""
    assert (
        Resolver(TEMPLATE, parameters={"Stage": "prod"}).resolve(
            {"Fn::If": ["IsProd", "big", "small"]}
        )
        == "big"
    )
    with pytest.raises(TemplateError, match="unknown template parameter"):
        Resolver(TEMPLATE, parameters={"Nope": "1"})


def test_resolve_str_turns_scalars_into_environment_strings(resolver: Resolver):
    """Environment values become strings (booleans as CloudFormation writes them)."""
    assert resolver.resolve_str(True, "x") == "true"
    assert resolver.resolve_str(5, "x") == "5"
    with pytest.raises(TemplateError, match="expected a string"):
        resolver.resolve_str(["a"], "Env.X")


PARAMETERS: dict[str, Any] = {
    "Parameters": {
        "Timeout": {"Type": "Number", "Default": 3, "MinValue": 1, "MaxValue": 900},
        "Stage": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
        "Prefix": {
            "Type": "String",
            "Default": "app",
            "AllowedPattern": "[a-z]+",
            "ConstraintDescription": "lowercase letters only",
            "MaxLength": 8,
        },
        "Sizes": {"Type": "List<Number>", "Default": "128,256"},
        "Flag": {"Type": "String", "Default": True},
    },
    "Resources": {},
}


def test_parameter_values_are_checked_like_cloudformation():
    """Defaults and overrides pass their Type and constraints; Ref gives strings and lists."""
    resolver = Resolver(PARAMETERS, parameters={"Timeout": "30", "Sizes": "512, 1024"})
    assert resolver.resolve({"Ref": "Timeout"}) == "30"  # a Number parameter is a string
    assert resolver.resolve({"Ref": "Sizes"}) == ["512", "1024"]
    assert resolver.resolve({"Ref": "Flag"}) == "true"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Timeout": "abc"}, "parameter Timeout (-p): 'abc' is not a Number"),
        ({"Timeout": "0"}, "parameter Timeout (-p): '0' is less than MinValue 1"),
        ({"Timeout": "901"}, "'901' is more than MaxValue 900"),
        ({"Stage": "qa"}, "parameter Stage (-p): 'qa' is not one of the AllowedValues (dev, prod)"),
        ({"Prefix": "App"}, "'App' does not match AllowedPattern [a-z]+ (lowercase letters only)"),
        ({"Prefix": "abcdefghi"}, "'abcdefghi' is longer than MaxLength 8"),
        ({"Sizes": "128,big"}, "parameter Sizes (-p): 'big' is not a Number"),
    ],
)
def test_bad_parameter_values_fail_with_the_reason(overrides: dict[str, str], message: str):
    """A value that CloudFormation would refuse is a TemplateError naming the rule it breaks."""
    with pytest.raises(TemplateError) as error:
        Resolver(PARAMETERS, parameters=overrides)
    assert message in str(error.value)


def test_a_bad_default_is_reported_as_the_default():
    """CloudFormation checks defaults too; the message says the value came from the template."""
    template = {"Parameters": {"N": {"Type": "Number", "Default": "x"}}, "Resources": {}}
    with pytest.raises(TemplateError, match=r"parameter N \(default\): 'x' is not a Number"):
        Resolver(template)


def _registry_schema(type_: str) -> dict[str, Any]:
    """CloudFormation's resource schema for ``type_``, as cfn-lint ships it."""
    import json
    from importlib import resources

    schemas = resources.files("cfnlint") / "data" / "schemas"
    providers = json.loads((schemas / "providers" / "us-east-1.json").read_text())
    return dict(json.loads((schemas / "resources" / f"{providers[type_]}.json").read_text()))


@pytest.mark.parametrize("type_", sorted(return_values._VALUES))
def test_getatt_attributes_are_the_registry_schemas(type_: str):
    """Every attribute we answer is a read-only property or a property of the type in
    CloudFormation's registry schema (cfn-lint's copy), so none is invented."""
    schema = _registry_schema(type_)
    known = {p.split("/")[-1] for p in schema.get("readOnlyProperties", [])}
    known |= set(schema.get("properties", {}))
    assert set(return_values.attributes(type_)) <= known


@pytest.mark.parametrize(
    ("type_", "identifier"),
    [
        ("AWS::S3::Bucket", "BucketName"),
        ("AWS::DynamoDB::Table", "TableName"),
        ("AWS::SQS::Queue", "QueueUrl"),
        ("AWS::SNS::Topic", "TopicArn"),
        ("AWS::SNS::Subscription", "Arn"),
        ("AWS::SecretsManager::Secret", "Id"),
        ("AWS::SSM::Parameter", "Name"),
        ("AWS::KMS::Key", "KeyId"),
        ("AWS::KMS::Alias", "AliasName"),
        ("AWS::Events::EventBus", "Name"),
        ("AWS::Logs::LogGroup", "LogGroupName"),
    ],
)
def test_ref_is_the_registry_primary_identifier(type_: str, identifier: str):
    """Ref returns a registry type's primary identifier; ours is the same attribute (the
    queue's URL, the secret's ARN, the key's id...). Events::Rule is the documented
    exception (name, not its ARN identifier) and is not listed."""
    assert _registry_schema(type_)["primaryIdentifier"] == [f"/properties/{identifier}"]
    where = return_values.Where("us-east-1", "123456789012")
    ref = return_values.ref(type_, "x", where)
    getatt = return_values.get_att(type_, "x", identifier, where)
    assert ref == (getatt if getatt is not None else "x")
