"""Secrets and keys: Secrets Manager secrets, SSM parameters, KMS keys and aliases."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lambda_trace.local.resource_context import Context, Values, as_bool, json_text, predicted


def create_secret(context: Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
    secrets = context.client("secretsmanager")
    kwargs: dict[str, Any] = {"Name": name}
    for key in ("Description", "KmsKeyId", "Tags"):
        if props.get(key):
            kwargs[key] = props[key]
    if "SecretString" in props:
        kwargs["SecretString"] = str(props["SecretString"])
    elif isinstance(props.get("GenerateSecretString"), Mapping):
        kwargs["SecretString"] = _generated_secret(secrets, props["GenerateSecretString"])
    # Neither: an empty secret, as CloudFormation creates one.
    try:
        arn = secrets.create_secret(**kwargs)["ARN"]
    except secrets.exceptions.ResourceExistsException:
        arn = secrets.describe_secret(SecretId=name)["ARN"]
    return {"Ref": arn, "Id": arn}


def find_secret(context: Context, logical_id: str, name: str) -> Values | None:
    arn = context.client("secretsmanager").describe_secret(SecretId=name)["ARN"]
    return {"Ref": arn, "Id": arn}


def _generated_secret(secrets: Any, spec: Mapping[str, Any]) -> str:
    """GenerateSecretString: a random password, alone or as one key of SecretStringTemplate."""
    flags = (
        "ExcludeLowercase",
        "ExcludeNumbers",
        "ExcludePunctuation",
        "ExcludeUppercase",
        "IncludeSpace",
        "RequireEachIncludedType",
    )
    kwargs: dict[str, Any] = {key: as_bool(spec[key]) for key in flags if key in spec}
    if "PasswordLength" in spec:
        kwargs["PasswordLength"] = int(spec["PasswordLength"])
    if "ExcludeCharacters" in spec:
        kwargs["ExcludeCharacters"] = str(spec["ExcludeCharacters"])
    password = secrets.get_random_password(**kwargs)["RandomPassword"]
    template, key = spec.get("SecretStringTemplate"), spec.get("GenerateStringKey")
    if template and key:
        document = json.loads(str(template))
        document[str(key)] = password
        return json.dumps(document)
    return str(password)


def create_parameter(
    context: Context, logical_id: str, props: Mapping[str, Any], name: str
) -> Values:
    ssm = context.client("ssm")
    kwargs: dict[str, Any] = {
        "Name": name,
        "Value": str(props.get("Value", "")),
        "Type": str(props.get("Type", "String")),
        "Overwrite": True,
    }
    for key in ("Description", "AllowedPattern", "Tier", "DataType"):
        if props.get(key):
            kwargs[key] = str(props[key])
    ssm.put_parameter(**kwargs)
    tags = props.get("Tags")
    if isinstance(tags, Mapping) and tags:  # a map here, unlike most types' Key/Value lists
        ssm.add_tags_to_resource(
            ResourceType="Parameter",
            ResourceId=name,
            Tags=[{"Key": k, "Value": str(v)} for k, v in tags.items()],
        )
    values = predicted(context, logical_id)
    values.update(Ref=name, Type=kwargs["Type"], Value=kwargs["Value"])
    return values


#: Tag that finds the key created for a logical id again (a key has no name to look up).
_KEY_TAG = "lambda-trace:logical-id"


def create_key(context: Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
    kms = context.client("kms")
    tag_value = f"{context.stack}/{logical_id}"
    key = _existing_key(kms, tag_value)
    if key is None:
        kwargs: dict[str, Any] = {
            "Tags": [{"TagKey": _KEY_TAG, "TagValue": tag_value}]
            + [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in props.get("Tags") or []],
        }
        for key_name in ("Description", "KeyUsage", "KeySpec"):
            if props.get(key_name):
                kwargs[key_name] = str(props[key_name])
        if props.get("KeyPolicy"):
            kwargs["Policy"] = json_text(props["KeyPolicy"])
        key = kms.create_key(**kwargs)["KeyMetadata"]
        if as_bool(props.get("EnableKeyRotation", False)):
            kms.enable_key_rotation(KeyId=key["KeyId"])
        if not as_bool(props.get("Enabled", True)):
            kms.disable_key(KeyId=key["KeyId"])
    return {"Ref": key["KeyId"], "KeyId": key["KeyId"], "Arn": key["Arn"]}


def find_key(context: Context, logical_id: str, name: str) -> Values | None:
    key = _existing_key(context.client("kms"), f"{context.stack}/{logical_id}")
    return {"Ref": key["KeyId"], "KeyId": key["KeyId"], "Arn": key["Arn"]} if key else None


def _existing_key(kms: Any, tag_value: str) -> dict[str, Any] | None:
    for page in kms.get_paginator("list_keys").paginate():
        for entry in page["Keys"]:
            tags = kms.list_resource_tags(KeyId=entry["KeyId"]).get("Tags") or []
            if {"TagKey": _KEY_TAG, "TagValue": tag_value} in tags:
                return dict(kms.describe_key(KeyId=entry["KeyId"])["KeyMetadata"])
    return None


def create_alias(context: Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
    kms = context.client("kms")
    target = str(props.get("TargetKeyId", ""))
    try:
        kms.create_alias(AliasName=name, TargetKeyId=target)
    except kms.exceptions.AlreadyExistsException:
        kms.update_alias(AliasName=name, TargetKeyId=target)
    return {"Ref": name}
