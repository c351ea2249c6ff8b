"""template.yaml is a valid SAM template whose functions, layer and alarms all resolve.

cfn-lint alone misses SAM errors, so the template goes through two stages: the SAM transform
(aws-sam-translator, offline: region set, a stub managed-policy loader, ``s3://`` code
locations), then cfn-lint on the CloudFormation it produces; cfn-lint also checks the template
as written.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
#: The EMF metrics the runtime writes, and the dimension set each is published with
#: (lambda_trace/_emf.py: own metrics by {service}, latencies by {service, Service, Operation},
#: failed calls by {service, ErrorClass}).
METRIC_DIMENSIONS = {
    "Duration": {"service"},
    "ColdStart": {"service"},
    "MemoryUsedMB": {"service"},
    "Errors": {"service"},
    "Timeouts": {"service"},
    "DownstreamLatency": {"service", "Service", "Operation"},
    "DownstreamErrors": {"service", "ErrorClass"},
}


class StubManagedPolicyLoader:
    """The translator asks IAM for managed policy ARNs; offline, it knows none."""

    def load(self) -> dict[str, str]:
        return {}


def transform(template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Stage 1: the SAM transform, as `sam deploy` runs it, without an account."""
    from samtranslator.translator.transform import transform as sam_transform

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    template = copy.deepcopy(template)
    for logical_id, resource in template["Resources"].items():
        key = {
            "AWS::Serverless::Function": "CodeUri",
            "AWS::Serverless::LayerVersion": "ContentUri",
        }.get(resource["Type"])
        if key:
            resource["Properties"][key] = f"s3://lambda-trace-artifacts/{logical_id}.zip"
    return sam_transform(template, {}, StubManagedPolicyLoader())


def cfn_lint(document: str) -> list[str]:
    from cfnlint.api import ManualArgs, lint

    return [str(match) for match in lint(document, config=ManualArgs(regions=["us-east-1"]))]


@pytest.fixture
def cloudformation(sam_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    return transform(sam_template, monkeypatch)


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        k: r["Properties"]
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    }


def test_the_sam_transform_accepts_the_template(cloudformation: dict[str, Any]):
    """Stage 1: the transform yields plain CloudFormation with one Lambda function per sample."""
    types = {r["Type"] for r in cloudformation["Resources"].values()}
    assert not any(t.startswith("AWS::Serverless::") for t in types)
    lambdas = {
        k for k, r in cloudformation["Resources"].items() if r["Type"] == "AWS::Lambda::Function"
    }
    assert lambdas == {
        "Thumbnail",
        "OrdersApi",
        "OrdersPg",
        "PriceQuote",
        "ReportExport",
        "ReceiptArchiver",
        "InvoiceTotals",
    }


def test_cfn_lint_passes_the_transformed_template(cloudformation: dict[str, Any]):
    """Stage 2: cfn-lint finds nothing in what the transform produced."""
    assert cfn_lint(json.dumps(cloudformation)) == []


def test_cfn_lint_passes_the_template_as_written():
    """cfn-lint (which understands SAM's short forms) finds nothing in template.yaml."""
    assert cfn_lint(TEMPLATE.read_text()) == []


def test_the_two_stages_catch_broken_templates(sam_template: dict[str, Any], monkeypatch):
    """The checks can fail: a SAM error stops the transform, a CloudFormation error fails lint."""
    from samtranslator.model.exceptions import InvalidDocumentException

    broken = copy.deepcopy(sam_template)
    broken["Resources"]["OrdersApi"]["Properties"]["Policies"] = [
        {"DynamoDBReadPolicy": {"NoSuchParameter": "x"}}
    ]
    with pytest.raises(InvalidDocumentException):
        transform(broken, monkeypatch)
    too_small = copy.deepcopy(sam_template)
    too_small["Resources"]["ReportExport"]["Properties"]["MemorySize"] = 64
    problems = cfn_lint(json.dumps(transform(too_small, monkeypatch)))
    assert any("64 is less than the minimum of 128" in p for p in problems)


def test_every_code_uri_and_handler_resolves(sam_template: dict[str, Any]):
    """Each CodeUri is a directory whose handler module defines the handler function."""
    for logical_id, props in functions(sam_template).items():
        code = ROOT / props["CodeUri"]
        module, function = props["Handler"].rsplit(".", 1)
        path = code / (module.replace(".", "/") + ".py")
        assert path.is_file(), f"{logical_id}: {path} missing"
        tree = ast.parse(path.read_text())
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert function in defined, f"{logical_id}: {function} not defined in {path}"
        assert "from lambda_trace import" in path.read_text(), f"{logical_id} is not traced"


def test_the_layer_holds_lambda_trace_and_its_dependencies(sam_template: dict[str, Any]):
    """sam build packs layer/: the package plus requirements equal to its runtime dependencies."""
    (layer,) = [
        r for r in sam_template["Resources"].values()
        if r["Type"] == "AWS::Serverless::LayerVersion"
    ]
    assert layer["Metadata"]["BuildMethod"] == "python3.12"
    content = ROOT / layer["Properties"]["ContentUri"]
    assert (content / "lambda_trace" / "__init__.py").is_file()
    requirements = [
        line.strip()
        for line in (content / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert sorted(requirements) == sorted(project["dependencies"])
    layer_id = next(
        k for k, r in sam_template["Resources"].items()
        if r["Type"] == "AWS::Serverless::LayerVersion"
    )
    assert sam_template["Globals"]["Function"]["Layers"] == [{"Ref": layer_id}]


def test_each_sample_has_an_event_a_requirements_file_and_a_readme_line(
    sam_template: dict[str, Any],
):
    """Samples deploy with sam build (requirements.txt) and run locally with event.json."""
    readme = (ROOT / "sample_functions" / "README.md").read_text()
    for logical_id, props in functions(sam_template).items():
        code = ROOT / props["CodeUri"]
        json.loads((code / "event.json").read_text())
        assert (code / "requirements.txt").is_file()
        assert f"`{code.name}`" in readme and logical_id in readme


def test_logging_tracing_and_least_privilege(cloudformation: dict[str, Any]):
    """Both log formats are used, tracing is active, and only ReceiptArchiver lacks a write."""
    resources = cloudformation["Resources"]
    lambdas = {
        k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function"
    }
    formats = {p["LoggingConfig"]["LogFormat"] for p in lambdas.values()}
    assert formats == {"Text", "JSON"}
    assert {p["TracingConfig"]["Mode"] for p in lambdas.values()} == {"Active"}

    def actions(function: str, bucket: str) -> set[str]:
        role = resources[lambdas[function]["Role"]["Fn::GetAtt"][0]]["Properties"]
        found: set[str] = set()
        for policy in role.get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                assert "*" not in statement["Action"]
                if bucket in json.dumps(statement["Resource"]):
                    found.update(statement["Action"])
        return found

    assert "s3:PutObject" in actions("Thumbnail", "-thumbnails-")
    assert "s3:GetObject" in actions("ReceiptArchiver", "-archive-")
    assert "s3:PutObject" not in actions("ReceiptArchiver", "-archive-")  # the deliberate gap


def test_alarms_watch_the_metrics_lambda_trace_emits(sam_template: dict[str, Any]):
    """Each alarm reads a runtime metric in the namespace parameter with its exact dimensions."""
    alarms = [
        r["Properties"]
        for r in sam_template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    assert sam_template["Parameters"]["MetricsNamespace"]["Default"] == "LambdaTrace"
    assert {a["MetricName"] for a in alarms} >= {"Errors", "Timeouts", "DownstreamLatency"}
    for alarm in alarms:
        assert alarm["Namespace"] == {"Ref": "MetricsNamespace"}
        names = {d["Name"] for d in alarm["Dimensions"]}
        assert names == METRIC_DIMENSIONS[alarm["MetricName"]], alarm["MetricName"]
        service = next(d["Value"] for d in alarm["Dimensions"] if d["Name"] == "service")
        assert service["Ref"] in functions(sam_template)  # Ref of a function is its name
    assert any(
        a.get("ExtendedStatistic") == "p99" and a["MetricName"] == "DownstreamLatency"
        for a in alarms
    )


def test_the_runtime_publishes_what_the_alarms_read():
    """The dimension sets above are the ones lambda_trace._emf actually writes."""
    from lambda_trace import _emf

    lines = _emf.documents(
        "LambdaTrace",
        "fn",
        0,
        [("Errors", "Count", 1)],
        [],
        None,
        [("dynamodb", "GetItem", 0, [3.0])],
        {"throttled": 1},
    )
    published: dict[str, set[str]] = {}
    for line in lines:
        directive = json.loads(line)["_aws"]["CloudWatchMetrics"][0]
        for metric in directive["Metrics"]:
            published[metric["Name"]] = set(directive["Dimensions"][0])
    for name, dims in published.items():
        assert METRIC_DIMENSIONS[name] == dims


def test_outputs_name_the_api_buckets_table_layer_and_log_groups(sam_template: dict[str, Any]):
    """Outputs tell a deployer where things are, including the log groups to analyze."""
    outputs = sam_template["Outputs"]
    assert {
        "ApiUrl",
        "UploadsBucketName",
        "OrdersTableName",
        "LambdaTraceLayerArn",
        "LogGroups",
    } <= set(outputs)
    assert re.search(r"/aws/lambda/\$\{OrdersApi\}", json.dumps(outputs["LogGroups"]))
