"""Messaging resources: SQS queues, SNS topics and subscriptions, EventBridge buses and rules."""

from __future__ import annotations

from resource_support import provision_in as _provision


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


def test_a_rule_on_a_custom_bus_is_referred_to_as_bus_and_name(moto) -> None:
    """Ref of a rule on a custom bus is "bus|name"; its non-Lambda target is put."""
    resources = {
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "orders"}},
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Rule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventBusName": {"Fn::GetAtt": ["Bus", "Arn"]},
                "EventPattern": {"source": ["shop"]},
                "Targets": [{"Id": "q", "Arn": {"Fn::GetAtt": ["Queue", "Arn"]}}],
            },
        },
    }
    account, resolver, done = _provision(moto, resources)
    rule = resolver.physical_name("Rule")
    assert done.physical["Rule"]["Ref"] == f"orders|{rule}"
    targets = account.client("events").list_targets_by_rule(Rule=rule, EventBusName="orders")
    assert [t["Arn"] for t in targets["Targets"]] == [done.physical["Queue"]["Arn"]]
