"""Secrets and keys: Secrets Manager secrets, SSM parameters, KMS keys and aliases."""

from __future__ import annotations

import json

from resource_support import provision_in


def test_a_generated_secret_fills_its_key_of_the_template(moto) -> None:
    resources = {
        "Secret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "GenerateSecretString": {
                    "SecretStringTemplate": '{"username": "app"}',
                    "GenerateStringKey": "password",
                    "PasswordLength": 24,
                    "ExcludePunctuation": "true",
                }
            },
        }
    }
    account, _, done = provision_in(moto, resources)
    arn = done.physical["Secret"]["Ref"]
    document = json.loads(
        account.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    )
    assert document["username"] == "app"
    assert len(document["password"]) == 24 and document["password"].isalnum()


def test_a_parameter_s_value_and_type_are_its_attributes(moto) -> None:
    resources = {
        "Param": {"Type": "AWS::SSM::Parameter",
                  "Properties": {"Name": "/app/mode", "Type": "String", "Value": "fast",
                                 "Tags": {"team": "orders"}}},
    }
    account, _, done = provision_in(moto, resources)
    assert done.physical["Param"] == {
        "Ref": "/app/mode", "Type": "String", "Value": "fast",
        "Arn": "arn:aws:ssm:us-east-1:123456789012:parameter/app/mode",
    }
    ssm = account.client("ssm")
    assert ssm.get_parameter(Name="/app/mode")["Parameter"]["Value"] == "fast"
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/app/mode")
    assert tags["TagList"] == [{"Key": "team", "Value": "orders"}]


def test_an_alias_points_at_the_key_and_moves_when_provisioned_again(moto) -> None:
    resources = {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"Description": "k"}},
        "Alias": {"Type": "AWS::KMS::Alias",
                  "Properties": {"AliasName": "alias/app", "TargetKeyId": {"Ref": "Key"}}},
    }
    account, _, first = provision_in(moto, resources)
    _, _, second = provision_in(moto, resources)
    assert first.physical == second.physical
    aliases = account.client("kms").list_aliases()["Aliases"]
    assert [a["TargetKeyId"] for a in aliases if a["AliasName"] == "alias/app"] == [
        first.physical["Key"]["KeyId"]
    ]
