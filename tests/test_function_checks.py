"""``analyze --function`` beyond the logs: Lambda's metrics and the function's configuration.

Everything here goes over HTTP to the real moto server: functions (a tiny in-memory zip), their
resource policies, bucket notifications, event source mappings, EventBridge rules, IAM roles and
CloudWatch metrics put with timestamps relative to now.
"""

from __future__ import annotations

import io
import json
import time
import urllib.request
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

import pytest

from lambda_trace.analyzer.cli import main
from lambda_trace.analyzer.findings_config import Observed, logs_not_written
from lambda_trace.analyzer.function_config import FunctionView

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}
LOGS_OK = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow",
                   "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                   "Resource": "*"}],
}


def code_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


def make_function(moto: Any, name: str, *, policy: Optional[dict[str, Any]] = LOGS_OK,
                  **config: Any) -> str:
    iam = moto.client("iam")
    role = iam.create_role(RoleName=f"{name}-role",
                           AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    if policy is not None:
        iam.put_role_policy(RoleName=f"{name}-role", PolicyName="logs",
                            PolicyDocument=json.dumps(policy))
    arn = moto.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": code_zip()}, **config,
    )["FunctionArn"]
    return str(arn)


def put_metric(moto: Any, name: str, metric: str, values: list[float], *,
               minutes_ago: float = 10, namespace: str = "AWS/Lambda",
               dimensions: Optional[list[dict[str, str]]] = None) -> None:
    now = datetime.now(timezone.utc)
    moto.client("cloudwatch").put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": metric,
         "Dimensions": dimensions or [{"Name": "FunctionName", "Value": name}],
         "Timestamp": now - timedelta(minutes=minutes_ago + i * 0.1), "Value": v}
        for i, v in enumerate(values)
    ])


def analyze(moto: Any, tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "report.json"
    code = main(["analyze", "--no-progress", "--endpoint-url", moto.endpoint, "--region",
                 "us-east-1", "--format", "json", "-o", str(out), *args])
    return code, json.loads(out.read_text()) if out.exists() else {}


def of_kind(report: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["kind"] == kind]


# -- "is it receiving requests?" ---------------------------------------------------------------


def test_bucket_notification_without_invoke_permission_is_named(
    moto: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The seed's scenario: photos notifies thumb, thumb's policy lets no S3 in; no log group."""
    arn = make_function(moto, "thumb")
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="photos")
    s3.put_bucket_notification_configuration(Bucket="photos", NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn,
                                          "Events": ["s3:ObjectCreated:*"]}]})
    code, report = analyze(moto, tmp_path, "--function", "thumb")
    assert code == 0  # the missing log group is no longer fatal
    (finding,) = of_kind(report, "not_invoked")
    assert finding["function"] == "thumb" and finding["severity"] == "high"
    assert finding["subject"] == "s3://photos → thumb"
    assert "has no statement allowing s3.amazonaws.com from arn:aws:s3:::photos" in \
        finding["advice"]
    assert finding["evidence"]["command"] == (
        "aws lambda add-permission --function-name thumb --statement-id s3-photos "
        "--action lambda:InvokeFunction --principal s3.amazonaws.com "
        "--source-arn arn:aws:s3:::photos --source-account 123456789012"
    )
    assert not of_kind(report, "no_invocations")  # the concrete cause replaces the generic one
    assert report["input"]["sources"]["missing_log_groups"] == ["/aws/lambda/thumb"]
    assert "log group /aws/lambda/thumb does not exist" in capsys.readouterr().err

    # the command the finding gives, done through the API: the finding goes away
    moto.client("lambda").add_permission(
        FunctionName="thumb", StatementId="s3-photos", Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::photos",
        SourceAccount="123456789012")
    code, report = analyze(moto, tmp_path, "--function", "thumb", "--bucket", "photos")
    assert code == 0 and not of_kind(report, "not_invoked")
    assert report["function_config"]["thumb"]["s3_triggers"] == [
        {"bucket": "photos", "events": ["s3:ObjectCreated:*"], "prefix": None}]

    # a second bucket, named nowhere in the policy, is found among the account's buckets
    s3.create_bucket(Bucket="avatars")
    s3.put_bucket_notification_configuration(Bucket="avatars", NotificationConfiguration={
        "LambdaFunctionConfigurations": [{
            "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:Put"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "new/"}]}}}]})
    code, report = analyze(moto, tmp_path, "--function", "thumb")
    (finding,) = of_kind(report, "not_invoked")
    assert finding["subject"] == "s3://avatars → thumb"
    assert finding["evidence"]["prefix"] == "new/"
    assert finding["severity"] == "high"  # no invocation counted either


def test_disabled_mapping_reserved_zero_and_rules_have_their_own_advice(
    moto: Any, tmp_path: Path
) -> None:
    arn = make_function(moto, "worker")
    sqs = moto.client("sqs")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    lam = moto.client("lambda")
    uuid = lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName="worker",
                                           Enabled=False)["UUID"]
    lam.put_function_concurrency(FunctionName="worker", ReservedConcurrentExecutions=0)
    events = moto.client("events")
    events.put_rule(Name="nightly", ScheduleExpression="rate(1 day)", State="DISABLED")
    events.put_targets(Rule="nightly", Targets=[{"Id": "1", "Arn": arn}])
    # a rule the policy allows, which does not target the function
    events.put_rule(Name="hourly", ScheduleExpression="rate(1 hour)")
    lam.add_permission(FunctionName="worker", StatementId="hourly",
                       Action="lambda:InvokeFunction", Principal="events.amazonaws.com",
                       SourceArn="arn:aws:events:us-east-1:123456789012:rule/hourly")
    code, report = analyze(moto, tmp_path, "--function", "worker", "--fail-on", "not_invoked")
    assert code == 1  # --fail-on accepts the new kinds
    by_subject = {f["subject"]: f for f in of_kind(report, "not_invoked")}
    assert set(by_subject) == {
        "worker reserved concurrency 0", f"mapping {queue_arn} → worker",
        "rule nightly → worker", "rule hourly → worker",
    }
    assert "delete-function-concurrency --function-name worker" in \
        by_subject["worker reserved concurrency 0"]["advice"]
    mapping = by_subject[f"mapping {queue_arn} → worker"]["evidence"]
    assert mapping["state"] == "Disabled"
    assert mapping["command"] == f"aws lambda update-event-source-mapping --uuid {uuid} --enabled"
    assert by_subject["rule nightly → worker"]["evidence"]["command"] == \
        "aws events enable-rule --name nightly"
    assert "has no target worker" in by_subject["rule hourly → worker"]["advice"]
    assert by_subject["rule hourly → worker"]["evidence"]["command"].startswith(
        "aws events put-targets --rule hourly --targets Id=worker,Arn=arn:aws:lambda:")


def test_a_function_that_does_not_exist_is_named(moto: Any, tmp_path: Path) -> None:
    code, report = analyze(moto, tmp_path, "--function", "ghost")
    assert code == 0
    (finding,) = of_kind(report, "not_invoked")
    assert finding["evidence"]["exists"] is False and finding["subject"] == "ghost"


# -- "it runs but logs nothing" ----------------------------------------------------------------


def test_invocations_without_logs_name_the_missing_log_permissions(
    moto: Any, tmp_path: Path
) -> None:
    """Metrics count invocations, there is no log group, the role may only create streams."""
    streams_only = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "logs:CreateLogStream",
        "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/resizer:*"}]}
    make_function(moto, "resizer", policy=streams_only)
    put_metric(moto, "resizer", "Invocations", [3, 4])
    code, report = analyze(moto, tmp_path, "--function", "resizer")
    assert code == 0
    (finding,) = of_kind(report, "logs_not_written")
    evidence = finding["evidence"]
    assert finding["function"] == "resizer" and finding["subject"] == "/aws/lambda/resizer"
    assert evidence["invocations_metric"] == 7 and evidence["log_group_exists"] is False
    assert evidence["missing_actions"] == ["logs:CreateLogGroup", "logs:PutLogEvents"]
    assert evidence["role"] == "arn:aws:iam::123456789012:role/resizer-role"
    assert evidence["suggested_policy"]["Statement"][0]["Resource"] == [
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/resizer",
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/resizer:*",
    ]
    assert not of_kind(report, "no_invocations")


def test_a_custom_logging_config_group_is_the_one_checked() -> None:
    """LoggingConfig.LogGroup (moto does not model it, so the view is built directly)."""
    view = FunctionView(
        name="resizer", arn="arn:aws:lambda:eu-west-1:111122223333:function:resizer",
        log_group="/custom/resizer", role_arn="arn:aws:iam::111122223333:role/r",
        role_statements=[("inline logs", {
            "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/*"})],
    )
    seen = Observed(invocations_metric=5, log_group_exists=True, log_events=0)
    (finding,) = logs_not_written(view, seen)
    assert finding.subject == "/custom/resizer"
    assert finding.evidence["missing_actions"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert "(the custom LoggingConfig log group)" in finding.advice
    assert "arn:aws:logs:eu-west-1:111122223333:log-group:/custom/resizer" in finding.advice
    # the same role on the default group: nothing missing, other advice
    view.log_group = "/aws/lambda/resizer"
    (finding,) = logs_not_written(view, seen)
    assert finding.evidence["missing_actions"] == []


def test_a_role_that_may_write_logs_gets_other_advice(moto: Any, tmp_path: Path) -> None:
    make_function(moto, "quiet")
    moto.client("logs").create_log_group(logGroupName="/aws/lambda/quiet")
    put_metric(moto, "quiet", "Invocations", [2])
    code, report = analyze(moto, tmp_path, "--function", "quiet")
    assert code == 0
    (finding,) = of_kind(report, "logs_not_written")
    assert finding["evidence"]["missing_actions"] == []
    assert finding["evidence"]["log_group_exists"] is True
    assert "although the execution role allows writing to it" in finding["advice"]


def test_an_explicit_deny_wins_over_an_allow(moto: Any, tmp_path: Path) -> None:
    deny = {"Version": "2012-10-17", "Statement": [
        LOGS_OK["Statement"][0],
        {"Effect": "Deny", "Action": "logs:PutLogEvents", "Resource": "*"}]}
    make_function(moto, "denied", policy=deny)
    put_metric(moto, "denied", "Invocations", [1])
    _, report = analyze(moto, tmp_path, "--function", "denied")
    (finding,) = of_kind(report, "logs_not_written")
    assert finding["evidence"]["missing_actions"] == ["logs:PutLogEvents"]


# -- metrics, and configuration against them ---------------------------------------------------


def test_metrics_are_summed_and_series_per_period(moto: Any, tmp_path: Path) -> None:
    make_function(moto, "api", Timeout=3)
    moto.client("logs").create_log_group(logGroupName="/aws/lambda/api")
    put_metric(moto, "api", "Invocations", [5, 5, 2], minutes_ago=20)
    put_metric(moto, "api", "Errors", [1], minutes_ago=20)
    put_metric(moto, "api", "Duration", [100, 200, 2995], minutes_ago=20)
    put_metric(moto, "api", "Throttles", [4], minutes_ago=5)
    put_metric(moto, "api", "Timeouts", [1], namespace="LambdaTrace",
               dimensions=[{"Name": "service", "Value": "api"}])
    put_metric(moto, "api", "DownstreamLatency", [40, 60], namespace="LambdaTrace",
               dimensions=[{"Name": "service", "Value": "api"},
                           {"Name": "Service", "Value": "dynamodb"},
                           {"Name": "Operation", "Value": "GetItem"}])
    code, report = analyze(moto, tmp_path, "--function", "api", "--since", "1h")
    assert code == 0
    m = report["metrics"]["api"]
    assert m["Invocations"] == {"sum": 12.0}
    assert m["Errors"] == {"sum": 1.0} and m["Throttles"] == {"sum": 4.0}
    assert m["Duration"]["max"] == 2995.0
    assert m["Duration"]["avg"] == pytest.approx((100 + 200 + 2995) / 3, abs=0.01)
    assert m["Timeouts"] == {"sum": 1.0}
    assert m["DownstreamLatency"]["dynamodb GetItem"]["avg"] == 50.0
    series = m["series"]
    assert series["period_s"] == 60 and len(series["timestamps"]) in (60, 61)
    assert sum(series["Invocations.sum"]) == 12 and sum(series["Throttles.sum"]) == 4
    assert max(v for v in series["Duration.max"] if v is not None) == 2995.0
    # moto refuses extended statistics: said (on stderr once per process), the rest is there
    assert any("Duration p50/p99" in line for line in report["aws_checks"]["skipped"])
    assert "p99" not in m["Duration"]
    # configuration against what happened
    observed = {f["subject"]: f for f in of_kind(report, "config_vs_observed")}
    assert observed["api Timeout"]["severity"] == "high"
    assert observed["api Timeout"]["advice"].startswith(
        "Configured Timeout 3 s, observed maximum duration 2995 ms")
    assert observed["api concurrency"]["evidence"]["observed_throttles"] == 4.0


def test_reserved_concurrency_against_throttles(moto: Any, tmp_path: Path) -> None:
    make_function(moto, "capped")
    moto.client("lambda").put_function_concurrency(FunctionName="capped",
                                                   ReservedConcurrentExecutions=2)
    put_metric(moto, "capped", "Throttles", [3, 4])
    put_metric(moto, "capped", "Invocations", [10])
    _, report = analyze(moto, tmp_path, "--function", "capped")
    (finding,) = [f for f in of_kind(report, "config_vs_observed")
                  if f["subject"] == "capped ReservedConcurrency"]
    assert finding["advice"].startswith("Configured reserved concurrency 2, observed 7 throttles")


def test_no_metrics_and_no_config_skip_the_calls(moto: Any, tmp_path: Path) -> None:
    moto.client("logs").create_log_group(logGroupName="/aws/lambda/plain")
    code, report = analyze(moto, tmp_path, "--function", "plain", "--no-metrics", "--no-config")
    assert code == 0
    assert "metrics" not in report and "function_config" not in report
    code, report = analyze(moto, tmp_path, "--function", "plain", "--no-config")
    assert report["metrics"]["plain"]["Invocations"] == {"sum": 0.0}
    # metrics alone still tell "runs but logs nothing"; the role is not read
    put_metric(moto, "plain", "Invocations", [4])
    code, report = analyze(moto, tmp_path, "--function", "plain", "--no-config")
    (finding,) = of_kind(report, "logs_not_written")
    assert finding["evidence"]["missing_actions"] is None
    assert "The execution role was not read" in finding["advice"]


def _set_auth(moto: Any, count: str) -> None:
    request = urllib.request.Request(f"{moto.endpoint}/moto-api/reset-auth",
                                     data=count.encode(), method="POST",
                                     headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=10).read()


def test_a_refused_check_is_skipped_with_one_line(
    moto: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A caller allowed only logs:* still gets the log report, and one line per skipped read.

    (moto's Lambda API rejects every signature while IAM is enforced, so the configuration
    reads are left out here: --no-config.)
    """
    moto.client("logs").create_log_group(logGroupName="/aws/lambda/locked")
    iam = moto.client("iam")
    iam.create_user(UserName="reader")
    iam.put_user_policy(UserName="reader", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    _set_auth(moto, "0")
    try:
        code, report = analyze(moto, tmp_path, "--function", "locked", "--no-config")
    finally:
        _set_auth(moto, "inf")
    assert code == 0
    lines = capsys.readouterr().err.splitlines()
    assert sum("cloudwatch:GetMetricData failed (AccessDenied): denied" in ln for ln in lines) == 1
    assert sum("cloudwatch:ListMetrics failed (AccessDenied)" in ln for ln in lines) == 1
    assert report["metrics"] == {}
    assert len(report["aws_checks"]["skipped"]) == 2


# -- long windows ------------------------------------------------------------------------------


def test_a_long_window_reads_logs_only_around_the_failures(
    moto: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_function(moto, "batch")
    logs = moto.client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/batch")
    logs.create_log_stream(logGroupName="/aws/lambda/batch", logStreamName="s")
    now_ms = int(time.time() * 1000)
    failure_ms = now_ms - 3 * 86_400_000
    quiet_ms = now_ms - 86_400_000
    put_metric(moto, "batch", "Errors", [2], minutes_ago=3 * 1440)
    put_metric(moto, "batch", "Invocations", [2], minutes_ago=3 * 1440)
    put_metric(moto, "batch", "Invocations", [9], minutes_ago=1440)
    logs.put_log_events(logGroupName="/aws/lambda/batch", logStreamName="s", logEvents=[
        {"timestamp": failure_ms, "message": "near the failure"},
        {"timestamp": quiet_ms, "message": "a quiet day"},
    ])
    code, report = analyze(moto, tmp_path, "--function", "batch", "--since", "7d")
    assert code == 0
    plan = report["aws_checks"]["log_plan"]
    assert plan["mode"] == "around_failures" and len(plan["windows"]) == 1
    assert report["input"]["sources"]["events"] == 1  # the quiet day's line was not read
    assert report["metrics"]["batch"]["Invocations"]["sum"] == 11.0
    assert "long window: read logs only around the 1 period(s)" in capsys.readouterr().err
    _, full = analyze(moto, tmp_path, "--function", "batch", "--since", "7d", "--full-logs")
    assert full["input"]["sources"]["events"] == 2


def test_an_api_route_and_a_function_url_without_permission_are_named(
    moto: Any, tmp_path: Path
) -> None:
    """REST API GET /orders/{id} integrates the function; the policy allows only another route."""
    arn = make_function(moto, "orders")
    api = moto.client("apigateway")
    api_id = api.create_rest_api(name="shop")["id"]
    root = next(r["id"] for r in api.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    orders = api.create_resource(restApiId=api_id, parentId=root, pathPart="orders")["id"]
    one = api.create_resource(restApiId=api_id, parentId=orders, pathPart="{id}")["id"]
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"
    for resource in (orders, one):
        api.put_method(restApiId=api_id, resourceId=resource, httpMethod="GET",
                       authorizationType="NONE")
        api.put_integration(restApiId=api_id, resourceId=resource, httpMethod="GET",
                            type="AWS_PROXY", integrationHttpMethod="POST", uri=uri)
    lam = moto.client("lambda")
    lam.add_permission(FunctionName="orders", StatementId="list", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:us-east-1:123456789012:{api_id}/prod/GET/orders")
    lam.create_function_url_config(FunctionName="orders", AuthType="NONE")
    code, report = analyze(moto, tmp_path, "--function", "orders")
    assert code == 0
    by_subject = {f["subject"]: f for f in of_kind(report, "not_invoked")}
    assert set(by_subject) == {"API shop GET /orders/{id} → orders", "function URL → orders"}
    assert by_subject["API shop GET /orders/{id} → orders"]["evidence"]["command"].endswith(
        f"--source-arn 'arn:aws:execute-api:us-east-1:123456789012:{api_id}/*/GET/orders/*'")
    assert "--function-url-auth-type NONE" in by_subject["function URL → orders"]["advice"]
    assert {m["path"] for m in report["function_config"]["orders"]["api_methods"]} == {
        "/orders", "/orders/{id}"}


def test_environment_values_never_reach_the_report_but_the_namespace_is_used(
    moto: Any, tmp_path: Path
) -> None:
    """Only LAMBDA_TRACE_NAMESPACE is read from the environment; the other values carry data."""
    make_function(moto, "billing", Environment={"Variables": {
        "DB_PASSWORD": "hunter2-not-for-reports", "LAMBDA_TRACE_NAMESPACE": "Shop"}})
    moto.client("logs").create_log_group(logGroupName="/aws/lambda/billing")
    put_metric(moto, "billing", "Timeouts", [2], namespace="Shop",
               dimensions=[{"Name": "service", "Value": "billing"}])
    code, report = analyze(moto, tmp_path, "--function", "billing")
    assert code == 0
    assert report["metrics"]["billing"]["Timeouts"] == {"sum": 2.0}
    text = (tmp_path / "report.json").read_text()
    assert "hunter2" not in text and "DB_PASSWORD" not in text
