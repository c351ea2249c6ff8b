"""Smaller line shapes seen in real logs (issue 11, section 3), through the parser and analyze."""

from __future__ import annotations

from lambda_trace.analyzer.aggregate import aggregate_events
from lambda_trace.analyzer.findings import find_all
from lambda_trace.analyzer.model import Event, LogEvent
from lambda_trace.analyzer.parse import Parser


def parse_lines(lines: list[str]) -> list[Event]:
    parser = Parser()
    return list(parser.iter_events(LogEvent(message=line, origin="t") for line in lines))


def test_telemetry_subscription_state_of_two_words() -> None:
    """The text form documented for the Telemetry API's subscription line
    (https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api.html); the state "Already
    subscribed" is the one Lambda reports to an extension that subscribes again (seen in the
    JSON form: tests/data/field/telemetry_extension.log)."""
    (event,) = parse_lines(["TELEMETRY\tName: datadog-agent\tState: Already subscribed\t"
                            "Types: [Platform, Function, Extension]"])
    assert event["type"] == "subscription"
    assert event["state"] == "Already subscribed" and event["name"] == "datadog-agent"
    assert event["types"] == ["Platform", "Function", "Extension"]


# jameshy/pgdump-aws-lambda#41 (tests/data/field/permission_denied.log 29-31), here with the
# frames' indentation lost as a copy loses it.
NODE_ERROR = [
    "AccessDenied: Access Denied",
    "at Request.extractError (/var/runtime/node_modules/aws-sdk/lib/services/s3.js:710:35)",
    "at Request.callListeners (/var/runtime/node_modules/aws-sdk/lib/sequential_executor.js:"
    "106:20)",
    "END RequestId: ab6ee9a3-2ce8-460e-94c6-18a13c4f15c4",
]


def test_node_stack_frames_without_indentation_make_an_error() -> None:
    events = parse_lines(NODE_ERROR)
    errors = [e for e in events if e["type"] == "error"]
    assert len(errors) == 1
    error = errors[0]
    assert error["error_type"] == "AccessDenied" and error["message"] == "Access Denied"
    assert error["runtime"] == "nodejs" and len(error["stack"]) == 2
    assert [e["type"] for e in events if e["type"] != "error"] == ["access_denied", "end"]


def test_an_event_shown_collapsed_and_expanded_counts_once() -> None:
    """alexa-samples/skill-sample-python-helloworld-decorators#6: the console shows the
    same [ERROR] line twice (the collapsed row and the expanded event)."""
    line = ("[ERROR] Runtime.HandlerNotFound: Handler 'lambda_handler' missing on module "
            "'lambda_function'")
    agg, _ = aggregate_events(parse_lines(["20:39:33", line, line]))
    (fault,) = agg.faults.values()
    assert fault.error_type == "Runtime.HandlerNotFound" and fault.invocations == 1
    (finding,) = [f for f in find_all(agg) if f.kind == "init_failure"]
    assert "not define or export" in finding.advice


def test_a_logged_error_line_without_a_type_is_not_a_failure() -> None:
    """wazuh/wazuh-indexer#239: logger.error(...) with no exception type, then the runtime's
    own unhandled IndexError: only the latter ended the invocation."""
    rid = "2a5345ff-6116-422d-a858-713b9216cc86"
    events = parse_lines([
        f"START RequestId: {rid} Version: $LATEST",
        f"[ERROR]\t2024-05-28T12:15:23.482Z\t{rid}\tFailed to read S3 object sample.txt from "
        "bucket wazuh-aws-security-lake-raw: An error occurred (AccessDenied) when calling the "
        "GetObject operation: Access Denied",
        "[ERROR] IndexError: list index out of range",
        "Traceback (most recent call last):",
        '  File "/var/task/lambda_function.py", line 170, in lambda_handler',
    ])
    agg, _ = aggregate_events(events)
    found = find_all(agg)
    codes = [f.evidence["error_type"] for f in found if f.kind == "code_error"]
    assert codes == ["IndexError"]
    assert [f.kind for f in found if f.kind == "permission_denied"] == ["permission_denied"]
    assert agg.errors == 1
