"""Messaging resources: SQS queues, SNS topics and subscriptions, EventBridge buses and rules.

Deliveries to a Lambda function (a subscription, a rule target) are not made: the local runner
is not a function the service could invoke. They are noted as not provisioned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambda_trace.local.resource_context import Context, Values, as_text, json_text

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


def create_queue(context: Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
    sqs = context.client("sqs")
    attributes = {key: as_text(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
    for key in ("RedrivePolicy", "RedriveAllowPolicy"):
        if key in props:  # an object in the template, a JSON string in the API
            attributes[key] = json_text(props[key])
    kwargs: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
    if props.get("Tags"):
        kwargs["tags"] = {tag["Key"]: tag["Value"] for tag in props["Tags"]}
    url = sqs.create_queue(**kwargs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return {"Ref": url, "QueueUrl": url, "Arn": arn["QueueArn"], "QueueName": name}


def find_queue(context: Context, logical_id: str, name: str) -> Values | None:
    sqs = context.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return {"Ref": url, "QueueUrl": url, "Arn": arn["QueueArn"], "QueueName": name}


def create_topic(context: Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
    sns = context.client("sns")
    keys = ("DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication")
    attributes = {key: as_text(props[key]) for key in keys if key in props}
    kwargs: dict[str, Any] = {"Name": name, "Attributes": attributes}
    if props.get("Tags"):
        kwargs["Tags"] = props["Tags"]
    arn = sns.create_topic(**kwargs)["TopicArn"]
    for i, subscription in enumerate(props.get("Subscription") or []):
        _subscribe(context, f"{logical_id}.Subscription[{i}]", arn, subscription)
    return {"Ref": arn, "TopicArn": arn, "TopicName": name}


def create_subscription(
    context: Context, logical_id: str, props: Mapping[str, Any], name: str
) -> Values:
    arn = _subscribe(context, logical_id, str(props.get("TopicArn")), props)
    if arn is None:
        arn = context.resolver.ref(logical_id, f"Resources.{logical_id}")
    return {"Ref": arn, "Arn": arn}


def _subscribe(
    context: Context, logical_id: str, topic_arn: str, props: Mapping[str, Any]
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
            attributes[key] = as_text(props[key])
    for key in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy"):
        if key in props:
            attributes[key] = json_text(props[key])
    answer = context.client("sns").subscribe(
        TopicArn=topic_arn,
        Protocol=protocol,
        Endpoint=endpoint,
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )
    return str(answer["SubscriptionArn"])


def create_event_bus(
    context: Context, logical_id: str, props: Mapping[str, Any], name: str
) -> Values:
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


def create_rule(context: Context, logical_id: str, props: Mapping[str, Any], name: str) -> Values:
    events = context.client("events")
    bus = str(props.get("EventBusName") or "default")
    if bus.startswith("arn:"):
        bus = bus.rsplit("/", 1)[-1]
    kwargs: dict[str, Any] = {"Name": name, "EventBusName": bus}
    if "EventPattern" in props:
        kwargs["EventPattern"] = json_text(props["EventPattern"])
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
