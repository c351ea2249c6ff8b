"""Provisioning a template's resources in moto: order, idempotence, and what is not created."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_trace.local.intrinsics import Resolver, TemplateError
from lambda_trace.local.provision import Account
from lambda_trace.local.resources import discover, provision, table_params


def _provision(moto, resources: dict[str, Any], **kwargs: Any):
    account = Account(moto.endpoint)
    resolver = Resolver({"Resources": resources}, stack_name="t", **kwargs)
    return account, resolver, provision(account.client, resolver)


def test_dependencies_are_created_first_and_their_values_flow_in(moto):
    """A queue naming its DLQ by GetAtt is created after it, whatever the template's order;
    FIFO queues get CloudFormation's .fifo name."""
    resources = {
        "Main": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "FifoQueue": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["Dead", "Arn"]},
                    "maxReceiveCount": 5,
                },
            },
        },
        "Dead": {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True}},
    }
    account, _, done = _provision(moto, resources)
    assert done.created == ["Dead", "Main"]
    assert done.physical["Main"]["QueueName"] == "t-Main.fifo"
    sqs = account.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=done.physical["Main"]["QueueUrl"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes["FifoQueue"] == "true"
    assert done.physical["Dead"]["Arn"] in attributes["RedrivePolicy"]


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


def test_deliveries_to_functions_are_named_not_attempted(moto):
    """SNS subscriptions and rule targets that point at a Lambda function cannot reach the
    local runner: they are listed as not provisioned; the rest of the resource is created."""
    function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    resources = {
        "Topic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"Subscription": [{"Protocol": "lambda", "Endpoint": function_arn}]},
        },
        "Rule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "ScheduleExpression": "rate(1 minute)",
                "Targets": [{"Id": "fn", "Arn": function_arn}],
            },
        },
        "Api": {"Type": "AWS::ApiGateway::RestApi"},
        "Fn": {"Type": "AWS::Lambda::Function"},
    }
    account, _, done = _provision(moto, resources)
    assert sorted(done.created) == ["Rule", "Topic"]
    assert done.skipped_line() == (
        "not provisioned locally: Api (AWS::ApiGateway::RestApi), "
        "Topic.Subscription[0] (AWS::SNS::Subscription: not delivered to local functions), "
        "Rule.Targets.fn (AWS::Events::Rule: not delivered to local functions)"
    )
    assert account.client("sns").list_subscriptions()["Subscriptions"] == []


def test_a_service_refusal_names_the_resource(moto):
    """What the service refuses is one TemplateError line naming the resource, no traceback."""
    resources = {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "no spaces"}}}
    with pytest.raises(TemplateError, match=r"^cannot create Q \(AWS::SQS::Queue\): ") as error:
        _provision(moto, resources)
    assert "\n" not in str(error.value) and "InvalidParameterValue" in str(error.value)


def test_a_dependency_cycle_is_reported():
    """Two resources naming each other cannot be ordered."""
    resources = {
        "A": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "B"}}},
        "B": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "${A}"}}},
    }
    resolver = Resolver({"Resources": resources})
    with pytest.raises(TemplateError, match="circular dependency between resources: A -> B -> A"):
        provision(lambda service: None, resolver)


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
