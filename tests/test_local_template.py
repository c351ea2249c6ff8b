"""Reading template.yaml gives each function's settings as Lambda would apply them."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_trace.local.template import TemplateError, load

ROOT = Path(__file__).resolve().parent.parent
FUNCTION = (
    "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n"
)


@pytest.fixture(scope="module")
def sample():
    return load(ROOT / "template.yaml")


def test_globals_and_function_settings_are_merged(sample):
    """Globals apply unless the function overrides them; environments merge (SAM semantics)."""
    orders = sample.function("OrdersApi")
    assert (orders.name, orders.handler, orders.runtime) == (
        "lambda-trace-orders-api",
        "app.handler",
        "python3.12",
    )
    assert (orders.memory_mb, orders.timeout_s) == (256, 10.0)
    assert orders.code_dir == ROOT / "sample_functions" / "orders_api"
    assert orders.environment == {
        "LAMBDA_TRACE_NAMESPACE": "LambdaTrace",
        "ORDERS_TABLE": "lambda-trace-OrdersTable",
    }
    assert (orders.log_format, orders.application_log_level, orders.system_log_level) == (
        "JSON",
        "INFO",
        "INFO",
    )
    assert orders.log_group == "/aws/lambda/lambda-trace-orders-api"
    assert orders.tracing_active
    hog = sample.function("lambda-trace-report-export")  # by function name too
    assert (hog.logical_id, hog.memory_mb, hog.timeout_s) == ("ReportExport", 128, 30.0)
    assert sample.function("PriceQuote").log_format == "Text"
    assert sample.function("PriceQuote").application_log_level is None


def test_roles_carry_the_expanded_policy_templates(sample):
    """SAM policy templates become inline policies with local bucket and table names."""
    role = sample.function("ReceiptArchiver").role
    assert role is not None and role.name == "lambda-trace-ReceiptArchiverRole"
    resources = [
        r for _, doc in role.inline_policies for s in doc["Statement"] for r in s["Resource"]
    ]
    assert "arn:aws:s3:::lambda-trace-archive-123456789012/*" in resources
    assert role.assume_role_policy["Statement"][0]["Principal"] == {
        "Service": ["lambda.amazonaws.com"]
    }


def test_storage_resources_get_local_names(sample):
    """Buckets and tables are listed for provisioning, under the names functions read."""
    assert sample.buckets == {
        "UploadsBucket": "lambda-trace-uploads-123456789012",
        "ThumbnailsBucket": "lambda-trace-thumbnails-123456789012",
        "ArchiveBucket": "lambda-trace-archive-123456789012",
    }
    table = sample.tables["OrdersTable"]
    assert table["TableName"] == "lambda-trace-OrdersTable"
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]


def test_parameter_overrides_reach_the_environment():
    """--parameter values flow into environment variables that reference them."""
    spec = load(ROOT / "template.yaml", parameters={"PriceApiUrl": "http://127.0.0.1:1/"})
    assert spec.function("PriceQuote").environment["PRICE_API_URL"] == "http://127.0.0.1:1/"


def test_an_unknown_function_lists_the_known_ones(sample):
    """Asking for a missing function names the ones there are."""
    with pytest.raises(TemplateError, match=r"no function 'Nope' .*functions: InvoiceTotals"):
        sample.function("Nope")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Resources: [", "is not valid YAML"),
        ("Parameters: {}\n", "has no Resources section"),
        (
            FUNCTION
            + "    Properties: {CodeUri: ., Handler: index.handler, Runtime: nodejs20.x}\n",
            "only Python runtimes run locally",
        ),
        (
            FUNCTION
            + "    Properties: {CodeUri: ., Handler: app.handler, Runtime: python3.12, Events: "
            "{E: {Type: S3, Properties: {Bucket: nope, Events: 's3:ObjectCreated:*'}}}}\n",
            "SAM transform failed",
        ),
        (
            "Parameters: {T: {Type: String, Default: abc}}\n"
            + FUNCTION
            + "    Properties: {CodeUri: ., Handler: app.handler, Runtime: python3.12, "
            "Timeout: !Ref T}\n",
            "Resources.F: Timeout must be a positive number, not 'abc'",
        ),
        (
            FUNCTION + "    Properties: {CodeUri: ., Handler: app.handler, Runtime: python3.12, "
            "MemorySize: 128.5}\n",
            "MemorySize must be a positive number, not 128.5",
        ),
    ],
)
def test_bad_templates_fail_with_a_clear_message(tmp_path: Path, text: str, message: str):
    """A template that cannot run locally raises TemplateError naming the problem."""
    path = tmp_path / "template.yaml"
    path.write_text(text)
    with pytest.raises(TemplateError, match=message):
        load(path)


def test_a_missing_template_is_reported(tmp_path: Path):
    """A path that does not exist is a TemplateError, not an OSError traceback."""
    with pytest.raises(TemplateError, match="cannot read template"):
        load(tmp_path / "nope.yaml")


def test_a_resources_condition_removes_it_and_a_rebind_uses_created_values(tmp_path: Path):
    """A function or bucket whose Condition is false is not there; after provisioning,
    ``rebind`` resolves the environment with what the services answered."""
    path = tmp_path / "template.yaml"
    path.write_text(
        "Parameters: {Stage: {Type: String, Default: dev}}\n"
        "Conditions: {IsProd: !Equals [!Ref Stage, prod]}\n" + FUNCTION + "    Properties:\n"
        "      CodeUri: .\n      Handler: app.handler\n      Runtime: python3.12\n"
        "      Environment: {Variables: {SECRET: !Ref S}}\n"
        "  S: {Type: AWS::SecretsManager::Secret, Properties: {Name: db}}\n"
        "  Extra: {Type: AWS::S3::Bucket, Condition: IsProd}\n"
    )
    dev = load(path)
    assert dev.buckets == {}
    assert dev.function("F").environment["SECRET"].endswith(":secret:db")
    bound = dev.rebind({"S": {"Ref": "arn:aws:secretsmanager:us-east-1:1:secret:db-AbCdEf"}})
    assert bound.function("F").environment["SECRET"].endswith(":secret:db-AbCdEf")
    assert load(path, parameters={"Stage": "prod"}).buckets == {"Extra": "lambda-trace-extra"}
