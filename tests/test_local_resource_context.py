"""local/resource_context.py: the shared context of the create functions and the conversions of
CloudFormation property values into the strings the AWS APIs want."""

from __future__ import annotations

from typing import Any

from lambda_trace.local.intrinsics import Resolver
from lambda_trace.local.resource_context import Context, as_bool, as_text, json_text, predicted


def test_one_client_per_service_made_on_first_use() -> None:
    made: list[str] = []

    def client(service: str) -> Any:
        made.append(service)
        return object()

    context = Context(client, Resolver({"Resources": {}}, stack_name="shop"))
    sqs = context.client("sqs")
    assert context.client("sqs") is sqs
    context.client("s3")
    assert made == ["sqs", "s3"]
    assert context.stack == "shop"
    assert context.notes == []


def test_predicted_values_of_a_queue_follow_the_documented_return_values() -> None:
    resources = {"Jobs": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "jobs"}}}
    context = Context(lambda s: None, Resolver({"Resources": resources}, stack_name="t"))
    values = predicted(context, "Jobs")
    # Ref of a queue is its URL; Fn::GetAtt Arn its ARN, both named by QueueName.
    assert values["Ref"].endswith("/jobs") and values["Ref"].startswith("http")
    assert values["Arn"].startswith("arn:aws:sqs:") and values["Arn"].endswith(":jobs")
    assert values["QueueName"] == "jobs"


def test_property_conversions() -> None:
    assert as_bool(True) and as_bool("true") and as_bool("True")
    assert not as_bool(False) and not as_bool("false") and not as_bool(None) and not as_bool(1)
    assert as_text(True) == "true" and as_text(False) == "false" and as_text(30) == "30"
    assert json_text('{"a": 1}') == '{"a": 1}'
    assert json_text({"a": [1, 2]}) == '{"a": [1, 2]}'
