"""``resources``, the entry point: provisioning a template in moto twice, a service's refusal,
and discovering what already exists. Each family of types has its own module
(test_local_resource_storage, _messaging, _secrets; the order: test_local_resource_order)."""

from __future__ import annotations

import pytest
from resource_support import provision_in as _provision

from lambda_trace.local.intrinsics import Resolver, TemplateError
from lambda_trace.local.resources import discover


def test_provisioning_twice_finds_the_same_resources(moto):
    """Secrets, keys (found again by tag), buses and tables are not duplicated."""
    resources = {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"Description": "k"}},
        "Secret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {"Name": "s", "KmsKeyId": {"Ref": "Key"}, "SecretString": "v"},
        },
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "b"}},
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            },
        },
    }
    account, _, first = _provision(moto, resources)
    _, _, second = _provision(moto, resources)
    assert first.physical == second.physical
    assert len(account.client("kms").list_keys()["Keys"]) == 1
    assert first.physical["Secret"]["Ref"].startswith(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-"
    )


def test_a_service_refusal_names_the_resource(moto):
    """What the service refuses is one TemplateError line naming the resource, no traceback."""
    resources = {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "no spaces"}}}
    with pytest.raises(TemplateError, match=r"^cannot create Q \(AWS::SQS::Queue\): ") as error:
        _provision(moto, resources)
    assert "\n" not in str(error.value) and "InvalidParameterValue" in str(error.value)


def test_existing_resources_are_discovered_without_provisioning(moto):
    """At an endpoint where they already exist, a secret's full ARN, a key's id (a key this
    runner created) and a table's stream ARN replace the predictions; absent ones stay out."""
    resources = {
        "Key": {"Type": "AWS::KMS::Key"},
        "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"SecretString": "v"}},
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "StreamSpecification": {"StreamViewType": "KEYS_ONLY"},
            },
        },
        "Queue": {"Type": "AWS::SQS::Queue"},
    }
    account, _, created = _provision(moto, {k: v for k, v in resources.items() if k != "Queue"})
    found = discover(account.client, Resolver({"Resources": resources}, stack_name="t"))
    assert found == created.physical  # the queue was never created: not found, no error
    assert found["Table"]["StreamArn"].startswith(
        "arn:aws:dynamodb:us-east-1:123456789012:table/t-Table/stream/"
    )


def test_an_ssm_parameter_reference_needs_its_value():
    """AWS::SSM::Parameter::Value<String> is read from SSM at deploy time; locally -p gives it."""
    template = {
        "Parameters": {"Ami": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/ami"}},
        "Resources": {},
    }
    with pytest.raises(TemplateError, match="give its value with -p Ami=VALUE"):
        Resolver(template).resolve({"Ref": "Ami"}, "Resources.F")
    assert Resolver(template, parameters={"Ami": "ami-1"}).resolve({"Ref": "Ami"}) == "ami-1"
