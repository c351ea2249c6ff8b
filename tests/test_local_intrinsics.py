"""Intrinsic functions resolve to deterministic local values, or fail with a clear message."""

from __future__ import annotations

from typing import Any

import pytest

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
    },
}


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
        ({"Fn::GetAtt": ["Queue", "QueueUrl"]}, "cannot resolve Fn::GetAtt Queue.QueueUrl"),
        ({"Ref": "Loop"}, "circular reference through 'Loop'"),
        ({"Fn::If": ["Missing", 1, 2]}, "unknown condition 'Missing'"),
    ],
)
def test_unresolvable_values_fail_clearly(resolver: Resolver, value: Any, message: str):
    """What cannot be resolved locally raises a TemplateError saying what and where."""
    with pytest.raises(TemplateError, match=message.replace("(", r"\(")):
        resolver.resolve(value, "Resources.X.Properties")


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
