"""``lambda-trace invoke`` runs a template's function locally and reports each invocation."""

from __future__ import annotations

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
    lines = err.splitlines()
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
