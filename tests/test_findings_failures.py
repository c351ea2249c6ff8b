"""Findings about the function's own failures: no invocations, timeouts, denied permissions,
code errors."""


from __future__ import annotations

from findings_support import aggregate, only
from join_builders import STREAM, T0, call, error, invocation

from lambda_trace.analyzer.aggregate import Aggregator
from lambda_trace.analyzer.findings import (
    find_all,
    role_name,
)
from lambda_trace.analyzer.model import Event, make_event


def timeout_warning(rid: str, names: list[str]) -> Event:
    return make_event(
        "timeout_warning", request_id=rid, log_stream=STREAM, lambda_trace=1,
        elapsed_ms=2800.0, remaining_ms=200.0, timeout_ms=3000.0,
        in_flight=[{"name": n, "kind": "http", "running_ms": 2700.0} for n in names],
    )


def test_timeout_with_the_same_dependency_in_flight_every_time() -> None:
    """Two of three timeouts have a warning, both waiting on the same host: it is named."""
    api = "http GET api.example.com"
    events = (
        invocation("t1", duration=3000, status="timeout", timeout_s=3.0,
                   extra=[timeout_warning("t1", [api])])
        + invocation("t2", t0=T0 + 5000, duration=3000, status="timeout", timeout_s=3.0,
                     extra=[timeout_warning("t2", [api])])
        + invocation("t3", t0=T0 + 9000, duration=3000, timeout_s=3.0)
        + invocation("ok", t0=T0 + 13000)
    )
    f = only(find_all(aggregate(events)), "timeout")
    assert (f.subject, f.severity) == (api, "high")
    assert f.evidence == {
        "timeouts": 3, "invocations": 4, "rate": 0.75, "timeout_seconds": 3,
        "timeout_limits_seen": [3],
        "with_in_flight_calls": 2,
        "in_flight": [{"calls": api, "timeouts": 2, "example_request_id": "t1"}],
        "always_same_dependency": True,
    }
    assert "Every timeout" in f.advice and api in f.advice


def test_timeout_with_different_dependencies_names_the_most_frequent() -> None:
    """When in-flight calls differ, the most frequent is the subject and it is not 'always'."""
    events = []
    for i, name in enumerate(["s3.GetObject", "s3.GetObject", "sqs.SendMessage"]):
        rid = f"t{i}"
        events += invocation(rid, t0=T0 + i * 5000, duration=3000, timeout_s=3.0,
                             extra=[timeout_warning(rid, [name])])
    f = only(find_all(aggregate(events)), "timeout")
    assert f.subject == "s3.GetObject"
    assert f.evidence["always_same_dependency"] is False
    assert [r["timeouts"] for r in f.evidence["in_flight"]] == [2, 1]


def test_timeouts_from_platform_lines_alone() -> None:
    """Without our records the finding still counts timeouts and gives the limit."""
    events = invocation("t", duration=6000, timeout_s=6.0)
    f = only(find_all(aggregate(events)), "timeout")
    assert f.subject == "function"
    assert (f.evidence["timeouts"], f.evidence["timeout_seconds"]) == (1, 6)


def test_permission_denied_suggests_a_policy_for_the_execution_role() -> None:
    """Two denials of PutItem on one table by one role give one Allow statement for that role."""
    principal = "arn:aws:sts::123456789012:assumed-role/orders-role/orders-fn"
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"

    def denied(rid: str) -> Event:
        return make_event("access_denied", request_id=rid, log_stream=STREAM,
                          code="AccessDeniedException", principal=principal,
                          action="dynamodb:PutItem", resource=table)

    events = (invocation("a", extra=[denied("a")])
              + invocation("b", t0=T0 + 1000, extra=[denied("b")]))
    f = only(find_all(aggregate(events)), "permission_denied")
    assert (f.subject, f.severity) == ("orders-role", "high")
    assert f.evidence == {
        "principal": principal,
        "role": "orders-role",
        "denied": [{"action": "dynamodb:PutItem", "resource": table, "count": 2,
                    "operation": None, "example_request_id": "a"}],
        "count": 2,
        "suggested_policy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table}]},
    }
    assert "orders-role" in f.advice


def test_permission_denied_from_call_records_with_unknown_resource_uses_a_wildcard() -> None:
    """A denied call record without a resource gives ``Resource: "*"`` and says to narrow it."""
    denied = call("a", "sqs.SendMessage", 0, 5, status="error",
                  error_class="permission_denied", action="sqs:SendMessage")
    f = only(find_all(aggregate(invocation("a", extra=[denied]))), "permission_denied")
    assert f.evidence["suggested_policy"]["Statement"] == [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]
    assert "narrow it" in f.advice


def test_code_errors_are_grouped_with_an_example_request() -> None:
    """Two KeyErrors at the same frame in 4 invocations: one group, count 2, severity high."""
    stack = ['  File "/var/task/app.py", line 12, in handler\n']
    events = (invocation("a", extra=[error(None, "KeyError", "'id'", stack=stack)])
              + invocation("b", t0=T0 + 1000, extra=[error(None, "KeyError", "'id'", stack=stack)])
              + invocation("c", t0=T0 + 2000) + invocation("d", t0=T0 + 3000))
    f = only(find_all(aggregate(events)), "code_error")
    assert (f.subject, f.severity) == ("KeyError at app.py:12 in handler", "high")
    assert f.evidence == {"error_type": "KeyError", "top_frame": "app.py:12 in handler",
                          "count": 2, "invocations": 4, "example_request_id": "a",
                          "message": "'id'"}
    assert "request a" in f.advice


def test_no_invocations_points_at_trigger_and_log_permissions() -> None:
    """Empty logs say to check the trigger and the role's permission to write logs."""
    f = only(find_all(Aggregator()), "no_invocations")
    assert f.severity == "high"
    assert "trigger" in f.advice and "logs:PutLogEvents" in f.advice
    assert "monitoring-cloudwatchlogs" in f.advice


def test_role_name_from_assumed_role_and_role_arns() -> None:
    """The execution role's name is read from either ARN form."""
    assert role_name("arn:aws:sts::1:assumed-role/my-role/my-fn") == "my-role"
    assert role_name("arn:aws:iam::1:role/service-role/my-role") == "my-role"
    assert role_name("arn:aws:iam::1:user/alice") is None and role_name(None) is None


def test_permission_denied_without_an_iam_action_writes_no_bad_statement() -> None:
    """S3's bare "Access Denied" gives no invalid "Action": "PutObject" statement, and says why."""
    denied = make_event("access_denied", request_id="a", log_stream=STREAM, code="AccessDenied",
                        action=None, operation="PutObject",
                        message="An error occurred (AccessDenied) when calling the PutObject "
                        "operation: Access Denied")
    f = only(find_all(aggregate(invocation("a", extra=[denied]))), "permission_denied")
    assert f.evidence["denied"] == [{"action": None, "resource": None, "count": 1,
                                     "operation": "PutObject", "example_request_id": "a"}]
    assert "suggested_policy" not in f.evidence
    assert "the PutObject call" in f.advice and "s3:PutObject" in f.advice
