"""Create the resources a template declares, in dependency order, the way CloudFormation would.

Each supported type maps its CloudFormation properties onto the service's create call (the
property names mostly are the API's) and records what the service answered: ``Ref`` and the
``Fn::GetAtt`` attributes (a queue's URL and ARN, a secret's ARN with its random suffix, a KMS
key's id, a table's stream ARN). Those answers are resolved into the resources created after
them (a queue's ``RedrivePolicy`` naming its DLQ's ARN, a subscription naming a topic) and into
the functions' environment. Creating twice is harmless: an existing resource is looked up.

Types the runner does not create are reported by name, once, instead of failing at first use.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable

from lambda_trace.local import return_values
from lambda_trace.local.intrinsics import Resolver, TemplateError

#: Types the runner itself stands in for: nothing to create.
HANDLED_LOCALLY = frozenset(
    {
        "AWS::Lambda::Function",  # runs in the local runtime
        "AWS::IAM::Role",  # created when a function's credentials are issued
        "AWS::Lambda::Permission",
        "AWS::Lambda::Version",
        "AWS::Lambda::Alias",
        "AWS::Lambda::LayerVersion",  # the local runtime imports from your environment
    }
)

#: What a create function records: "Ref" and the Fn::GetAtt attributes.
Values = dict[str, str]


@dataclass
class Provisioned:
    """What ``provision`` did."""

    #: logical id -> {"Ref": ..., attribute: ...}
    physical: dict[str, Values] = field(default_factory=dict)
    #: logical ids created (or found already there), in creation order
    created: list[str] = field(default_factory=list)
    #: (logical id, type, why) of resources not created
    skipped: list[tuple[str, str, str]] = field(default_factory=list)

    def skipped_line(self) -> str:
        """One line naming what was not provisioned (empty when everything was)."""
        if not self.skipped:
            return ""
        parts = [f"{logical_id} ({type_}{': ' + why if why else ''})"
                 for logical_id, type_, why in self.skipped]  # fmt: skip
        return "not provisioned locally: " + ", ".join(parts)


class _Context:
    def __init__(self, client: Callable[[str], Any], resolver: Resolver) -> None:
        self._client = client
        self._clients: dict[str, Any] = {}
        self.resolver = resolver
        self.notes: list[tuple[str, str, str]] = []

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._client(service)
        return self._clients[service]

    @property
    def stack(self) -> str:
        return self.resolver.stack_name


def provision(client: Callable[[str], Any], resolver: Resolver) -> Provisioned:
    """Create every supported resource of ``resolver``'s template; ``client(service)`` is boto3's.

    The resolver's ``physical`` map fills as resources are created, so later properties resolve
    to the real values.
    """
    out = Provisioned()
    context = _Context(client, resolver)
    resources = resolver.resources
    for logical_id in _creation_order(resources):
        resource = resources[logical_id]
        type_ = str(resource.get("Type", ""))
        if type_ in HANDLED_LOCALLY or not resolver.active(logical_id):
            continue
        create = _CREATORS.get(type_)
        if create is None:
            out.skipped.append((logical_id, type_, ""))
            continue
        where = f"Resources.{logical_id}.Properties"
        props = resolver.resolve(resource.get("Properties") or {}, where)
        name = resolver.physical_name(logical_id)
        try:
            values = create(context, logical_id, props, name)
        except TemplateError:
            raise
        except Exception as exc:  # a service refusal: say which resource, in one line
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise TemplateError(f"cannot create {logical_id} ({type_}): {message}") from exc
        resolver.physical[logical_id] = values
        out.physical[logical_id] = values
        out.created.append(logical_id)
    out.skipped.extend(context.notes)
    return out


def discover(client: Callable[[str], Any], resolver: Resolver) -> dict[str, Values]:
    """The values of resources that already exist at the endpoint (``--endpoint-url`` without
    ``--provision``): what names cannot predict, a secret's full ARN, a KMS key's id (of a key
    this runner created, found by its tag), a table's stream ARN. Missing ones are skipped."""
    from botocore.exceptions import BotoCoreError, ClientError

    context = _Context(client, resolver)
    found: dict[str, Values] = {}
    lookups: dict[str, Callable[[_Context, str, str], Values | None]] = {
        "AWS::SecretsManager::Secret": _find_secret,
        "AWS::KMS::Key": _find_key,
        "AWS::DynamoDB::Table": _find_table,
        "AWS::SQS::Queue": _find_queue,
    }
    for logical_id, resource in resolver.resources.items():
        lookup = lookups.get(str(resource.get("Type"))) if isinstance(resource, Mapping) else None
        if lookup is None or not resolver.active(logical_id):
            continue
        try:
            values = lookup(context, logical_id, resolver.physical_name(logical_id))
        except (BotoCoreError, ClientError):
            continue
        if values:
            found[logical_id] = values
    return found


def _find_secret(context: _Context, logical_id: str, name: str) -> Values | None:
    arn = context.client("secretsmanager").describe_secret(SecretId=name)["ARN"]
    return {"Ref": arn, "Id": arn}


def _find_key(context: _Context, logical_id: str, name: str) -> Values | None:
    key = _existing_key(context.client("kms"), f"{context.stack}/{logical_id}")
    return {"Ref": key["KeyId"], "KeyId": key["KeyId"], "Arn": key["Arn"]} if key else None


def _find_table(context: _Context, logical_id: str, name: str) -> Values | None:
    table = context.client("dynamodb").describe_table(TableName=name)["Table"]
    values = {"Ref": name, "Arn": table["TableArn"]}
    if table.get("LatestStreamArn"):
        values["StreamArn"] = table["LatestStreamArn"]
    return values


def _find_queue(context: _Context, logical_id: str, name: str) -> Values | None:
    sqs = context.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return {"Ref": url, "QueueUrl": url, "Arn": arn["QueueArn"], "QueueName": name}


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
            key: (_bool(value) if key == "SSEEnabled" else value)
            for key, value in sse.items()
            if key in ("SSEEnabled", "SSEType", "KMSMasterKeyId")
        }
    return params


# -- one create function per type ------------------------------------------------------------


def _bucket(context: _Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
    s3 = context.client("s3")
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=name)
    status = (props.get("VersioningConfiguration") or {}).get("Status")
    if status:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
    if props.get("Tags"):
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": props["Tags"]})
    return _predicted(context, logical_id)


def _table(context: _Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
    dynamodb = context.client("dynamodb")
    params = table_params(props, name)
    if props.get("Tags"):
        params["Tags"] = props["Tags"]
    try:
        table = dynamodb.create_table(**params)["TableDescription"]
    except dynamodb.exceptions.ResourceInUseException:
        table = dynamodb.describe_table(TableName=name)["Table"]
    ttl = props.get("TimeToLiveSpecification")
    if isinstance(ttl, Mapping) and _bool(ttl.get("Enabled")):
        with contextlib.suppress(dynamodb.exceptions.ClientError):  # already on
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
    values = {"Ref": name, "Arn": table["TableArn"]}
    if table.get("LatestStreamArn"):
        values["StreamArn"] = table["LatestStreamArn"]
    return values


#: AWS::SQS::Queue properties that are queue attributes as they are
_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)


def _queue(context: _Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
    sqs = context.client("sqs")
    attributes = {key: _text(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
    for key in ("RedrivePolicy", "RedriveAllowPolicy"):
        if key in props:  # an object in the template, a JSON string in the API
            attributes[key] = _json_text(props[key])
    kwargs: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
    if props.get("Tags"):
        kwargs["tags"] = {tag["Key"]: tag["Value"] for tag in props["Tags"]}
    url = sqs.create_queue(**kwargs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return {"Ref": url, "QueueUrl": url, "Arn": arn["QueueArn"], "QueueName": name}


def _topic(context: _Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
    sns = context.client("sns")
    keys = ("DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication")
    attributes = {key: _text(props[key]) for key in keys if key in props}
    kwargs: dict[str, Any] = {"Name": name, "Attributes": attributes}
    if props.get("Tags"):
        kwargs["Tags"] = props["Tags"]
    arn = sns.create_topic(**kwargs)["TopicArn"]
    for i, subscription in enumerate(props.get("Subscription") or []):
        _subscribe(context, f"{logical_id}.Subscription[{i}]", arn, subscription)
    return {"Ref": arn, "TopicArn": arn, "TopicName": name}


def _subscription(
    context: _Context, logical_id: str, props: Mapping[str, Any], name: str
) -> Values:
    arn = _subscribe(context, logical_id, str(props.get("TopicArn")), props)
    if arn is None:
        arn = context.resolver.ref(logical_id, f"Resources.{logical_id}")
    return {"Ref": arn, "Arn": arn}


def _subscribe(
    context: _Context, logical_id: str, topic_arn: str, props: Mapping[str, Any]
) -> str | None:
    protocol = str(props.get("Protocol", ""))
    endpoint = str(props.get("Endpoint", ""))
    if protocol == "lambda":
        # moto would try to invoke a Lambda it does not have; the local runner is not it.
        context.notes.append(
            (logical_id, "AWS::SNS::Subscription", "not delivered to local functions")
        )
        return None
    attributes = {}
    for key in ("RawMessageDelivery", "FilterPolicyScope"):
        if key in props:
            attributes[key] = _text(props[key])
    for key in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy"):
        if key in props:
            attributes[key] = _json_text(props[key])
    answer = context.client("sns").subscribe(
        TopicArn=topic_arn,
        Protocol=protocol,
        Endpoint=endpoint,
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )
    return str(answer["SubscriptionArn"])


def _secret(context: _Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
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
    kwargs: dict[str, Any] = {key: _bool(spec[key]) for key in flags if key in spec}
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


def _parameter(context: _Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
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
    values = _predicted(context, logical_id)
    values.update(Ref=name, Type=kwargs["Type"], Value=kwargs["Value"])
    return values


#: Tag that finds the key created for a logical id again (a key has no name to look up).
_KEY_TAG = "lambda-trace:logical-id"


def _key(context: _Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
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
            kwargs["Policy"] = _json_text(props["KeyPolicy"])
        key = kms.create_key(**kwargs)["KeyMetadata"]
        if _bool(props.get("EnableKeyRotation", False)):
            kms.enable_key_rotation(KeyId=key["KeyId"])
        if not _bool(props.get("Enabled", True)):
            kms.disable_key(KeyId=key["KeyId"])
    return {"Ref": key["KeyId"], "KeyId": key["KeyId"], "Arn": key["Arn"]}


def _existing_key(kms: Any, tag_value: str) -> dict[str, Any] | None:
    for page in kms.get_paginator("list_keys").paginate():
        for entry in page["Keys"]:
            tags = kms.list_resource_tags(KeyId=entry["KeyId"]).get("Tags") or []
            if {"TagKey": _KEY_TAG, "TagValue": tag_value} in tags:
                return dict(kms.describe_key(KeyId=entry["KeyId"])["KeyMetadata"])
    return None


def _alias(context: _Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
    kms = context.client("kms")
    target = str(props.get("TargetKeyId", ""))
    try:
        kms.create_alias(AliasName=name, TargetKeyId=target)
    except kms.exceptions.AlreadyExistsException:
        kms.update_alias(AliasName=name, TargetKeyId=target)
    return {"Ref": name}


def _event_bus(context: _Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
    events = context.client("events")
    if name == "default":
        arn = events.describe_event_bus(Name=name)["Arn"]
    else:
        kwargs: dict[str, Any] = {"Name": name}
        if props.get("Tags"):
            kwargs["Tags"] = props["Tags"]
        try:
            arn = events.create_event_bus(**kwargs)["EventBusArn"]
        except events.exceptions.ResourceAlreadyExistsException:
            arn = events.describe_event_bus(Name=name)["Arn"]
    return {"Ref": name, "Name": name, "Arn": arn}


def _rule(context: _Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
    events = context.client("events")
    bus = str(props.get("EventBusName") or "default")
    if bus.startswith("arn:"):
        bus = bus.rsplit("/", 1)[-1]
    kwargs: dict[str, Any] = {"Name": name, "EventBusName": bus}
    if "EventPattern" in props:
        kwargs["EventPattern"] = _json_text(props["EventPattern"])
    for key in ("ScheduleExpression", "State", "Description"):
        if props.get(key):
            kwargs[key] = str(props[key])
    arn = events.put_rule(**kwargs)["RuleArn"]
    targets = []
    for target in props.get("Targets") or []:
        if ":lambda:" in str(target.get("Arn", "")):
            context.notes.append(
                (f"{logical_id}.Targets.{target.get('Id')}", "AWS::Events::Rule",
                 "not delivered to local functions")
            )  # fmt: skip
            continue
        entry = {"Id": str(target["Id"]), "Arn": str(target["Arn"])}
        for key in ("Input", "InputPath"):
            if key in target:
                entry[key] = str(target[key])
        targets.append(entry)
    if targets:
        events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
    # Ref: the rule's name, or "bus|name" for a rule on a custom bus (observed on real stacks:
    # https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/1131).
    return {"Ref": name if bus == "default" else f"{bus}|{name}", "Arn": arn}


def _log_group(context: _Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
    logs = context.client("logs")
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=name)
    if props.get("RetentionInDays"):
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
    return _predicted(context, logical_id)


_CREATORS: dict[str, Callable[[_Context, str, Mapping[str, Any], str], Values]] = {
    "AWS::S3::Bucket": _bucket,
    "AWS::DynamoDB::Table": _table,
    "AWS::SQS::Queue": _queue,
    "AWS::SNS::Topic": _topic,
    "AWS::SNS::Subscription": _subscription,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::SSM::Parameter": _parameter,
    "AWS::KMS::Key": _key,
    "AWS::KMS::Alias": _alias,
    "AWS::Events::EventBus": _event_bus,
    "AWS::Events::Rule": _rule,
    "AWS::Logs::LogGroup": _log_group,
}

#: The types ``provision`` creates.
SUPPORTED = frozenset(_CREATORS)


# -- helpers ----------------------------------------------------------------------------------


def _creation_order(resources: Mapping[str, Any]) -> list[str]:
    """Logical ids with every resource after the ones it refers to (Ref, GetAtt, Sub, DependsOn)."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(logical_id: str, chain: tuple[str, ...]) -> None:
        if state.get(logical_id) == "done":
            return
        if state.get(logical_id) == "visiting":
            cycle = " -> ".join((*chain, logical_id))
            raise TemplateError(f"circular dependency between resources: {cycle}")
        state[logical_id] = "visiting"
        for dependency in sorted(_dependencies(resources[logical_id]) & set(resources)):
            visit(dependency, (*chain, logical_id))
        state[logical_id] = "done"
        order.append(logical_id)

    for logical_id in resources:
        if isinstance(resources[logical_id], Mapping):
            visit(logical_id, ())
    return order


def _dependencies(resource: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    depends = resource.get("DependsOn") or []
    found.update([depends] if isinstance(depends, str) else [str(d) for d in depends])

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            if "Ref" in value and isinstance(value["Ref"], str):
                found.add(value["Ref"])
            getatt = value.get("Fn::GetAtt")
            if isinstance(getatt, list) and getatt:
                found.add(str(getatt[0]))
            elif isinstance(getatt, str):
                found.add(getatt.split(".", 1)[0])
            sub = value.get("Fn::Sub")
            text = sub[0] if isinstance(sub, list) and sub else sub
            if isinstance(text, str):
                for name in _sub_names(text):
                    found.add(name.split(".", 1)[0])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(resource.get("Properties") or {})
    return found


def _sub_names(text: str) -> list[str]:
    return [m for m in re.findall(r"\$\{([^}!][^}]*)\}", text) if not m.startswith("AWS::")]


def _predicted(context: _Context, logical_id: str) -> Values:
    """Ref and the documented attributes, computed from the name (for types named by us)."""
    resolver = context.resolver
    type_ = str(resolver.resources[logical_id].get("Type"))
    name = resolver.physical_name(logical_id)
    values = {"Ref": return_values.ref(type_, name, resolver.where)}
    for attribute in return_values.attributes(type_):
        value = return_values.get_att(type_, name, attribute, resolver.where)
        if value is not None:
            values[attribute] = value
    return values


def _throughput(value: Mapping[str, Any]) -> dict[str, int]:
    return {key: int(value[key]) for key in ("ReadCapacityUnits", "WriteCapacityUnits")}


def _index(index: Mapping[str, Any]) -> dict[str, Any]:
    """An index as the API takes it (CloudFormation adds settings CreateTable does not know)."""
    out = {key: index[key] for key in ("IndexName", "KeySchema", "Projection") if key in index}
    if "ProvisionedThroughput" in index:
        out["ProvisionedThroughput"] = _throughput(index["ProvisionedThroughput"])
    return out


def _bool(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _text(value: Any) -> str:
    """An attribute value as the API wants it ("true"/"false" for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
