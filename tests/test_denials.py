"""``denials``: one access-denied event per denial, whether a line, a call record or both said so.

The join's own tests (test_join.py) take a denial through the whole join; these take the merge
rule and the resource pattern one case at a time.
"""

from __future__ import annotations

from typing import Any, Optional

import pytest

from lambda_trace.analyzer.denials import add_denial, denial_of_call
from lambda_trace.analyzer.model import Event


def denied(action: Optional[str] = None, resource: Optional[str] = None, **more: Any) -> Event:
    event: Event = {"type": "access_denied", "code": "AccessDenied", "principal": None,
                    "action": action, "resource": resource, "message": None, "operation": None}
    event.update(more)
    return event


def v1_call(service: str, operation: str, **more: Any) -> Event:
    return {"lambda_trace": 1, "type": "call", "kind": "aws", "service": service,
            "operation": operation, "error_class": "permission_denied", **more}


def test_a_denied_call_becomes_a_denial_naming_its_action_and_operation() -> None:
    call = v1_call("dynamodb", "GetItem", error_code="AccessDeniedException",
                   action="dynamodb:GetItem", resource="arn:aws:dynamodb:eu-west-1:1:table/t")
    assert denial_of_call(call) == {
        "type": "access_denied", "code": "AccessDeniedException", "principal": None,
        "action": "dynamodb:GetItem", "resource": "arn:aws:dynamodb:eu-west-1:1:table/t",
        "message": None, "operation": "GetItem",
    }


def test_a_v2_call_names_its_operation_in_its_name() -> None:
    call = {"lambda_trace": 2, "type": "call", "kind": "aws", "name": "s3.PutObject",
            "error_class": "permission_denied", "action": "s3:PutObject"}
    assert denial_of_call(call)["operation"] == "PutObject"


@pytest.mark.parametrize(
    ("service", "operation", "target", "resource"),
    [
        # object operations: the bucket and any key (keys are never recorded)
        ("s3", "PutObject", "receipts", "arn:aws:s3:::receipts/*"),
        ("s3", "GetObject", "receipts", "arn:aws:s3:::receipts/*"),
        ("s3", "ListBucket", "receipts", "arn:aws:s3:::receipts"),
        ("dynamodb", "GetItem", "orders", "arn:aws:dynamodb:*:*:table/orders"),
        # an ARN target is the resource already
        ("sqs", "SendMessage", "arn:aws:sqs:eu-west-1:1:q", "arn:aws:sqs:eu-west-1:1:q"),
        # no pattern known for the service, or no target: no resource guessed
        ("sqs", "SendMessage", "q", None),
        ("s3", "PutObject", "", None),
        ("s3", "PutObject", None, None),
    ],
)
def test_the_resource_comes_from_the_target_when_the_message_named_none(
    service: str, operation: str, target: Optional[str], resource: Optional[str]
) -> None:
    assert denial_of_call(v1_call(service, operation, target=target))["resource"] == resource


def test_a_resource_the_record_names_is_kept_over_the_target() -> None:
    call = v1_call("s3", "PutObject", target="receipts", resource="arn:aws:s3:::receipts/2026/*")
    assert denial_of_call(call)["resource"] == "arn:aws:s3:::receipts/2026/*"


def test_a_line_and_a_record_of_one_denial_merge_each_filling_in_the_other() -> None:
    line = denied(principal="arn:aws:sts::1:assumed-role/r/f", action="s3:PutObject",
                  message="User: ... is not authorized to perform: s3:PutObject")
    record = denied(action="s3:PutObject", resource="arn:aws:s3:::b/*", operation="PutObject")
    denials: list[Event] = []
    add_denial(denials, line, keep=5)
    add_denial(denials, record, keep=5)
    assert denials == [denied(principal="arn:aws:sts::1:assumed-role/r/f", action="s3:PutObject",
                              message="User: ... is not authorized to perform: s3:PutObject",
                              resource="arn:aws:s3:::b/*", operation="PutObject")]


def test_what_is_known_already_is_not_overwritten() -> None:
    denials = [denied(action="s3:PutObject", resource="arn:aws:s3:::b/*", code="AccessDenied")]
    add_denial(denials, denied(action="s3:PutObject", resource=None, code="Other"), keep=5)
    assert denials[0]["code"] == "AccessDenied" and denials[0]["resource"] == "arn:aws:s3:::b/*"


def test_a_bare_operation_merges_with_the_action_of_that_operation_only() -> None:
    denials = [denied(action="s3:PutObject", resource="arn:aws:s3:::b/*")]
    add_denial(denials, denied(operation="PutObject", message="Access Denied"), keep=5)
    assert len(denials) == 1 and denials[0]["message"] == "Access Denied"
    assert denials[0]["operation"] == "PutObject"  # filled in from the bare report
    add_denial(denials, denied(operation="GetObject"), keep=5)
    assert [d["operation"] for d in denials] == ["PutObject", "GetObject"]


def test_bare_reports_of_two_operations_are_two_denials() -> None:
    denials: list[Event] = []
    add_denial(denials, denied(operation="GetObject", message="Access Denied"), keep=5)
    add_denial(denials, denied(operation="PutObject", message="Access Denied"), keep=5)
    assert [d["operation"] for d in denials] == ["GetObject", "PutObject"]


def test_one_action_on_two_resources_is_two_denials() -> None:
    denials: list[Event] = []
    add_denial(denials, denied(action="dynamodb:GetItem", resource="table/a"), keep=5)
    add_denial(denials, denied(action="dynamodb:GetItem", resource="table/b"), keep=5)
    add_denial(denials, denied(action="dynamodb:PutItem", resource="table/a"), keep=5)
    assert [(d["action"], d["resource"]) for d in denials] == [
        ("dynamodb:GetItem", "table/a"), ("dynamodb:GetItem", "table/b"),
        ("dynamodb:PutItem", "table/a")]


def test_only_keep_are_kept_but_a_kept_one_still_merges() -> None:
    denials: list[Event] = []
    for n in range(4):
        add_denial(denials, denied(action=f"s3:Op{n}"), keep=2)
    assert [d["action"] for d in denials] == ["s3:Op0", "s3:Op1"]
    add_denial(denials, denied(action="s3:Op1", principal="p"), keep=2)
    assert denials[1]["principal"] == "p"
