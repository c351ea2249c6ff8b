"""A function's own configuration and what points at it, read (never changed) from AWS.

``GetFunctionConfiguration`` (timeout, memory, role, ``LoggingConfig``), reserved concurrency,
the resource policy (``GetPolicy``: who may invoke it), and the triggers: S3 bucket
notifications, event source mappings, EventBridge rules, a function URL. Then the execution
role's policies, for the "runs but logs nothing" check. Each read that is refused is skipped
with one line naming the IAM action it needed; see docs/analyze.md for the read-only policy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from lambda_trace.analyzer.aws_access import AwsAccess, CheckSkipped, NotFound
from lambda_trace.analyzer.policy_statements import (
    parse_statements,
    policy_buckets,
    policy_source_arns,
    statement_summary,
)

#: buckets looked at when neither --bucket nor the resource policy names one
MAX_SCANNED_BUCKETS = 50
#: REST APIs, and method integrations, looked at for the function
MAX_APIS = 50
MAX_INTEGRATIONS = 200

#: The logs statement of AWSLambdaBasicExecutionRole (and of the managed policies that contain
#: it), used when the endpoint cannot return an AWS managed policy's document.
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html
_BASIC_LOGS = {
    "Effect": "Allow",
    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
    "Resource": "*",
}
KNOWN_MANAGED = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": [_BASIC_LOGS],
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole": [_BASIC_LOGS],
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole": [_BASIC_LOGS],
    "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole": [_BASIC_LOGS],
    "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole": [_BASIC_LOGS],
}


@dataclass
class S3Trigger:
    bucket: str
    events: list[str]
    prefix: Optional[str] = None


@dataclass
class FunctionView:
    """Everything read about one function; ``skipped`` says which reads were refused."""

    name: str
    arn: Optional[str] = None
    exists: Optional[bool] = None
    timeout_s: Optional[int] = None
    memory_mb: Optional[int] = None
    role_arn: Optional[str] = None
    log_group: Optional[str] = None
    log_format: Optional[str] = None
    application_log_level: Optional[str] = None
    system_log_level: Optional[str] = None
    emf_namespace: Optional[str] = None
    state: Optional[str] = None
    reserved_concurrency: Optional[int] = None
    #: the resource policy's statements (empty: none; None: not read)
    policy: Optional[list[dict[str, Any]]] = None
    s3_triggers: list[S3Trigger] = field(default_factory=list)
    buckets_checked: list[str] = field(default_factory=list)
    mappings: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    function_url: Optional[dict[str, Any]] = None
    #: REST API methods integrated with the function: api_id, api, method, path
    api_methods: list[dict[str, str]] = field(default_factory=list)
    #: execution role statements (Effect, Action, Resource, NotAction...) and where from
    role_statements: Optional[list[tuple[str, dict[str, Any]]]] = None
    skipped: list[str] = field(default_factory=list)

    @property
    def region(self) -> Optional[str]:
        parts = (self.arn or "").split(":")
        return parts[3] if len(parts) > 4 else None

    @property
    def account(self) -> Optional[str]:
        parts = (self.arn or "").split(":")
        return parts[4] if len(parts) > 4 else None

    def to_dict(self) -> dict[str, Any]:
        """The report's ``function_config`` entry (no environment values: they carry data)."""
        return {
            "arn": self.arn,
            "exists": self.exists,
            "timeout_s": self.timeout_s,
            "memory_mb": self.memory_mb,
            "role": self.role_arn,
            "log_group": self.log_group,
            "log_format": self.log_format,
            "state": self.state,
            "reserved_concurrency": self.reserved_concurrency,
            "resource_policy": [statement_summary(s) for s in self.policy]
            if self.policy is not None else None,
            "s3_triggers": [vars(t) for t in self.s3_triggers],
            "buckets_checked": len(self.buckets_checked),
            "event_source_mappings": self.mappings,
            "eventbridge_rules": self.rules,
            "function_url": self.function_url,
            "api_methods": self.api_methods,
            "skipped": self.skipped,
        }


def read_function(
    access: AwsAccess, name: str, *, buckets: tuple[str, ...] = (), scan_buckets: bool = True
) -> FunctionView:
    """Read everything about ``name`` that the caller may read."""
    view = FunctionView(name=name)
    if not _configuration(access, view):
        return view
    _concurrency(access, view)
    _policy(access, view)
    _s3(access, view, buckets, scan_buckets)
    _mappings(access, view)
    _rules(access, view)
    _url(access, view)
    _apis(access, view)
    return view


def _skip(view: FunctionView, check: str, exc: CheckSkipped) -> None:
    view.skipped.append(f"{check} check skipped: {exc.action} {exc.message} ({exc.code})")


def _configuration(access: AwsAccess, view: FunctionView) -> bool:
    try:
        config = access.call("lambda", "get_function_configuration",
                             "lambda:GetFunctionConfiguration", FunctionName=view.name)
    except NotFound:
        view.exists = False
        return False
    except CheckSkipped as exc:
        _skip(view, "configuration (and trigger)", exc)
        return False
    view.exists = True
    view.arn = config.get("FunctionArn")
    view.timeout_s = config.get("Timeout")
    view.memory_mb = config.get("MemorySize")
    view.role_arn = config.get("Role")
    view.state = config.get("State")
    logging = config.get("LoggingConfig") or {}
    view.log_format = logging.get("LogFormat")
    view.application_log_level = logging.get("ApplicationLogLevel")
    view.system_log_level = logging.get("SystemLogLevel")
    base = view.name.split(":", 1)[0] if not view.name.startswith("arn:") else \
        view.name.split(":")[6]
    view.log_group = logging.get("LogGroup") or f"/aws/lambda/{base}"
    variables = (config.get("Environment") or {}).get("Variables") or {}
    # Only this one variable is read: the others may hold secrets and are never kept.
    namespace = variables.get("LAMBDA_TRACE_NAMESPACE")
    view.emf_namespace = str(namespace) if namespace else None
    return True


def _concurrency(access: AwsAccess, view: FunctionView) -> None:
    try:
        answer = access.call("lambda", "get_function_concurrency",
                             "lambda:GetFunctionConcurrency", FunctionName=view.name)
    except NotFound:
        return
    except CheckSkipped as exc:
        _skip(view, "reserved concurrency", exc)
        return
    value = answer.get("ReservedConcurrentExecutions")
    view.reserved_concurrency = int(value) if isinstance(value, int) else None


def _policy(access: AwsAccess, view: FunctionView) -> None:
    try:
        answer = access.call("lambda", "get_policy", "lambda:GetPolicy", FunctionName=view.name)
    except NotFound:
        view.policy = []  # GetPolicy answers 404 when the function has no resource policy
        return
    except CheckSkipped as exc:
        _skip(view, "resource policy", exc)
        return
    try:
        document = json.loads(answer.get("Policy") or "{}")
    except ValueError:
        document = {}
    statements = document.get("Statement") or []
    view.policy = [s for s in (statements if isinstance(statements, list) else [statements])
                   if isinstance(s, dict)]


def _s3(access: AwsAccess, view: FunctionView, named: tuple[str, ...], scan: bool) -> None:
    """Notifications targeting the function: in the buckets named (``--bucket``) and those of
    the policy's SourceArn; without ``--bucket``, also in up to ``MAX_SCANNED_BUCKETS`` of the
    account's buckets (a bucket whose permission is missing is named nowhere else)."""
    candidates = list(dict.fromkeys(
        [*named, *(b for b in policy_buckets(view.policy or []) if b)]
    ))
    asked = set(candidates)
    if not named and scan:
        try:
            listing = access.call("s3", "list_buckets", "s3:ListAllMyBuckets")
            for bucket in listing.get("Buckets") or ():
                if len(candidates) >= MAX_SCANNED_BUCKETS + len(asked):
                    break
                if bucket.get("Name") and bucket["Name"] not in asked:
                    candidates.append(str(bucket["Name"]))
        except NotFound:
            pass
        except CheckSkipped as exc:
            _skip(view, "S3 trigger (bucket list)", exc)
    for bucket in candidates:
        try:
            config = access.call("s3", "get_bucket_notification_configuration",
                                 "s3:GetBucketNotification", Bucket=bucket)
        except NotFound:
            continue
        except CheckSkipped as exc:
            if bucket in asked:  # a scanned bucket may be in another region: not worth a line
                _skip(view, f"S3 trigger (bucket {bucket})", exc)
            continue
        view.buckets_checked.append(bucket)
        for entry in config.get("LambdaFunctionConfigurations") or ():
            if not same_function(str(entry.get("LambdaFunctionArn", "")), view.arn):
                continue
            rules = ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
            prefix = next((r.get("Value") for r in rules
                           if str(r.get("Name", "")).lower() == "prefix"), None)
            view.s3_triggers.append(S3Trigger(bucket, list(entry.get("Events") or ()), prefix))


def _mappings(access: AwsAccess, view: FunctionView) -> None:
    params: dict[str, Any] = {"FunctionName": view.name}
    try:
        while True:
            page = access.call("lambda", "list_event_source_mappings",
                               "lambda:ListEventSourceMappings", **params)
            for m in page.get("EventSourceMappings") or ():
                view.mappings.append({
                    "uuid": m.get("UUID"),
                    "source": m.get("EventSourceArn"),
                    "state": m.get("State"),
                    "state_reason": m.get("StateTransitionReason"),
                    "last_processing_result": m.get("LastProcessingResult"),
                })
            if not page.get("NextMarker"):
                break
            params["Marker"] = page["NextMarker"]
    except NotFound:
        return
    except CheckSkipped as exc:
        _skip(view, "event source mapping", exc)


def _rules(access: AwsAccess, view: FunctionView) -> None:
    """Rules targeting the function, and rules its policy lets invoke it (they should)."""
    if not view.arn:
        return
    names: dict[str, bool] = {}
    try:
        answer = access.call("events", "list_rule_names_by_target", "events:ListRuleNamesByTarget",
                             TargetArn=view.arn)
        for name in answer.get("RuleNames") or ():
            names[str(name)] = True
    except NotFound:
        pass
    except CheckSkipped as exc:
        _skip(view, "EventBridge rule", exc)
        return
    for arn in policy_source_arns(view.policy or [], "events.amazonaws.com"):
        rule = arn.rsplit("/", 1)[-1]
        if rule and rule not in names:
            names[rule] = False
    for rule, targets_function in names.items():
        entry: dict[str, Any] = {"name": rule, "targets_function": targets_function}
        try:
            entry["state"] = access.call("events", "describe_rule", "events:DescribeRule",
                                         Name=rule).get("State")
        except NotFound:
            entry["state"] = "MISSING"
        except CheckSkipped as exc:
            _skip(view, f"EventBridge rule {rule}", exc)
        view.rules.append(entry)


def _url(access: AwsAccess, view: FunctionView) -> None:
    try:
        answer = access.call("lambda", "get_function_url_config", "lambda:GetFunctionUrlConfig",
                             FunctionName=view.name)
    except NotFound:
        return
    except CheckSkipped as exc:
        _skip(view, "function URL", exc)
        return
    view.function_url = {"auth_type": answer.get("AuthType"), "url": answer.get("FunctionUrl")}


def _apis(access: AwsAccess, view: FunctionView) -> None:
    """REST API methods whose integration invokes the function (HTTP APIs are not read)."""
    if not view.arn:
        return
    calls = 0
    try:
        apis = access.call("apigateway", "get_rest_apis", "apigateway:GET", limit=MAX_APIS)
        for api in apis.get("items") or ():
            resources = access.call("apigateway", "get_resources", "apigateway:GET",
                                    restApiId=api["id"], limit=500)
            for resource in resources.get("items") or ():
                for method in resource.get("resourceMethods") or {}:
                    if calls >= MAX_INTEGRATIONS:
                        return
                    calls += 1
                    try:
                        integration = access.call(
                            "apigateway", "get_integration", "apigateway:GET",
                            restApiId=api["id"], resourceId=resource["id"], httpMethod=method)
                    except NotFound:
                        continue
                    uri = str(integration.get("uri") or "")
                    if f"/functions/{view.arn}/" in uri or f"/functions/{view.arn}:" in uri:
                        view.api_methods.append({
                            "api_id": str(api["id"]), "api": str(api.get("name") or ""),
                            "method": str(method), "path": str(resource.get("path") or "/"),
                        })
    except NotFound:
        return
    except CheckSkipped as exc:
        _skip(view, "API Gateway", exc)


# -- the execution role ------------------------------------------------------------------------


def read_role(access: AwsAccess, view: FunctionView) -> None:
    """The role's attached and inline policy statements into ``view.role_statements``."""
    role = (view.role_arn or "").rsplit("/", 1)[-1]
    if not role:
        return
    statements: list[tuple[str, dict[str, Any]]] = []
    try:
        access.call("iam", "get_role", "iam:GetRole", RoleName=role)
        attached = access.call("iam", "list_attached_role_policies",
                               "iam:ListAttachedRolePolicies", RoleName=role)
        for policy in attached.get("AttachedPolicies") or ():
            arn = str(policy.get("PolicyArn"))
            statements.extend((arn, s) for s in _managed_statements(access, arn))
        inline = access.call("iam", "list_role_policies", "iam:ListRolePolicies", RoleName=role)
        for name in inline.get("PolicyNames") or ():
            doc = access.call("iam", "get_role_policy", "iam:GetRolePolicy", RoleName=role,
                              PolicyName=name).get("PolicyDocument")
            statements.extend((f"inline {name}", s) for s in parse_statements(doc))
    except NotFound:
        view.skipped.append(f"execution role check skipped: role {role} does not exist")
        return
    except CheckSkipped as exc:
        _skip(view, "execution role", exc)
        return
    view.role_statements = statements


def _managed_statements(access: AwsAccess, arn: str) -> list[dict[str, Any]]:
    try:
        policy = access.call("iam", "get_policy", "iam:GetPolicy", PolicyArn=arn)["Policy"]
        version = access.call("iam", "get_policy_version", "iam:GetPolicyVersion", PolicyArn=arn,
                              VersionId=policy["DefaultVersionId"])
        return parse_statements(version["PolicyVersion"].get("Document"))
    except NotFound:
        return list(KNOWN_MANAGED.get(arn, []))


def same_function(arn: str, function_arn: Optional[str]) -> bool:
    """``arn`` names the function (unqualified, or with a version or alias qualifier)."""
    if not function_arn:
        return False
    return arn == function_arn or arn.rsplit(":", 1)[0] == function_arn
