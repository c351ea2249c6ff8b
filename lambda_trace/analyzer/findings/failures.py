"""Finders for what failed in the function's own hands: no invocation at all, timeouts, denied
permissions and the code's errors (the platform's failures are in ``causes``)."""

from __future__ import annotations

from typing import Any, Optional

from lambda_trace.analyzer.aggregate import Aggregator
from lambda_trace.analyzer.findings.baseline import Baseline
from lambda_trace.analyzer.findings.model import (
    Finding,
    Thresholds,
    clip,
    ratio,
    round_to,
)

LOGS_PERMISSIONS_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html"


def no_invocations(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    if agg.invocations or _failures_seen(agg):
        return []
    events = sum(agg.events_by_type.values())
    advice = (
        "No invocation was found in these logs. Check that the trigger is enabled and points at "
        "this function (event source mapping, schedule, API route), that you are reading the "
        "right region, log group and time window, and that the execution role may write logs "
        "(logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents, e.g. the managed policy "
        f"AWSLambdaBasicExecutionRole): without them the function runs but logs nothing. "
        f"See {LOGS_PERMISSIONS_DOC}"
    )
    return [Finding("no_invocations", "high", "function", {"events": events}, advice)]


def _failures_seen(agg: Aggregator) -> bool:
    """Lines that report failures: the function logs, whatever the invocations' lines lack."""
    return bool(agg.error_groups.total or agg.faults or agg.access_denied.total
                or agg.orphan_timeouts or agg.init_failures.total
                or agg.resource_limits.total)


def timeouts(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    if not agg.timeouts:
        return []
    limits = [key for key, _, _, _ in agg.timeout_seconds.items()]
    in_flight = [
        {"calls": key, "timeouts": count, "example_request_id": example}
        for key, count, _, example in agg.timeout_in_flight.items()[:5]
    ]
    named = [row for row in in_flight if row["calls"] != "(none)"]
    same = (
        len(agg.timeout_in_flight) == 1
        and bool(named)
        and named[0]["timeouts"] == agg.timeouts_with_warning
    )
    evidence: dict[str, Any] = {
        "timeouts": agg.timeouts,
        "invocations": agg.invocations,
        "rate": round_to(ratio(agg.timeouts, agg.invocations), 4),
        "timeout_seconds": limits[0] if limits else None,
        "timeout_limits_seen": sorted(limits),
        "with_in_flight_calls": agg.timeouts_with_warning,
        "in_flight": in_flight,
        "always_same_dependency": same,
    }
    if len(limits) > 1:
        limit_text = " (limits seen: " + ", ".join(f"{s} s" for s in sorted(limits)) + ")"
    else:
        limit_text = f" (the limit is {limits[0]} s)" if limits else ""
    if same:
        subject = named[0]["calls"]
        advice = (
            f"Every timeout{limit_text} happened while waiting on {subject}. Give that client a "
            "connect and read timeout well below the function's (botocore Config "
            "connect_timeout/read_timeout and retries, or requests' timeout=), so the handler can "
            "fail fast or degrade, and check that dependency's health, limits and network path "
            "(a VPC without a NAT gateway or endpoint makes AWS calls hang)."
        )
    elif named:
        subject = named[0]["calls"]
        advice = (
            f"Invocations ran out of time{limit_text}; the call in flight most often was "
            f"{subject}. Put client timeouts on every dependency below the function timeout, "
            "and raise the function timeout only if the work is legitimately that long."
        )
    else:
        subject = "function"
        advice = (
            f"Invocations ran out of time{limit_text}. Add @trace to see which call was in "
            "flight; meanwhile set client timeouts below the function timeout, and raise the "
            "function timeout or memory (more memory also means more CPU) if the work is "
            "legitimately that long."
        )
    return [Finding("timeout", "high", subject, evidence, advice)]


def permission_denied(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    by_principal: dict[Optional[str], list[tuple[Any, int, Any]]] = {}
    for (principal, action, resource), count, _, example in agg.access_denied.items():
        by_principal.setdefault(principal, []).append(((action, resource), count, example))
    found = []
    for principal, rows in by_principal.items():
        denied = [
            {"action": action, "resource": resource, "count": count,
             "operation": _example_operation(example),
             "example_request_id": example[0] if example else None}
            for (action, resource), count, example in rows
        ]
        statements = _policy_statements(rows)
        role = role_name(principal)
        evidence: dict[str, Any] = {
            "principal": principal,
            "role": role,
            "denied": denied,
            "count": sum(r[1] for r in rows),
        }
        if statements:
            evidence["suggested_policy"] = {"Version": "2012-10-17", "Statement": statements}
        target = f"the execution role {role}" if role else "the function's execution role"
        named = sorted({str(a) for (a, _), _, _ in rows if a})
        # S3's bare "Access Denied" names the API operation but not its service, so there is no
        # IAM action to put in a policy; say which call it was.
        unnamed = sorted({
            str(op) for (a, _), _, ex in rows if not a for op in [_example_operation(ex)] if op
        })
        actions = ", ".join(named + [f"the {op} call" for op in unnamed]) or "the calls"
        advice = (
            f"AWS refused {actions}. Add the suggested statement to {target}, scoped to the "
            "resources listed. If the role already allows it, look for an explicit Deny, a "
            "permissions boundary, an SCP, or the resource's own policy (bucket or KMS key "
            "policy)."
        )
        if unnamed:
            advice += (
                f" The error for {', '.join(unnamed)} names no service, so no statement could "
                "be written for it: the IAM action is <service>:<operation> (s3:PutObject for "
                "S3's \"Access Denied\" on PutObject); @trace's call records name it."
            )
        if any(r is None for (a, r), _, _ in rows if a):
            advice += " Where the resource is unknown the statement says \"*\": narrow it."
        subject = role or principal or "execution role"
        found.append(Finding("permission_denied", "high", str(subject), evidence, advice))
    return found


def _example_operation(example: Any) -> Optional[str]:
    return example[3] if isinstance(example, tuple) and len(example) > 3 else None


def code_errors(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    found = []
    for (error_type, frame), count, _, example in agg.error_groups.items()[:10]:
        request_id, message = example if example else (None, None)
        evidence = {
            "error_type": error_type,
            "top_frame": frame,
            "count": count,
            "invocations": agg.invocations,
            "example_request_id": request_id,
            "message": clip(message, 300),
        }
        rate = ratio(count, agg.invocations)
        severity = "high" if rate is None or rate >= 0.05 else "medium"
        subject = f"{error_type} at {frame}" if frame else error_type
        found.append(Finding("code_error", severity, subject, evidence,
                             _error_advice(error_type, frame, request_id)))
    return found


def _error_advice(error_type: str, frame: Optional[str], request_id: Optional[str]) -> str:
    where = f" at {frame}" if frame else ""
    look = f" Look up request {request_id} in the logs for the full trace." if request_id else ""
    if error_type == "Runtime.ImportModuleError":
        return (
            "The handler's module could not be imported: a dependency is missing from the "
            "deployment package or layer, or was built for another platform or Python version. "
            "Package it for Amazon Linux and the function's architecture." + look
        )
    if error_type == "Runtime.HandlerNotFound":
        return "The Handler setting names a function that does not exist in the module." + look
    if error_type == "Runtime.UserCodeSyntaxError":
        return "The code does not compile; run it locally on the same Python version." + look
    if error_type.startswith("HTTP 5"):
        return (
            f"The handler returned {error_type[5:]} without raising: the client saw a server "
            "error. Look at what the code turns into that response (usually a caught exception "
            "or a failed dependency) in the example request's log lines." + look
        )
    return f"Fix the code{where} that raises {error_type}, or handle it where expected." + look


def role_name(principal: Optional[str]) -> Optional[str]:
    """``arn:aws:sts::1:assumed-role/NAME/session`` or ``arn:aws:iam::1:role/path/NAME`` -> NAME."""
    if not principal:
        return None
    if ":assumed-role/" in principal:
        parts = principal.split(":assumed-role/", 1)[1].split("/")
        return parts[0] or None
    if ":role/" in principal:
        return principal.rsplit("/", 1)[-1] or None
    return None


def _policy_statements(rows: list[tuple[Any, int, Any]]) -> list[dict[str, Any]]:
    by_action: dict[str, set[str]] = {}
    for (action, resource), _, _ in rows:
        if not action:
            continue
        by_action.setdefault(str(action), set()).add(str(resource) if resource else "*")
    statements = []
    for action in sorted(by_action):
        resources = sorted(by_action[action])
        if "*" in resources:
            resources = ["*"]
        statements.append({
            "Effect": "Allow",
            "Action": action,
            "Resource": resources[0] if len(resources) == 1 else resources,
        })
    return statements
