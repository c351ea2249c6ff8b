"""What Lambda itself keeps in the account for the demo's functions, so ``analyze --function``
can read it: the functions' configuration, their triggers and permissions, and their metrics.

The local runner plays Lambda's part in running the code; here it also plays Lambda's part in
the account: each template function is registered in moto (``CreateFunction``, with its role,
timeout and memory), the template's S3 notifications and ``AWS::Lambda::Permission`` statements
are put in place as CloudFormation would, and every invocation is published as Lambda publishes
it (``AWS/Lambda`` ``Invocations``, ``Errors``, ``Duration`` per ``FunctionName``;
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).

And the seed's first troubleshooting scenario: a thumbnail variant whose bucket notification
exists but whose invoke permission does not (what happens when a function is deleted and
re-created: the notification stays, the resource policy is gone). S3 never reaches it, so it
has no invocation and no log group; its report must name the missing link.
"""

from __future__ import annotations

import io
import threading
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional

from lambda_trace.local.runner import InvokeResult
from lambda_trace.local.template import FunctionSpec, Template

#: logical id and name suffix of the variant without an invoke permission
UNWIRED = "ThumbnailUnwired"
UNWIRED_SUFFIX = "-unwired"
UNWIRED_PREFIX = "incoming/"
#: the finding kind the variant's report must contain
UNWIRED_EXPECTED = "not_invoked"
#: PutMetricData takes at most 1,000 metrics per request
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
PUT_LIMIT = 1000
#: outcomes Lambda counts in its Errors metric (function errors, timeouts, crashes)
ERROR_OUTCOMES = frozenset({"error", "timeout", "out_of_memory", "crashed", "init_error"})


@dataclass
class MetricsRecorder:
    """Every invocation's outcome and duration, with its time, as Lambda would count it."""

    datapoints: list[tuple[str, float, bool, float]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, function_name: str, result: InvokeResult) -> None:
        with self._lock:
            self.datapoints.append((function_name, time.time(), result.outcome in ERROR_OUTCOMES,
                                    result.duration_ms))

    def publish(self, cloudwatch: Any) -> int:
        """Put the datapoints into ``AWS/Lambda``; returns how many metric values were put."""
        data: list[dict[str, Any]] = []
        for name, at, failed, duration_ms in self.datapoints:
            when = datetime.fromtimestamp(at, tz=timezone.utc)
            dims = [{"Name": "FunctionName", "Value": name}]
            data.append({"MetricName": "Invocations", "Dimensions": dims, "Timestamp": when,
                         "Value": 1.0, "Unit": "Count"})
            data.append({"MetricName": "Errors", "Dimensions": dims, "Timestamp": when,
                         "Value": 1.0 if failed else 0.0, "Unit": "Count"})
            data.append({"MetricName": "Duration", "Dimensions": dims, "Timestamp": when,
                         "Value": round(duration_ms, 2), "Unit": "Milliseconds"})
        for i in range(0, len(data), PUT_LIMIT):
            cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=data[i:i + PUT_LIMIT])
        return len(data)


def _code_zip(spec: FunctionSpec) -> bytes:
    """The function's handler module, zipped (moto keeps it; nothing runs it there)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        module = spec.handler_module
        z.writestr(module.relative_to(spec.code_dir).as_posix(),
                   module.read_text(encoding="utf-8"))
    return buf.getvalue()


def register(account: Any, template: Template) -> str:
    """Create the functions, notifications and permissions; returns the variant's name."""
    lam, iam, s3 = account.client("lambda"), account.client("iam"), account.client("s3")
    arns: dict[str, str] = {}
    for logical_id, spec in template.functions.items():
        arns[logical_id] = _create(lam, iam, spec, spec.name)
    thumbnail = template.functions.get("Thumbnail")
    unwired = ""
    if thumbnail is not None:
        unwired = thumbnail.name + UNWIRED_SUFFIX
        arns[UNWIRED] = _create(lam, iam, thumbnail, unwired)
    resources = template.cloudformation.get("Resources") or {}
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::S3::Bucket" or logical_id not in template.buckets:
            continue
        notification = (resource.get("Properties") or {}).get("NotificationConfiguration") or {}
        configs = [_lambda_config(c, arns) for c in notification.get("LambdaConfigurations") or ()]
        if logical_id == "UploadsBucket" and UNWIRED in arns:
            configs.append({"LambdaFunctionArn": arns[UNWIRED], "Events": ["s3:ObjectCreated:*"],
                            "Filter": {"Key": {"FilterRules": [
                                {"Name": "prefix", "Value": UNWIRED_PREFIX}]}}})
        configs = [c for c in configs if c]
        if configs:
            s3.put_bucket_notification_configuration(
                Bucket=template.buckets[logical_id],
                NotificationConfiguration={"LambdaFunctionConfigurations": configs})
    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::Lambda::Permission":
            _permission(lam, logical_id, resource.get("Properties") or {}, template)
    return unwired


def _create(lam: Any, iam: Any, spec: FunctionSpec, name: str) -> str:
    role = f"arn:aws:iam::{spec.account}:role/lambda-trace-demo"
    if spec.role is not None:
        role = str(iam.get_role(RoleName=spec.role.name)["Role"]["Arn"])
    variables = {k: v for k, v in spec.environment.items() if k == "LAMBDA_TRACE_NAMESPACE"}
    answer = lam.create_function(
        FunctionName=name, Runtime=spec.runtime, Role=role, Handler=spec.handler,
        Code={"ZipFile": _code_zip(spec)}, Timeout=int(spec.timeout_s),
        MemorySize=spec.memory_mb, Environment={"Variables": variables},
    )
    return str(answer["FunctionArn"])


def _lambda_config(config: dict[str, Any], arns: dict[str, str]) -> Optional[dict[str, Any]]:
    target = (config.get("Function") or {}).get("Fn::GetAtt") or [None]
    arn = arns.get(str(target[0]))
    if arn is None:
        return None
    rules = ((config.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
    out: dict[str, Any] = {"LambdaFunctionArn": arn, "Events": [config.get("Event")]}
    if rules:
        out["Filter"] = {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]}
                                                 for r in rules]}}
    return out


def _permission(lam: Any, logical_id: str, props: dict[str, Any], template: Template) -> None:
    """An ``AWS::Lambda::Permission`` as CloudFormation would add it (ARNs of local names)."""
    target = (props.get("FunctionName") or {}).get("Ref")
    spec = template.functions.get(str(target))
    if spec is None:
        return
    params: dict[str, Any] = {
        "FunctionName": spec.name, "StatementId": logical_id[:100],
        "Action": str(props.get("Action")), "Principal": str(props.get("Principal")),
    }
    if "SourceAccount" in props:
        params["SourceAccount"] = spec.account
    lam.add_permission(**params)


def check_unwired(report: dict[str, Any]) -> tuple[bool, str]:
    """Whether the variant's report names the missing invoke permission, and its line."""
    for finding in report.get("findings") or []:
        if finding.get("kind") == UNWIRED_EXPECTED and "add-permission" in str(
            (finding.get("evidence") or {}).get("command")
        ):
            return True, f"{UNWIRED_EXPECTED} — {finding.get('subject')}"
    kinds = ", ".join(sorted({str(f.get("kind")) for f in report.get("findings") or []}))
    return False, f"expected {UNWIRED_EXPECTED}; the report has: {kinds or 'no findings'}"
