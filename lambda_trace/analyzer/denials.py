"""Access-denied events of one invocation: one per denial, whichever way it was reported.

A denial can arrive as the SDK's error line (it names the principal) and as @trace's record of
the failed call (it names the IAM action and the resource it acted on); the two are one denial.
"""

from __future__ import annotations

from typing import Optional

from lambda_trace.analyzer.model import Event
from lambda_trace.schema import aws_service_operation

_FILLED = ("principal", "action", "resource", "code", "message", "operation")


def denial_of_call(call: Event) -> Event:
    """The ``access_denied`` event that a call record with ``error_class`` permission_denied is."""
    return {
        "type": "access_denied", "code": call.get("error_code"), "principal": None,
        "action": call.get("action"),
        "resource": call.get("resource") or _resource_from_target(call),
        "message": None, "operation": aws_service_operation(call)[1],
    }


def add_denial(denials: list[Event], event: Event, keep: int) -> None:
    """Add ``event`` to ``denials``, merged into the report of the same denial if there is one
    (filling in what each knows), else appended while fewer than ``keep`` are kept."""
    for i, seen in enumerate(denials):
        if _same_denial(seen, event):
            merged = dict(seen)
            for key in _FILLED:
                if merged.get(key) is None and event.get(key) is not None:
                    merged[key] = event[key]
            denials[i] = merged
            return
    if len(denials) < keep:
        denials.append(event)


def _same_denial(a: Event, b: Event) -> bool:
    """Two reports of one denial: same action and resource, or one names only the API operation.

    S3's "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied"
    has no IAM action; @trace's record of the same call says ``s3:PutObject``.
    """
    action_a, action_b = a.get("action"), b.get("action")
    resource_a, resource_b = a.get("resource"), b.get("resource")
    if action_a == action_b:
        op_a, op_b = a.get("operation"), b.get("operation")
        if action_a is None and op_a and op_b and op_a != op_b:
            return False  # two bare reports: only their operations tell the denials apart
        return resource_a == resource_b or resource_a is None or resource_b is None
    if action_a is not None and action_b is not None:
        return False
    known, bare = (a, b) if action_a is not None else (b, a)
    operation = bare.get("operation")
    return bool(operation) and str(known.get("action")).split(":", 1)[-1] == operation


def _resource_from_target(call: Event) -> Optional[str]:
    """An IAM resource ARN pattern for a denied call whose message named none (S3's).

    The record names the bucket or table it acted on (``target``) but never an object key, so
    S3 object operations get ``bucket/*``.
    """
    target = call.get("target")
    if not isinstance(target, str) or not target or target.startswith("arn:"):
        return target if isinstance(target, str) and target else None
    service, operation_name = aws_service_operation(call)
    operation = str(operation_name or "")
    if service == "s3":
        return f"arn:aws:s3:::{target}/*" if "Object" in operation else f"arn:aws:s3:::{target}"
    if service == "dynamodb":
        return f"arn:aws:dynamodb:*:*:table/{target}"
    return None
