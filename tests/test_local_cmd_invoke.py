"""``lambda-trace invoke`` runs a template's function locally and reports each invocation."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from clocks import ShiftedTime

from lambda_trace.analyzer.cli import main
from lambda_trace.local import runner

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = str(ROOT / "template.yaml")
EMPTY_INVOICE = str(ROOT / "sample_functions" / "code_error" / "event.json")


def invoke(*args: str) -> int:
    return main(["invoke", "-t", TEMPLATE, *args])


@pytest.fixture
def good_invoice(tmp_path: Path) -> str:
    body = {"invoiceId": "inv-1", "lines": [{"quantity": 3, "unit_price": 2.5}]}
    path = tmp_path / "invoice.json"
    path.write_text(json.dumps({"body": json.dumps(body)}))
    return str(path)


def test_invocations_are_summarised_and_logged(tmp_path: Path, good_invoice: str, capsys):
    """Exit 0 when all succeed; one summary per invocation; logs to stdout and the log file."""
    log_file = tmp_path / "logs.jsonl"
    status = invoke(
        "-f", "InvoiceTotals", "-e", good_invoice, "-n", "2", "--log-file", str(log_file)
    )
    out, err = capsys.readouterr()
    assert status == 0
    skipped, *lines = err.splitlines()
    # The template's API and alarms are not emulated: said once, before the invocations.
    assert skipped.startswith("lambda-trace: not provisioned locally: ")
    assert "ServerlessRestApi (AWS::ApiGateway::RestApi)" in skipped
    assert lines[0].startswith("lambda-trace: InvoiceTotals 1/2: success in ")
    assert "(cold start, init " in lines[0] and "max memory " in lines[0]
    assert 'subtotal\\": 7.5' in lines[0]  # the API body is JSON inside the JSON response
    assert "(warm)" in lines[1]
    assert '"type":"platform.report"' in out  # InvoiceTotals logs in JSON format
    events = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert all(e["logStreamName"] == events[0]["logStreamName"] for e in events)
    assert sum('"platform.start"' in e["message"] for e in events) == 2


def test_a_failing_invocation_exits_1(moto, capsys):
    """A handler error is a finished run but a failed invocation: exit code 1."""
    status = invoke(
        "-f", "InvoiceTotals", "-e", EMPTY_INVOICE, "-q", "--endpoint-url", moto.endpoint
    )
    out, err = capsys.readouterr()
    assert status == 1 and out == ""
    assert "1/1: error (ZeroDivisionError)" in err and '"errorType": "ZeroDivisionError"' in err


def test_logs_can_go_to_cloudwatch_at_an_endpoint(moto, good_invoice: str, capsys):
    """With --endpoint-url and --cloudwatch the events land in the function's log group."""
    status = invoke(
        "-f", "InvoiceTotals", "-e", good_invoice, "-q", "--endpoint-url", moto.endpoint,
        "--cloudwatch",
    )  # fmt: skip
    assert status == 0, capsys.readouterr().err
    logs = moto.client("logs")
    group = "/aws/lambda/lambda-trace-invoice-totals"
    (stream,) = logs.describe_log_streams(logGroupName=group)["logStreams"]
    got = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])
    messages = [e["message"] for e in got["events"]]
    assert json.loads(messages[0])["type"] == "platform.initStart"
    assert json.loads(messages[-1])["type"] == "platform.report"


def test_logs_cloudwatch_refuses_are_reported_and_exit_3(moto, good_invoice: str, capsys,
                                                          monkeypatch):
    """Events stamped 20 days ago are refused by CloudWatch: one stderr line and exit 3."""
    monkeypatch.setattr(runner, "time", ShiftedTime(-20 * 86_400))  # 20 days behind
    status = invoke(
        "-f", "InvoiceTotals", "-e", good_invoice, "-q", "--endpoint-url", moto.endpoint,
        "--cloudwatch",
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status == 3, err
    assert "1/1: success" in err  # the invocation itself worked
    (line,) = [line for line in err.splitlines() if "CloudWatch Logs did not store" in line]
    lost = int(line.split("did not store ")[1].split(" of ")[0])
    assert lost > 0 and f"did not store {lost} of {lost} log events: {lost} older than 14" in line
    logs = moto.client("logs")
    group = "/aws/lambda/lambda-trace-invoice-totals"
    (stream,) = logs.describe_log_streams(logGroupName=group)["logStreams"]
    got = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])
    assert got["events"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-f", "Nope"], "no function 'Nope'"),
        (["-f", "InvoiceTotals", "-e", "/does/not/exist.json"], "cannot read event file"),
        (["-f", "InvoiceTotals", "-p", "novalue"], "expected KEY=VALUE"),
        (["-f", "InvoiceTotals", "-p", "Unknown=1"], "unknown template parameter(s): Unknown"),
        (["-f", "InvoiceTotals", "--client-context", "[1]"], "must be a JSON object"),
        (["-f", "InvoiceTotals", "--provision"], "--provision only applies with --endpoint-url"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, capsys):
    """Bad usage or input: one 'lambda-trace: error:' line on stderr, exit code 2."""
    status = invoke(*args)
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("lambda-trace: error: ") and message in err


def test_a_non_json_event_and_a_missing_template_are_input_errors(tmp_path: Path, capsys):
    """The event must be JSON; the template must exist."""
    event = tmp_path / "event.json"
    event.write_text("{not json")
    assert invoke("-f", "InvoiceTotals", "-e", str(event)) == 2
    assert "is not JSON" in capsys.readouterr().err
    assert main(["invoke", "-t", str(tmp_path / "none.yaml"), "-f", "X"]) == 2
    assert "no template at" in capsys.readouterr().err


def test_times_must_be_positive(capsys):
    """--times 0 is refused by the argument parser (exit 2)."""
    with pytest.raises(SystemExit) as exit_info:
        invoke("-f", "InvoiceTotals", "-n", "0")
    assert exit_info.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


USER_TEMPLATE = str(ROOT / "tests" / "data" / "local" / "user_template.yaml")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-p", "FnTimeout=abc"],
            "parameter FnTimeout (-p): 'abc' is not a Number (seconds, 1 to 900)",
        ),
        (["-p", "FnTimeout=0"], "parameter FnTimeout (-p): '0' is less than MinValue 1"),
        (["-p", "Stage=qa"], "'qa' is not one of the AllowedValues (dev, prod)"),
        (["--env-vars", "/does/not/exist.json"], "cannot read --env-vars file"),
        (["--seed", "/does/not/exist.py"], "no seed file at /does/not/exist.py"),
        (["-e", "x.json", "--generate-event", "sqs"], "give --event or --generate-event, not both"),
    ],
)
def test_bad_user_input_is_one_line_and_exit_2(args: list[str], message: str, capsys):
    """A bad -p value (issue: FnTimeout=abc printed a ValueError traceback), a missing file,
    conflicting options: one line, exit 2, before any server starts."""
    status = main(["invoke", "-t", USER_TEMPLATE, "-f", "OrdersFunction", *args])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("lambda-trace: error: ") and message in err


@pytest.mark.parametrize("content", ['{"OrdersFunction": "LOG_LEVEL=INFO"}', "[1, 2]", "{not json"])
def test_an_env_vars_file_not_in_sams_shape_is_refused(tmp_path: Path, content: str, capsys):
    """SAM CLI's file is an object of objects; anything else is one line, exit 2."""
    path = tmp_path / "env.json"
    path.write_text(content)
    status = main(["invoke", "-t", USER_TEMPLATE, "-f", "OrdersFunction", "--env-vars", str(path)])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "--env-vars file" in err


def test_function_is_required_unless_printing_an_event(capsys):
    """Without --function there is nothing to invoke."""
    assert main(["invoke", "-t", USER_TEMPLATE]) == 2
    assert "--function is required" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kind", "path", "expected"),
    [
        # the template's only (active) bucket and rule; it has three queues, so SAM's default
        ("s3-put", ("Records", 0, "s3", "bucket", "name"), "lambda-trace-receiptsbucket"),
        ("sqs", ("Records", 0, "eventSourceARN"), "arn:aws:sqs:us-east-1:123456789012:MyQueue"),
        (
            "eventbridge",
            ("resources", 0),
            "arn:aws:events:us-east-1:123456789012:rule/lambda-trace-OrderPlacedToAudit",
        ),
        ("apigateway-v2", ("requestContext", "http", "method"), "POST"),
    ],
)
def test_generate_event_prints_sams_shape(kind: str, path: tuple, expected: str, capsys):
    """--generate-event without --function prints the event (SAM's shape) on stdout."""
    assert main(["invoke", "-t", USER_TEMPLATE, "--generate-event", kind]) == 0
    event = json.loads(capsys.readouterr().out)
    value = event
    for step in path:
        value = value[step]
    assert value == expected


def test_generated_events_have_sams_keys():
    """The top-level and record keys are those of SAM CLI's event templates."""
    from lambda_trace.local.events import generate

    assert set(generate("s3-put")["Records"][0]) == {
        "eventVersion", "eventSource", "awsRegion", "eventTime", "eventName", "userIdentity",
        "requestParameters", "responseElements", "s3",
    }  # fmt: skip
    assert set(generate("sqs")["Records"][0]) == {
        "messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody",
        "eventSource", "eventSourceARN", "awsRegion",
    }  # fmt: skip
    # MD5 of SAM's default body "Hello from SQS!", as SQS computes md5OfBody
    assert generate("sqs")["Records"][0]["md5OfBody"] == "7b270e59b47ff90a553787216d55d91d"
    assert set(generate("eventbridge")) == {
        "id", "detail-type", "source", "account", "time", "region", "resources", "detail",
    }  # fmt: skip
    assert set(generate("apigateway-v2")) >= {
        "version", "routeKey", "rawPath", "rawQueryString", "headers", "requestContext", "body",
        "isBase64Encoded",
    }  # fmt: skip


def test_event_from_stdin_and_sams_parameter_form(monkeypatch, capsys):
    """--event - reads the event from stdin; -p also takes SAM's ParameterKey=,ParameterValue=."""
    body = {"invoiceId": "inv-2", "lines": [{"quantity": 2, "unit_price": 4.0}]}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"body": json.dumps(body)})))
    status = invoke(
        "-f", "InvoiceTotals", "-e", "-",
        "-p", "ParameterKey=MetricsNamespace,ParameterValue=Local",
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert status == 0, err
    assert 'subtotal\\": 8.0' in err
    assert '"Namespace":"Local"' in out  # the EMF namespace comes from the parameter
