"""Findings from a function's configuration and metrics, where its logs cannot answer.

* ``not_invoked``: a trigger points at the function but cannot reach it (the resource policy
  lacks the statement, the mapping or rule is disabled, the rule has no target, reserved
  concurrency 0), each with the exact command that fixes it.
* ``logs_not_written``: metrics count invocations but the log group is missing or silent, and
  the execution role lacks ``logs:CreateLogStream`` / ``logs:PutLogEvents`` on it.
* ``config_vs_observed``: the configured timeout, memory or reserved concurrency next to what the
  metrics and logs observed ("configured X, observed Y").

Troubleshooting steps these follow: https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html
and https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html (permissions).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any, Optional

from lambda_trace.analyzer.findings import KINDS as ALL_KINDS
from lambda_trace.analyzer.findings import SEVERITIES, Finding
from lambda_trace.analyzer.findings.model import FindingEntry
from lambda_trace.analyzer.function_config import FunctionView
from lambda_trace.analyzer.policy_statements import allowed, allows_api, allows_invoke

KINDS = ("not_invoked", "logs_not_written", "config_vs_observed")
assert set(KINDS) <= set(ALL_KINDS)  # listed in findings.KINDS, for --fail-on and ordering


def ordered(findings: list[Finding]) -> list[Finding]:
    """Most severe first, then in ``findings.KINDS`` order (as ``find_all`` sorts)."""
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity),
                                           ALL_KINDS.index(f.kind)))

#: p99 at this share of the timeout leaves too little headroom
TIMEOUT_HEADROOM = 0.8
#: Max Memory Used at this share of the memory size
MEMORY_HEADROOM = 0.9

RESOURCE_POLICY_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html"
LOGS_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html"


@dataclass
class FunctionFinding(Finding):
    """A finding about one function (the report's ``function`` key)."""

    function: str = ""

    def to_dict(self) -> FindingEntry:
        entry = super().to_dict()
        entry["function"] = self.function
        return entry


@dataclass
class Observed:
    """What the logs and metrics saw of one function in the window."""

    invocations_metric: Optional[float] = None
    throttles_metric: Optional[float] = None
    duration_p99_ms: Optional[float] = None
    duration_max_ms: Optional[float] = None
    concurrency_max: Optional[float] = None
    log_group_exists: Optional[bool] = None
    log_events: int = 0
    #: highest Max Memory Used in the REPORT lines (None when not known for this function)
    memory_used_max_mb: Optional[float] = None

    @classmethod
    def from_metrics(cls, metrics: Optional[dict[str, Any]]) -> Observed:
        m = metrics or {}

        def get(metric: str, key: str) -> Optional[float]:
            value = (m.get(metric) or {}).get(key)
            return float(value) if isinstance(value, (int, float)) else None

        return cls(
            invocations_metric=get("Invocations", "sum"),
            throttles_metric=get("Throttles", "sum"),
            duration_p99_ms=get("Duration", "p99"),
            duration_max_ms=get("Duration", "max"),
            concurrency_max=get("ConcurrentExecutions", "max"),
        )


def find_config(view: FunctionView, seen: Observed) -> list[Finding]:
    """Every configuration finding for one function."""
    found: list[Finding] = []
    found.extend(not_invoked(view, seen))
    found.extend(logs_not_written(view, seen))
    found.extend(config_vs_observed(view, seen))
    return found


def _cmd(*args: str) -> str:
    return " ".join(shlex.quote(a) if a != "--" else a for a in args)


def not_invoked(view: FunctionView, seen: Observed) -> list[Finding]:
    none_seen = not seen.invocations_metric and not seen.log_events
    severity = "high" if none_seen else "medium"
    name = view.name
    out: list[Finding] = []

    def add(subject: str, evidence: dict[str, Any], advice: str, sev: str = severity) -> None:
        evidence = {"invocations_metric": seen.invocations_metric, **evidence}
        out.append(FunctionFinding("not_invoked", sev, subject, evidence, advice, function=name))

    if view.exists is False:
        add(name, {"exists": False},
            f"There is no function {name} in this account and region: check the name, "
            "--region and --profile. A deleted function keeps its log group and metrics, "
            "and a re-created one loses its resource policy (its triggers' permissions).")
        return out
    if view.reserved_concurrency == 0:
        add(f"{name} reserved concurrency 0",
            {"reserved_concurrency": 0, "throttles_metric": seen.throttles_metric},
            f"Reserved concurrency is 0, so Lambda throttles every invocation of {name}: no "
            "trigger can run it. Remove the limit with `"
            + _cmd("aws", "lambda", "delete-function-concurrency", "--function-name", name)
            + "` or set a positive value with `aws lambda put-function-concurrency`.", "high")
    statements = view.policy
    for trigger in view.s3_triggers:
        source = f"arn:aws:s3:::{trigger.bucket}"
        if statements is None or allows_invoke(statements, "s3.amazonaws.com", source):
            continue
        events = ", ".join(trigger.events) or "its events"
        prefix = f" (prefix {trigger.prefix})" if trigger.prefix else ""
        argv = ["aws", "lambda", "add-permission", "--function-name", name,
                   "--statement-id", f"s3-{trigger.bucket}"[:100], "--action",
                   "lambda:InvokeFunction", "--principal", "s3.amazonaws.com",
                   "--source-arn", source]
        if view.account:
            argv += ["--source-account", view.account]
        add(f"s3://{trigger.bucket} → {name}",
            {"bucket": trigger.bucket, "events": trigger.events, "prefix": trigger.prefix,
             "resource_policy_statements": len(statements), "command": _cmd(*argv)},
            f"Bucket {trigger.bucket} notifies {name} on {events}{prefix}, but {name}'s "
            f"resource policy has no statement allowing s3.amazonaws.com from {source}, so S3's "
            f"invocations are refused and nothing reaches the function (a re-created function "
            f"loses its policy; the notification stays). Run `{_cmd(*argv)}`. "
            f"See {RESOURCE_POLICY_DOC}")
    for mapping in view.mappings:
        state = str(mapping.get("state") or "")
        uuid = str(mapping.get("uuid") or "")
        result = str(mapping.get("last_processing_result") or "")
        if state in ("Disabled", "Disabling"):
            command = _cmd("aws", "lambda", "update-event-source-mapping", "--uuid", uuid,
                           "--enabled")
            add(f"mapping {mapping.get('source')} → {name}",
                {**mapping, "command": command},
                f"The event source mapping from {mapping.get('source')} is {state} "
                f"({mapping.get('state_reason') or 'no reason given'}): its records wait in the "
                f"source (or expire). Enable it with `{command}`; if Lambda disabled it, fix "
                "the reason first (the execution role's permission on the source, a deleted "
                "source).")
        elif "PROBLEM" in result.upper():
            add(f"mapping {mapping.get('source')} → {name}", dict(mapping),
                f"The event source mapping from {mapping.get('source')} reports \"{result}\": "
                "Lambda cannot read the source, usually because the execution role lacks the "
                "source's read permissions (e.g. sqs:ReceiveMessage, sqs:DeleteMessage, "
                "sqs:GetQueueAttributes, or kinesis:GetRecords...) or the key policy of its "
                "KMS key.")
    for rule in view.rules:
        rule_name = str(rule.get("name"))
        rule_arn = f"arn:aws:events:{view.region}:{view.account}:rule/{rule_name}"
        if rule.get("state") == "DISABLED":
            command = _cmd("aws", "events", "enable-rule", "--name", rule_name)
            add(f"rule {rule_name} → {name}", {**rule, "command": command},
                f"EventBridge rule {rule_name} targets {name} but is DISABLED. Enable it with "
                f"`{command}`.")
        elif not rule.get("targets_function") and rule.get("state") != "MISSING":
            command = _cmd("aws", "events", "put-targets", "--rule", rule_name, "--targets",
                           f"Id={name[:64]},Arn={view.arn}")
            add(f"rule {rule_name} → {name}", {**rule, "command": command},
                f"{name}'s resource policy lets EventBridge rule {rule_name} invoke it, but the "
                f"rule has no target {name}: the rule fires into nothing. Add the target with "
                f"`{command}`.")
        elif rule.get("targets_function") and statements is not None and not allows_invoke(
            statements, "events.amazonaws.com", rule_arn
        ):
            command = _cmd("aws", "lambda", "add-permission", "--function-name", name,
                           "--statement-id", f"events-{rule_name}"[:100], "--action",
                           "lambda:InvokeFunction", "--principal", "events.amazonaws.com",
                           "--source-arn", rule_arn)
            add(f"rule {rule_name} → {name}", {**rule, "command": command},
                f"EventBridge rule {rule_name} targets {name}, but the resource policy has no "
                f"statement allowing events.amazonaws.com from {rule_arn}. Run `{command}`.")
    for api in view.api_methods:
        # API Gateway's source ARN: arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/METHOD/PATH
        # https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html
        method = "*" if api["method"] == "ANY" else api["method"]
        api_arn = f"arn:aws:execute-api:{view.region}:{view.account}:{api['api_id']}"
        source = f"{api_arn}/*/{method}{re.sub(r'[{][^}/]+[}]', '*', api['path'])}"
        # a request as API Gateway sends it: path parameters filled in, ANY as one method
        route = ("GET" if method == "*" else method) + re.sub(r"[{][^}/]+[}]", "x", api["path"])
        if statements is None or allows_api(statements, api_arn, route):
            continue
        command = _cmd("aws", "lambda", "add-permission", "--function-name", name,
                       "--statement-id", f"apigateway-{api['api_id']}-{api['method']}"[:100],
                       "--action", "lambda:InvokeFunction", "--principal",
                       "apigateway.amazonaws.com", "--source-arn", source)
        add(f"API {api['api'] or api['api_id']} {api['method']} {api['path']} → {name}",
            {**api, "command": command},
            f"REST API {api['api'] or api['api_id']} integrates {api['method']} {api['path']} "
            f"with {name}, but the resource policy has no statement allowing "
            f"apigateway.amazonaws.com from {source}: every request gets 500 Internal server "
            "error (\"Invalid permissions on Lambda function\" in the API's execution log). "
            f"Run `{command}`.")
    url = view.function_url
    if url and url.get("auth_type") == "NONE" and statements is not None and not any(
        "lambda:InvokeFunctionUrl" in str(s.get("Action")) for s in statements
    ):
        command = _cmd("aws", "lambda", "add-permission", "--function-name", name,
                       "--statement-id", "FunctionURLAllowPublicAccess", "--action",
                       "lambda:InvokeFunctionUrl", "--principal", "*",
                       "--function-url-auth-type", "NONE")
        add(f"function URL → {name}", {"auth_type": "NONE", "command": command},
            f"{name} has a function URL with AuthType NONE but no statement allowing "
            f"lambda:InvokeFunctionUrl to everyone: every request gets 403. Run `{command}`.")
    triggers = len(view.s3_triggers) + len(view.mappings) + len(view.rules) + len(
        view.api_methods) + (
        1 if view.function_url else 0) + len([
            s for s in statements or [] if "apigateway.amazonaws.com" in str(s.get("Principal"))
        ])
    if none_seen and not out and view.exists and not triggers and seen.invocations_metric == 0:
        add(f"no trigger → {name}",
            {"buckets_checked": len(view.buckets_checked), "event_source_mappings": 0,
             "eventbridge_rules": 0, "resource_policy_statements": len(statements or [])},
            f"Lambda counted no invocation of {name}, and no trigger was found pointing at it: "
            f"no S3 notification in the {len(view.buckets_checked)} buckets checked (name the "
            "bucket with --bucket), no event source mapping, no EventBridge rule, no function "
            "URL, no API Gateway permission. Add the trigger, or check the caller's own errors "
            "(a synchronous caller gets AccessDenied without lambda:InvokeFunction).")
    return out


def logs_not_written(view: FunctionView, seen: Observed) -> list[Finding]:
    if not seen.invocations_metric or seen.log_events:
        return []
    group = view.log_group or f"/aws/lambda/{view.name}"
    region, account = view.region or "*", view.account or "*"
    group_arn = f"arn:aws:logs:{region}:{account}:log-group:{group}"
    stream_arn = f"{group_arn}:log-stream:2026/01/01/[$LATEST]0"
    missing: list[str] = []
    if view.role_statements is not None:
        if seen.log_group_exists is False and not allowed(
            view.role_statements, "logs:CreateLogGroup", group_arn
        ):
            missing.append("logs:CreateLogGroup")
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            if not allowed(view.role_statements, action, stream_arn):
                missing.append(action)
    where = "does not exist" if seen.log_group_exists is False else "has no events in the window"
    evidence: dict[str, Any] = {
        "invocations_metric": seen.invocations_metric,
        "log_group": group,
        "log_group_exists": seen.log_group_exists,
        "role": view.role_arn,
        "missing_actions": missing if view.role_statements is not None else None,
    }
    custom = bool(view.log_group) and view.log_group != f"/aws/lambda/{view.name}"
    if missing:
        evidence["suggested_policy"] = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": missing,
            "Resource": [group_arn, f"{group_arn}:*"],
        }]}
        advice = (
            f"Lambda counted {seen.invocations_metric:g} invocations of {view.name}, but its log "
            f"group {group} {where}: the execution role {view.role_arn} does not allow "
            f"{', '.join(missing)} on {group_arn}"
            + (" (the custom LoggingConfig log group)" if custom else "")
            + ", so the function runs but cannot write a line. Add the suggested statement, "
            f"or attach AWSLambdaBasicExecutionRole for the default group. See {LOGS_DOC}"
        )
    elif view.role_statements is None:
        advice = (
            f"Lambda counted {seen.invocations_metric:g} invocations of {view.name}, but its log "
            f"group {group} {where}. The execution role was not read (--no-config, or see "
            "the skipped checks): check that it allows logs:CreateLogStream and "
            "logs:PutLogEvents on "
            f"{group_arn}. See {LOGS_DOC}"
        )
    else:
        levels = [f"ApplicationLogLevel {view.application_log_level}"
                  if view.application_log_level else "",
                  f"SystemLogLevel {view.system_log_level}" if view.system_log_level else ""]
        advice = (
            f"Lambda counted {seen.invocations_metric:g} invocations of {view.name}, but its log "
            f"group {group} {where}, although the execution role allows writing to it. Check "
            "LoggingConfig (the log group it names, and "
            + (", ".join(x for x in levels if x) or "the log levels")
            + " for JSON logs), an explicit Deny in a permissions boundary or SCP, and whether "
            "you are reading the right region and window."
        )
    return [FunctionFinding("logs_not_written", "high", group, evidence, advice,
                            function=view.name)]


def config_vs_observed(view: FunctionView, seen: Observed) -> list[Finding]:
    out: list[Finding] = []
    name = view.name
    if view.timeout_s:
        limit_ms = view.timeout_s * 1000.0
        worst = seen.duration_max_ms
        p99 = seen.duration_p99_ms
        if worst is not None and worst >= 0.99 * limit_ms:
            out.append(FunctionFinding(
                "config_vs_observed", "high", f"{name} Timeout",
                {"configured_timeout_s": view.timeout_s, "observed_max_ms": worst,
                 "observed_p99_ms": p99},
                f"Configured Timeout {view.timeout_s} s, observed maximum duration "
                f"{worst:g} ms: invocations run into the limit. Find the slow call (the "
                "timeout finding names it when the logs have @trace records) and give it a "
                "client timeout below the function's; raise Timeout only for legitimately "
                "long work.", function=name))
        elif p99 is not None and p99 >= TIMEOUT_HEADROOM * limit_ms:
            out.append(FunctionFinding(
                "config_vs_observed", "medium", f"{name} Timeout",
                {"configured_timeout_s": view.timeout_s, "observed_p99_ms": p99,
                 "observed_max_ms": worst},
                f"Configured Timeout {view.timeout_s} s, observed p99 duration {p99:g} ms "
                f"({p99 / limit_ms:.0%} of it): a slightly slower dependency will time out. "
                "Cut the slow path or raise Timeout with headroom.", function=name))
    if view.memory_mb and seen.memory_used_max_mb is not None and (
        seen.memory_used_max_mb >= MEMORY_HEADROOM * view.memory_mb
    ):
        out.append(FunctionFinding(
            "config_vs_observed", "medium", f"{name} MemorySize",
            {"configured_memory_mb": view.memory_mb,
             "observed_max_memory_used_mb": seen.memory_used_max_mb},
            f"Configured MemorySize {view.memory_mb} MB, observed Max Memory Used "
            f"{seen.memory_used_max_mb:g} MB: the next larger input runs out of memory. Raise "
            "MemorySize (it also adds CPU) or stream the data.", function=name))
    throttles = seen.throttles_metric or 0
    if throttles and view.reserved_concurrency:
        out.append(FunctionFinding(
            "config_vs_observed", "medium", f"{name} ReservedConcurrency",
            {"configured_reserved_concurrency": view.reserved_concurrency,
             "observed_throttles": throttles, "observed_concurrency_max": seen.concurrency_max},
            f"Configured reserved concurrency {view.reserved_concurrency}, observed "
            f"{throttles:g} throttles (peak concurrency {seen.concurrency_max or '?'}): requests "
            "beyond the limit are refused (synchronous callers get 429, async events are "
            "retried and may be dropped). Raise the limit if downstream can take it, or smooth "
            "the load (SQS with a batch size, maximum concurrency on the mapping).",
            function=name))
    elif throttles:
        out.append(FunctionFinding(
            "config_vs_observed", "medium", f"{name} concurrency",
            {"configured_reserved_concurrency": None, "observed_throttles": throttles,
             "observed_concurrency_max": seen.concurrency_max},
            f"No reserved concurrency configured, observed {throttles:g} throttles (peak "
            f"concurrency {seen.concurrency_max or '?'}): the account's regional concurrency "
            "limit was reached (shared by every function). Request a quota increase, or "
            "reserve concurrency for the functions that must not be throttled.", function=name))
    return out
