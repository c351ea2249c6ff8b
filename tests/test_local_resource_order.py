"""The creation order of a template's resources: each after the ones it refers to."""

from __future__ import annotations

import pytest
from resource_support import provision_in as _provision

from lambda_trace.local.intrinsics import Resolver, TemplateError
from lambda_trace.local.resource_order import creation_order
from lambda_trace.local.resources import provision


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


def test_a_dependency_cycle_is_reported():
    """Two resources naming each other cannot be ordered."""
    resources = {
        "A": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "B"}}},
        "B": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "${A}"}}},
    }
    resolver = Resolver({"Resources": resources})
    with pytest.raises(TemplateError, match="circular dependency between resources: A -> B -> A"):
        provision(lambda service: None, resolver)


def test_every_kind_of_reference_orders_and_pseudo_parameters_do_not() -> None:
    """Ref, both forms of GetAtt, Sub's names (not AWS::) and DependsOn; unknown names and
    entries that are not resources are left out."""
    resources = {
        "ByRef": {"Type": "T", "Properties": {"A": {"Ref": "Base"}}},
        "ByGetAttList": {"Type": "T", "Properties": {"A": {"Fn::GetAtt": ["ByRef", "Arn"]}}},
        "ByGetAttText": {"Type": "T", "Properties": {"A": [{"Fn::GetAtt": "ByDepends.Arn"}]}},
        "BySub": {"Type": "T",
                  "Properties": {"A": {"Fn::Sub": ["${ByGetAttText.Arn}-${AWS::Region}", {}]}}},
        "ByDepends": {"Type": "T", "DependsOn": "Base", "Properties": {"A": {"Ref": "Nowhere"}}},
        "Base": {"Type": "T"},
        "NotAResource": "text",
    }
    order = creation_order(resources)
    assert sorted(order) == sorted(k for k in resources if k != "NotAResource")
    for before, after in [("Base", "ByRef"), ("ByRef", "ByGetAttList"), ("Base", "ByDepends"),
                          ("ByDepends", "ByGetAttText"), ("ByGetAttText", "BySub")]:
        assert order.index(before) < order.index(after), (before, after)


def test_independent_resources_keep_the_template_order() -> None:
    assert creation_order({"B": {"Type": "T"}, "A": {"Type": "T"}, "C": {"Type": "T"}}) == [
        "B", "A", "C"
    ]
