"""Lambda's own lines (platform.py): each docs/formats.md rule, on constructed lines."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambda_trace.analyzer import platform as pf
from lambda_trace.analyzer.model import EVENT_KEYS, Event, make_event

RID = "4ce9340a-b765-490f-ad8a-02ab3415e2bf"


def has(event: Any, **expected: Any) -> None:
    assert event is not None
    assert {key: event.get(key) for key in expected} == expected


def test_builders_produce_exactly_the_model_keys() -> None:
    """Every builder's event has the common keys, then its type's keys, as make_event does."""
    events: list[Event] = [
        pf.start_event(f"START RequestId: {RID} Version: $LATEST", 1, "s"),
        pf.end_event(f"END RequestId: {RID}", 1, "s"),
        pf.report_event(f"REPORT RequestId: {RID}\tDuration: 1.00 ms\tBilled Duration: 1 ms\t"
                        "Memory Size: 128 MB\tMax Memory Used: 60 MB\t", 1, "s"),
        pf.report_event(f"REPORT RequestId: {RID}  Duration: 1.00 ms", 1, "s"),
    ]
    for event in events:
        assert list(event) == list(make_event(event["type"]))


class TestStartEnd:
    def test_start_with_numeric_version(self) -> None:
        """Published versions are numbers (§9.9)."""
        has(pf.start_event(f"START RequestId: {RID} Version: 56", 5, "s"),
            type="start", request_id=RID, version="56", timestamp_ms=5, log_stream="s")

    def test_managed_instances_start_uses_a_tab(self) -> None:
        """``START RequestId: %s\\tVersion: %s`` (RIE, Managed Instances)."""
        has(pf.start_event(f"START RequestId: {RID}\tVersion: $LATEST", None, None),
            request_id=RID, version="$LATEST")

    @pytest.mark.parametrize("line", [
        "START RequestId:  , Version: $LATEST",
        "START RequestId: Version: $LATEST",
    ])
    def test_deleted_request_id_is_none(self, line: str) -> None:
        """A copy that deleted the id leaves None, not a neighbouring word."""
        has(pf.start_event(line, None, None), request_id=None, version="$LATEST")

    def test_end(self) -> None:
        has(pf.end_event(f"END RequestId: {RID} ", None, None), type="end", request_id=RID)
        has(pf.end_event("END RequestId: ", None, None), request_id=None)


class TestReport:
    CANONICAL = (f"REPORT RequestId: {RID}\tDuration: 26.73 ms\tBilled Duration: 27 ms\t"
                 "Memory Size: 128 MB\tMax Memory Used: 75 MB\t")
    BASE = dict(request_id=RID, duration_ms=26.73, billed_duration_ms=27, memory_size_mb=128,
                max_memory_used_mb=75)

    @pytest.mark.parametrize("line", [
        CANONICAL,
        CANONICAL.rstrip("\t"),  # no trailing tab
        CANONICAL.replace("27 ms\t", "27 ms \t"),  # pre-2021 "ms \t"
        CANONICAL.replace("\t", " "),
        CANONICAL.replace("\t", "   "),
        CANONICAL.replace("27 ms\t", "27 ms"),  # "msMemory Size": no separator (§9.1)
    ])
    def test_separators(self, line: str) -> None:
        """Tabs, one to three spaces, ``ms \\t``, a missing trailing tab or separator."""
        event = pf.report_event(line, None, None)
        has(event, **self.BASE, init_duration_ms=None, status="success", error_type=None)

    def test_init_duration_first(self) -> None:
        """Custom runtimes and the RIE write Init Duration before Duration (§9.2)."""
        line = (f"REPORT RequestId: {RID}\tInit Duration: 8.99 ms\tDuration: 1.22 ms\t"
                "Billed Duration: 11 ms\tMemory Size: 128 MB\tMax Memory Used: 13 MB")
        has(pf.report_event(line, None, None), init_duration_ms=8.99, duration_ms=1.22,
            billed_duration_ms=11)

    def test_restore_fields_do_not_shadow_duration_fields(self) -> None:
        """Billed Restore Duration never reads as Billed Duration, nor Restore as Duration."""
        for sep in ("\t", " "):
            line = sep.join([f"REPORT RequestId: {RID}", "Restore Duration: 789.64 ms",
                             "Billed Restore Duration: 163 ms", "Duration: 149.53 ms",
                             "Billed Duration: 313 ms", "Memory Size: 3538 MB",
                             "Max Memory Used: 163 MB"])
            has(pf.report_event(line, None, None), duration_ms=149.53, billed_duration_ms=313,
                restore_duration_ms=789.64, billed_restore_duration_ms=163)

    def test_status_and_error_type_with_init_duration(self) -> None:
        """A suppressed init shows Init Duration together with Status/Error Type."""
        line = (self.CANONICAL
                + "Init Duration: 399.33 ms\tStatus: error\tError Type: Runtime.OutOfMemory")
        has(pf.report_event(line, None, None), **self.BASE, init_duration_ms=399.33,
            status="error", error_type="Runtime.OutOfMemory")
        has(pf.report_event(self.CANONICAL + "Status: timeout", None, None), status="timeout")

    @pytest.mark.parametrize("xray", [
        "\nXRAY TraceId: 1-5e34a614-10bdxmplf1fb44f07bc535a1\tSegmentId: 07f5xmpl2d1f6f85\t"
        "Sampled: true\t",
        "XRAY TraceId: 1-5e34a614-10bdxmplf1fb44f07bc535a1\tSegmentId: 07f5xmpl2d1f6f85\t"
        "Sampled: true",
        "\nXRAY TraceId: 1-5e34a614-10bdxmplf1fb44f07bc535a1   SegmentId: 07f5xmpl2d1f6f85",
    ])
    def test_xray_after_newline_on_the_same_line_or_without_sampled(self, xray: str) -> None:
        """The XRAY part in the same event after ``\\n``, on the same line, or cut short (§9.3)."""
        has(pf.report_event(self.CANONICAL + xray, None, None), **self.BASE,
            xray_trace_id="1-5e34a614-10bdxmplf1fb44f07bc535a1",
            xray_segment_id="07f5xmpl2d1f6f85")

    def test_report_without_its_label(self) -> None:
        """A copy that cut ``REPORT RequestId: `` keeps the fields; the id comes from the caller."""
        line = "Duration: 3757.18 ms\tBilled Duration: 3758 ms\tMemory Size: 128 MB"
        has(pf.report_event(line, None, None, request_id="abc123def456"),
            request_id="abc123def456", duration_ms=3757.18, billed_duration_ms=3758)

    def test_billed_is_taken_as_written(self) -> None:
        """Billed > Duration on cold starts is normal since 2025-08 (§9.12): no correction."""
        line = (f"REPORT RequestId: {RID}\tDuration: 2.46 ms\tBilled Duration: 417 ms\t"
                "Memory Size: 1024 MB\tMax Memory Used: 95 MB\tInit Duration: 413.61 ms\t")
        has(pf.report_event(line, None, None), duration_ms=2.46, billed_duration_ms=417)

    def test_amend_report_from_a_wrapped_second_line(self) -> None:
        """A REPORT hard-wrapped by a copy gets its fields from the next line."""
        event = pf.report_event(f"REPORT RequestId: {RID} Duration: 35.69 ms", None, None)
        assert pf.amend_report(event, "Billed Duration: 100 ms Memory Size: 128 MB "
                                      "Max Memory Used: 32 MB")
        has(event, duration_ms=35.69, billed_duration_ms=100, memory_size_mb=128,
            max_memory_used_mb=32)
        assert not pf.amend_report(event, "Billed Duration: 999 ms")  # already known

    def test_garbage_numbers_become_none(self) -> None:
        """A number a copy mangled (or NaN) is None rather than an exception."""
        has(pf.report_event(f"REPORT RequestId: {RID} Duration: nan ms Billed Duration: x ms",
                            None, None), duration_ms=None, billed_duration_ms=None)


class TestInitRestoreExtensions:
    ARN = "arn:aws:lambda:us-east-1::runtime:" + "ab" * 32

    @pytest.mark.parametrize("sep", ["\t", " ", "      "])
    def test_init_start(self, sep: str) -> None:
        line = f"INIT_START Runtime Version: python:3.12.v43{sep}Runtime Version ARN: {self.ARN}"
        has(pf.runtime_start_event("init_start", line, 7, None), type="init_start",
            runtime_version="python:3.12.v43", runtime_version_arn=self.ARN, init_type=None,
            timestamp_ms=7)

    def test_restore_start_and_report(self) -> None:
        line = f"RESTORE_START Runtime Version: java:21.v38\tRuntime Version ARN: {self.ARN}"
        has(pf.runtime_start_event("restore_start", line, None, None), type="restore_start",
            runtime_version="java:21.v38")
        has(pf.restore_report_event("RESTORE_REPORT Restore Duration: 511.25 ms", None, None),
            type="restore_report", duration_ms=511.25, status="success", error_type=None)

    def test_init_report_with_phase_status_and_error_type(self) -> None:
        line = ("INIT_REPORT Init Duration: 10000.49 ms\tPhase: init\tStatus: timeout")
        has(pf.init_report_event(line, None, None), duration_ms=10000.49, phase="init",
            status="timeout", error_type=None)
        line = ("INIT_REPORT Init Duration: 229.04 ms Phase: invoke Status: error "
                "Error Type: Runtime.ImportModuleError")
        has(pf.init_report_event(line, None, None), phase="invoke", status="error",
            error_type="Runtime.ImportModuleError")

    def test_init_report_without_status_succeeded(self) -> None:
        """SnapStart's snapshot-creation INIT_REPORT has only the duration."""
        has(pf.init_report_event("INIT_REPORT Init Duration: 13316.04 ms", None, None),
            duration_ms=13316.04, phase=None, status="success")

    def test_extension_and_subscriptions(self) -> None:
        has(pf.extension_event("EXTENSION\tName: datadog-agent\tState: Ready\t"
                               "Events: [SHUTDOWN, INVOKE]", None, None),
            name="datadog-agent", state="Ready", events=["SHUTDOWN", "INVOKE"])
        has(pf.subscription_event("TELEMETRY\tName: datadog-agent\tState: Subscribed\t"
                                  "Types: [Platform, Function, Extension]", None, None),
            type="subscription", api="telemetry", name="datadog-agent", state="Subscribed",
            types=["Platform", "Function", "Extension"])
        has(pf.subscription_event("LOGS\tName: my-ext\tState: Subscribed\tTypes: [Platform]",
                                  None, None), api="logs", name="my-ext", types=["Platform"])
        assert pf.extension_event("EXTENSIONS are great", None, None) is None


class TestFaults:
    @pytest.mark.parametrize("line, request_id", [
        (f"2024-06-25T19:22:58.186Z {RID} Task timed out after 30.27 seconds", RID),
        (f"{RID} Task timed out after 30.27 seconds", RID),
        ("Task timed out after 30.27 seconds", None),
        (f"RequestId: {RID} Error: Task timed out after 30.27 seconds", RID),
        ("[/aws/lambda/x] 2024-06-25T19:22:58.186Z  Task timed out after 30.27 seconds", None),
    ])
    def test_task_timed_out(self, line: str, request_id: Any) -> None:
        """With or without a timestamp/id prefix, or a log-group prefix (§9.4)."""
        has(pf.timeout_event(line, None, None), type="timeout", seconds=30.27,
            request_id=request_id)

    @pytest.mark.parametrize("line", [
        f"RequestId: {RID} Error: Runtime exited with error: signal: killed\nRuntime.ExitError",
        f"RequestId: {RID} Error: Runtime exited with error: signal: killed Runtime.ExitError",
    ])
    def test_signal_killed_on_two_lines_or_collapsed(self, line: str) -> None:
        """The fault and ``Runtime.ExitError`` in one event, or pasted onto one line (§9.5)."""
        has(pf.runtime_exit_event(line, None, None), type="runtime_exit", request_id=RID,
            reason="signal: killed", signal="killed", exit_status=None, oom=True,
            error_type="Runtime.ExitError")

    def test_exit_status_and_other_reasons(self) -> None:
        has(pf.runtime_exit_event(
            f"RequestId: {RID} Error: Runtime exited with error: exit status 1", None, None),
            reason="exit status 1", exit_status=1, signal=None, oom=False, error_type=None)
        has(pf.runtime_exit_event(
            "Error: Runtime exited without providing a reason Runtime.ExitError", None, None),
            reason="Runtime exited without providing a reason", error_type="Runtime.ExitError")
        has(pf.runtime_exit_event(f"RequestId: {RID} Process exited before completing request",
                                  None, None),
            request_id=RID, reason="Process exited before completing request")

    def test_managed_instances_fault_line(self) -> None:
        """``RequestId: %s\\tStatus: %s\\tErrorType: %s`` (RIE, Managed Instances)."""
        has(pf.runtime_exit_event(f"RequestId: {RID}\tStatus: error\tErrorType: "
                                  "Runtime.OutOfMemory", None, None),
            type="runtime_exit", request_id=RID, reason="status: error", oom=True,
            error_type="Runtime.OutOfMemory")
        has(pf.runtime_exit_event(f"RequestId: {RID}\tStatus: timeout\tErrorType: "
                                  "Sandbox.Timedout", None, None),
            type="timeout", request_id=RID, seconds=None)

    def test_amend_exit(self) -> None:
        event = pf.runtime_exit_event("Error: Runtime exited with error: signal: killed",
                                      None, None)
        assert event is not None and event["error_type"] is None
        assert pf.amend_exit(event, "Runtime.ExitError")
        assert event["error_type"] == "Runtime.ExitError"
        assert not pf.amend_exit(event, "Runtime.Other")


class TestRuntimeErrors:
    def test_python_error_with_cr_traceback_and_nbsp_indent(self) -> None:
        """``[ERROR] Type: msg\\rTraceback...\\r\\u00a0\\u00a0File ...`` as one event (§9.6)."""
        body = ("KeyError: 'x'\rTraceback (most recent call last):\r"
                '\u00a0\u00a0File "/var/task/app.py", line 3, in handler\r'
                "\u00a0\u00a0\u00a0\u00a0return event['x']\r")
        has(pf.python_error_event(body, 1, "s"), type="error", error_type="KeyError",
            message="'x'", runtime="python", unhandled=True, stack=[
                '  File "/var/task/app.py", line 3, in handler', "    return event['x']"])

    def test_python_error_flattened_by_a_tool(self) -> None:
        body = ("Runtime.ImportModuleError: Unable to import module 'app': No module named 'x' "
                "| Traceback (most recent call last):")
        has(pf.python_error_event(body, None, None), error_type="Runtime.ImportModuleError",
            message="Unable to import module 'app': No module named 'x'", stack=[])

    def test_legacy_python_error(self) -> None:
        """Before 2020 the runtime wrote ``<message>: <Type>``."""
        has(pf.legacy_python_error_event("'Records': KeyError", None, None),
            error_type="KeyError", message="'Records'", unhandled=True)
        has(pf.legacy_python_error_event(
            "An error occurred (X) when calling the Y operation: User: a: ClientError", None,
            None), error_type="ClientError",
            message="An error occurred (X) when calling the Y operation: User: a")
        assert pf.legacy_python_error_event("status: fine", None, None) is None

    def test_node_invoke_error_ignores_the_sdk_request_id(self) -> None:
        """The ``requestId`` inside Node's error JSON is the AWS SDK's (§9.8)."""
        doc = {"errorType": "AccessDeniedException", "errorMessage": "nope",
               "requestId": "sdk-id", "stack": ["AccessDeniedException: nope", "    at x (y.js:1)"]}
        event = pf.node_error_event("Invoke Error", " \t" + json.dumps(doc), "lambda-id", 3, None)
        has(event, request_id="lambda-id", error_type="AccessDeniedException", message="nope",
            runtime="nodejs", unhandled=True,
            stack=["AccessDeniedException: nope", "    at x (y.js:1)"])

    def test_node_error_json_pretty_printed_with_cr(self) -> None:
        rest = ('{\r  "errorType": "Error",\r  "errorMessage": "boom",\r'
                '  "trace": ["Error: boom"]\r}')
        has(pf.node_error_event("Uncaught Exception", rest, None, None, None),
            error_type="Error", message="boom", stack=["Error: boom"])

    def test_node_error_json_cut_short_is_salvaged(self) -> None:
        rest = '{"errorType":"TypeError","errorMessage":"x is \\"undefined\\"","stack":["Type'
        has(pf.node_error_event("Invoke Error", rest, None, None, None),
            error_type="TypeError", message='x is "undefined"')

    def test_logged_error_takes_the_type_from_its_traceback(self) -> None:
        message = ("failed\rTraceback (most recent call last):\r  File \"a.py\", line 1, in f\r"
                   "ValueError: bad")
        has(pf.logged_error_event(message, runtime="python", request_id=RID, ts=None,
                                  stream=None),
            message="failed", error_type="ValueError", unhandled=False, request_id=RID)

    def test_go_and_java_crash_lines(self) -> None:
        has(pf.crash_line_event("panic: runtime error: index out of range [3] with length 3",
                                None, None),
            type="error", error_type="panic", runtime="go", unhandled=True,
            message="runtime error: index out of range [3] with length 3")
        has(pf.crash_line_event('Exception in thread "main" java.lang.OutOfMemoryError: Java '
                                "heap space", None, None),
            error_type="java.lang.OutOfMemoryError", message="Java heap space", runtime="java")
        assert pf.crash_line_event("panicking is fine", None, None) is None

    def test_runtime_guessed_from_the_stack(self) -> None:
        assert pf.guess_runtime(['  File "a.py", line 1, in f']) == "python"
        assert pf.guess_runtime(["    at f (/var/task/index.js:1:2)"]) == "nodejs"
        assert pf.guess_runtime(["com.example.App.handle(App.java:12)"]) == "java"
        assert pf.guess_runtime(None) is None


class TestAccessDenied:
    def test_botocore_with_iam_details(self) -> None:
        text = ("An error occurred (AccessDeniedException) when calling the PutItem operation: "
                "User: arn:aws:sts::123456789012:assumed-role/role/fn is not authorized to "
                "perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:"
                "table/t because no identity-based policy allows the dynamodb:PutItem action")
        has(pf.access_denied_event(text, RID, 1, "s"), type="access_denied", request_id=RID,
            code="AccessDeniedException", operation="PutItem", action="dynamodb:PutItem",
            principal="arn:aws:sts::123456789012:assumed-role/role/fn",
            resource="arn:aws:dynamodb:us-east-1:123456789012:table/t", message=text)

    def test_s3_access_denied_names_only_the_operation(self) -> None:
        text = ("An error occurred (AccessDenied) when calling the PutObject operation: "
                "Access Denied")
        has(pf.access_denied_event("upload failed: " + text, None, None, None),
            code="AccessDenied", operation="PutObject", action=None, principal=None,
            resource=None, message=text)

    def test_quoted_resource_and_explicit_deny(self) -> None:
        text = ('User: arn:aws:iam::123456789012:user/bob is not authorized to perform: '
                's3:GetObject on resource: "arn:aws:s3:::bucket/key" with an explicit deny')
        has(pf.access_denied_event(text, None, None, None), code=None, action="s3:GetObject",
            resource="arn:aws:s3:::bucket/key", principal="arn:aws:iam::123456789012:user/bob")

    def test_go_sdk_and_kms_codes(self) -> None:
        has(pf.access_denied_event(
            "operation error SSM: GetParameter, api error AccessDeniedException: User: "
            "arn:aws:sts::1:assumed-role/r/f is not authorized to perform: ssm:GetParameter",
            None, None, None), code="AccessDeniedException", action="ssm:GetParameter")
        has(pf.access_denied_event(
            "KMS Exception: AccessDeniedExceptionKMS Message: denied", None, None, None),
            code="AccessDeniedException")

    def test_not_an_access_denied(self) -> None:
        assert not pf.has_access_denied("all good")
        assert pf.access_denied_event("Access granted", None, None, None) is None


class TestJsonPlatform:
    def wrap(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        return {"time": "2024-06-17T17:23:55.826Z", "type": f"platform.{kind}", "record": record}

    def test_report_with_error_status_tracing_and_restore(self) -> None:
        record = {"requestId": RID, "status": "failure", "errorType": "Runtime.ExitError",
                  "metrics": {"durationMs": 10.5, "billedDurationMs": 11, "memorySizeMB": 128,
                              "maxMemoryUsedMB": 128, "restoreDurationMs": 300.25,
                              "billedRestoreDurationMs": 120},
                  "tracing": {"type": "X-Amzn-Trace-Id",
                              "value": "Root=1-abc-def;Parent=123;Sampled=1"}}
        (event,) = pf.platform_json_events(self.wrap("report", record), 9, "s") or []
        has(event, type="report", request_id=RID, status="error", error_type="Runtime.ExitError",
            duration_ms=10.5, billed_duration_ms=11, memory_size_mb=128, max_memory_used_mb=128,
            restore_duration_ms=300.25, billed_restore_duration_ms=120, xray_trace_id="1-abc-def",
            timestamp_ms=9, log_stream="s")
        assert list(event) == list(make_event("report"))

    def test_telemetry_only_types(self) -> None:
        cases: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
            ("initRuntimeDone", {"initializationType": "on-demand", "status": "error",
                                 "errorType": "Runtime.Unknown"},
             dict(type="runtime_done", phase="init", status="error",
                  error_type="Runtime.Unknown")),
            ("restoreStart", {"runtimeVersion": "java:21.v38", "runtimeVersionArn": "arn"},
             dict(type="restore_start", runtime_version="java:21.v38")),
            ("restoreReport", {"status": "success", "metrics": {"durationMs": 789.64}},
             dict(type="restore_report", duration_ms=789.64, status="success")),
            ("extension", {"name": "ext", "state": "Ready", "events": ["INVOKE"]},
             dict(type="extension", name="ext", events=["INVOKE"])),
            ("telemetrySubscription", {"name": "ext", "state": "Subscribed",
                                       "types": ["platform", "function"]},
             dict(type="subscription", api="telemetry", types=["platform", "function"])),
            ("logsDropped", {"reason": "Consumer seems to have fallen behind",
                             "droppedRecords": 123, "droppedBytes": 12345},
             dict(type="logs_dropped", dropped_records=123, dropped_bytes=12345)),
        ]
        for kind, record, expected in cases:
            (event,) = pf.platform_json_events(self.wrap(kind, record), None, None) or []
            has(event, **expected)
            assert set(EVENT_KEYS[event["type"]]) <= event.keys()

    def test_unknown_platform_type_is_not_an_event(self) -> None:
        assert pf.platform_json_events(self.wrap("somethingNew", {}), None, None) is None


class TestJsonAppRecords:
    def test_python_unhandled_uses_log_level(self) -> None:
        obj = {"timestamp": "2024-06-17T17:23:55Z", "log_level": "ERROR", "errorMessage": "boom",
               "errorType": "ValueError", "requestId": RID, "stackTrace": ['  File "a.py"\n']}
        (event,) = pf.app_json_events(obj, 1, None)
        has(event, type="error", request_id=RID, error_type="ValueError", message="boom",
            unhandled=True, runtime="python", stack=['  File "a.py"'])

    def test_powertools_logger_exception(self) -> None:
        """Powertools' Logger keeps the exception in ``exception_name`` and ``exception``."""
        obj = {"level": "ERROR", "location": "handler:12", "message": "charge failed",
               "timestamp": "2026-11-27 04:43:42,123+0000", "service": "payments",
               "function_request_id": RID, "exception_name": "KeyError",
               "exception": 'Traceback (most recent call last):\n  File "/var/task/app.py", '
                            "line 12, in handler\nKeyError: 'card'"}
        (event,) = pf.app_json_events(obj, None, None)
        has(event, type="error", request_id=RID, error_type="KeyError", message="charge failed",
            unhandled=False, runtime="python",
            stack=['  File "/var/task/app.py", line 12, in handler', "KeyError: 'card'"])

    def test_info_record_is_not_an_event(self) -> None:
        assert pf.app_json_events({"level": "INFO", "message": "hi", "requestId": RID}, 1,
                                  None) == []

    def test_bare_node_error_object_does_not_lend_its_request_id(self) -> None:
        obj = {"errorType": "AccessDeniedException", "errorMessage": "User: arn:aws:sts::1:x is "
               "not authorized to perform: lambda:GetFunction", "code": "AccessDeniedException",
               "requestId": "sdk-request-id", "statusCode": 403}
        error, denied = pf.app_json_events(obj, None, None, request_id="lambda-id")
        has(error, request_id="lambda-id", unhandled=True)
        has(denied, type="access_denied", request_id="lambda-id", code="AccessDeniedException",
            action="lambda:GetFunction")
