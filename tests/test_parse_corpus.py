"""The parser on the real log lines in tests/data/corpus, with hand-checked expected values.

Each file is fed line by line (split on LF only, CR kept), as a plain copy without envelope
timestamps, which is how those lines were pasted. Expected values were read off the lines and the
rules in docs/formats.md, not produced by the parser.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from testdata import CORPUS, corpus_files

from lambda_trace.analyzer.model import COMMON_KEYS, EVENT_KEYS, Event, LogEvent
from lambda_trace.analyzer.parse import Parser, ParseStats


def utc_ms(y: int, mo: int, d: int, h: int, mi: int, s: int, ms: int = 0) -> int:
    return int(datetime(y, mo, d, h, mi, s, tzinfo=timezone.utc).timestamp()) * 1000 + ms


def corpus_lines(name: str) -> list[str]:
    with (CORPUS / name).open(encoding="utf-8", newline="") as f:  # keep raw CRs (PROVENANCE.md)
        text = f.read()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


class Parsed:
    """A corpus file parsed line by line: the events each line produced, and the stats."""

    def __init__(self, name: str) -> None:
        parser = Parser()
        self.by_line: dict[int, list[Event]] = {}
        for number, line in enumerate(corpus_lines(name), 1):
            self.by_line[number] = parser.parse(LogEvent(message=line, origin=f"{name}:{number}"))
        self.after_end = parser.finish()
        self.stats: ParseStats = parser.stats

    def one(self, line: int, type_: str) -> Event:
        found = [e for e in self.by_line[line] if e["type"] == type_]
        assert len(found) == 1, f"line {line}: {self.by_line[line]}"
        return found[0]

    def nothing(self, line: int) -> None:
        assert self.by_line[line] == [], f"line {line}: {self.by_line[line]}"

    def all(self, type_: str) -> list[Event]:
        return [e for events in self.by_line.values() for e in events if e["type"] == type_]


def has(event: Event, **expected: Any) -> None:
    actual = {key: event.get(key) for key in expected}
    assert actual == expected


@pytest.fixture(scope="module")
def report_text() -> Parsed:
    return Parsed("report_text.log")


def test_report_text_cold_start_with_xray_on_the_same_line(report_text: Parsed) -> None:
    """A REPORT whose XRAY part a docs rendering put on the same line keeps every field."""
    has(report_text.one(1, "start"), request_id="c793869b-ee49-115b-a5b6-4fd21e8dedac",
        version="$LATEST")
    has(report_text.one(5, "report"), request_id="c793869b-ee49-115b-a5b6-4fd21e8dedac",
        duration_ms=128.83, billed_duration_ms=200, memory_size_mb=128, max_memory_used_mb=74,
        init_duration_ms=166.62, restore_duration_ms=None, status="success", error_type=None,
        xray_trace_id="1-5d9d007f-0a8c7fd02xmpl480aed55ef0", xray_segment_id="3d752xmpl1bbe37e")


def test_report_text_xray_on_the_next_line_completes_the_report(report_text: Parsed) -> None:
    """The XRAY line after a space-separated REPORT fills in that REPORT's trace id."""
    has(report_text.one(12, "report"), request_id="8f507cfc-xmpl-4697-b07a-ac58fc914c95",
        duration_ms=15.74, billed_duration_ms=16, memory_size_mb=128, max_memory_used_mb=56,
        init_duration_ms=130.49, xray_trace_id="1-5e34a614-10bdxmplf1fb44f07bc535a1",
        xray_segment_id="07f5xmpl2d1f6f85")
    report_text.nothing(13)
    has(report_text.one(30, "report"), request_id="dbda340c-xmpl-4031-8810-11bb609b4c71",
        duration_ms=38.66, billed_duration_ms=39, max_memory_used_mb=54, init_duration_ms=203.69,
        xray_trace_id="1-5e7d7595-212fxmpl9ee07c4884191322")
    has(report_text.one(39, "report"), request_id="6bc28136-xmpl-4365-b021-0ce6b2e64ab0",
        duration_ms=198.5, billed_duration_ms=200, memory_size_mb=512, max_memory_used_mb=90,
        init_duration_ms=524.75, xray_trace_id=None)


def test_report_text_odd_copies(report_text: Parsed) -> None:
    """Init Duration first, a truncated id, markdown indentation, ids replaced by "id"."""
    has(report_text.one(50, "report"), request_id="f8ac1208...", init_duration_ms=48.26,
        duration_ms=237.17, billed_duration_ms=300, memory_size_mb=128, max_memory_used_mb=26)
    has(report_text.one(51, "report"), request_id="3604209a-e9a3-11e6-939a-754dd98c7be3",
        duration_ms=12.34, billed_duration_ms=100, memory_size_mb=128, max_memory_used_mb=18,
        init_duration_ms=None)
    has(report_text.one(52, "start"), request_id="12b3cae7-5f4e-415e-93e6-416b8f8b66e6")
    has(report_text.one(54, "report"), duration_ms=976.25, billed_duration_ms=977,
        init_duration_ms=430.47)
    has(report_text.one(55, "start"), request_id="id")
    has(report_text.one(57, "report"), request_id="id", duration_ms=0.99, billed_duration_ms=1,
        memory_size_mb=256, max_memory_used_mb=12)
    has(report_text.one(62, "start"), request_id="4f3645464c2f")
    has(report_text.one(94, "report"), request_id="2d7fd9b0-a17f-4482-bc6c-4b58bb47b884",
        duration_ms=1201.12, billed_duration_ms=1300, init_duration_ms=287.33)


def test_report_text_counts(report_text: Parsed) -> None:
    """19 invocations (+3 lone REPORTs); print output is unparsed, runtime-logger lines are app."""
    assert len(report_text.all("start")) == 19
    assert len(report_text.all("report")) == 22
    assert len(report_text.all("end")) == 19
    # print(): lines 7-10, Go's log 23-28, Ruby 33, PowerShell 41, the truncated env dump 59
    assert report_text.stats.unparsed == 13
    # Node console lines 2-3, Python logging 15-18, [Information] 42, "<id> INFO" 63..91
    assert report_text.stats.app == 15


@pytest.fixture(scope="module")
def timeouts() -> Parsed:
    return Parsed("timeouts.log")


def test_timeouts_task_timed_out_lines(timeouts: Parsed) -> None:
    """Every shape of the timeout line gives its seconds, and the id and time it carries."""
    has(timeouts.one(7, "timeout"), request_id="fd9bb1b0dfd7", seconds=6.01, timestamp_ms=None)
    has(timeouts.one(11, "timeout"), request_id="b47cde10-029a-11e6-b5d6-1f01b70b94b2",
        seconds=120.0, timestamp_ms=utc_ms(2016, 4, 14, 23, 52, 45, 715))
    has(timeouts.one(15, "timeout"), request_id="160788cd-45ff-4583-809f-c7e31127cb95",
        seconds=3.07, timestamp_ms=utc_ms(2020, 11, 10, 5, 46, 57, 874))
    has(timeouts.one(16, "timeout"), request_id="e94af20e-24ef-4a6e-8d4b-db09a9a705b0",
        seconds=3.02)
    has(timeouts.one(18, "timeout"), request_id=None, seconds=60.0)


def test_timeouts_reports_with_status_and_billed_init(timeouts: Parsed) -> None:
    """Status: timeout / error with Error Type, billed init, a label-less REPORT, cut XRAY."""
    has(timeouts.one(2, "report"), request_id="13222b1e-f16b-4550-89df-869ab0a9806d",
        duration_ms=3000.0, billed_duration_ms=3000, status="timeout", error_type=None)
    has(timeouts.one(6, "report"), request_id="fd9bb1b0dfd7", duration_ms=6006.56,
        billed_duration_ms=6000, status="success")
    has(timeouts.one(8, "start"), request_id="b47cde10-029a-11e6-b5d6-1f01b70b94b2",
        version="$LATEST")
    has(timeouts.one(17, "report"), request_id="22f4200d-856a-41b5-9276-29d48412c78f",
        duration_ms=3757.18, billed_duration_ms=3758, memory_size_mb=128, max_memory_used_mb=81)
    has(timeouts.one(19, "init_start"), runtime_version="python:3.12.mainlinev2.v43",
        runtime_version_arn="arn:aws:lambda:us-east-1::runtime:"
        "36aeb19f3326e129d9f096dea0a3c6a9ca8dce2610e62d2b2060747602d863ae")
    has(timeouts.one(21, "report"), request_id="8d5958b5-559f-43f3-b278-b71dd7dd0e01",
        duration_ms=2.46, billed_duration_ms=417, memory_size_mb=1024, max_memory_used_mb=95,
        init_duration_ms=413.61, xray_trace_id="1-6ac7c67a-1c0aa43118a5d54708c0da61")
    has(timeouts.one(32, "report"), request_id="276ff3b9-1609-4ee7-a288-db3752630767",
        duration_ms=10935.7, max_memory_used_mb=1024, status="error",
        error_type="Runtime.OutOfMemory", xray_trace_id="1-6ac7d556-032906e375c910cf42cb849e")
    has(timeouts.one(44, "report"), request_id="c4c2a78d-5976-4177-91ae-64e7418b9769",
        duration_ms=600000.0, billed_duration_ms=600517, init_duration_ms=516.31,
        status="timeout", xray_trace_id="1-6ac7d74a-019546e11f8bb3cd382c293c")
    has(timeouts.one(46, "report"), request_id="3b9e07c5-5fa2-47ad-af06-e44d2b64ec8f",
        duration_ms=344356.22, billed_duration_ms=344756, init_duration_ms=399.33,
        status="error", error_type="Runtime.OutOfMemory",
        xray_trace_id="1-6ac7d856-23c5b0d2790c4b5677597fc1", xray_segment_id="382f97d370ef6f64")
    assert timeouts.stats.unparsed == 0
    assert len(timeouts.all("timeout")) == 5


@pytest.fixture(scope="module")
def oom() -> Parsed:
    return Parsed("oom_crashes.log")


def test_oom_crashes_fault_lines(oom: Parsed) -> None:
    """signal: killed (OOM marker), exit status 137, no reason, legacy wording; ExitError joins."""
    has(oom.one(4, "report"), request_id="43e50939ce8c", memory_size_mb=128,
        max_memory_used_mb=128)
    has(oom.one(5, "runtime_exit"), request_id="43e50939ce8c", reason="signal: killed",
        signal="killed", exit_status=None, oom=True, error_type="Runtime.ExitError")
    has(oom.one(10, "runtime_exit"), request_id="d88fc138-1756-4e8f-b887-d44851c12b84",
        reason="exit status 137", exit_status=137, signal=None, oom=False,
        error_type="Runtime.ExitError")
    oom.nothing(11)
    has(oom.one(22, "runtime_exit"), request_id=None, signal="killed", oom=True,
        error_type="Runtime.ExitError")
    has(oom.one(24, "runtime_exit"), signal="killed", oom=True, error_type="Runtime.ExitError")
    has(oom.one(25, "timeout"), request_id=None, seconds=30.27,
        timestamp_ms=utc_ms(2024, 6, 25, 19, 22, 58, 186))
    has(oom.one(27, "runtime_exit"), request_id=None, signal="killed",
        error_type="Runtime.ExitError")
    has(oom.one(29, "runtime_exit"), reason="Runtime exited without providing a reason",
        oom=False, error_type="Runtime.ExitError")
    has(oom.one(35, "runtime_exit"), request_id="18fea243-5715-11e7-9ad9-a197117ae4d4",
        reason="Process exited before completing request", oom=False)


def test_oom_crashes_prefixed_lines_and_legacy_node_error(oom: Parsed) -> None:
    """A CloudWatch timestamp column dates the event; Node 6's error line keeps its stack line."""
    has(oom.one(12, "report"), request_id="fa60295b-85a2-495a-a7e2-da5c85a5eb1e",
        timestamp_ms=utc_ms(2024, 9, 10, 13, 32, 59, 424), duration_ms=19266.38,
        billed_duration_ms=19267, memory_size_mb=2688, max_memory_used_mb=2581)
    has(oom.one(14, "start"), request_id="7102cad9-db37-4b26-b9c9-123665f50123",
        timestamp_ms=utc_ms(2024, 9, 10, 13, 32, 1, 978))
    has(oom.one(31, "error"), request_id="18fea243-5715-11e7-9ad9-a197117ae4d4",
        timestamp_ms=utc_ms(2017, 6, 22, 6, 36, 19, 294), error_type="TypeError",
        message="Cannot read property '0' of undefined", runtime="nodejs",
        stack=["    at exports.handler (/var/task/CloudTrailEventProcessing.js:20:34)"])
    has(oom.one(34, "report"), duration_ms=99.9, billed_duration_ms=100, max_memory_used_mb=33)
    # "Failed to initialize CoreCLR" and the reporter's two "..." elisions
    assert oom.stats.unparsed == 3


@pytest.fixture(scope="module")
def init_restore() -> Parsed:
    return Parsed("init_restore.log")


def test_init_restore_console_timestamps_date_the_events(init_restore: Parsed) -> None:
    """The console's timestamp line above each event becomes that event's time."""
    has(init_restore.one(2, "init_start"), runtime_version="java:21.v38",
        timestamp_ms=utc_ms(2025, 5, 21, 3, 29, 26, 330),
        runtime_version_arn="arn:aws:lambda:ap-southeast-2::runtime:"
        "81e4ff5669ca00936ae2ebcd7e3ee4b820d9f1dec101bbabbb706dc9e1481298")
    has(init_restore.one(8, "report"), request_id="314220ad-40f4-4204-843c-713576ded59a",
        timestamp_ms=utc_ms(2025, 5, 21, 3, 29, 28, 374), duration_ms=544.92,
        billed_duration_ms=545, memory_size_mb=2048, max_memory_used_mb=174,
        init_duration_ms=1494.57)
    has(init_restore.one(18, "report"), memory_size_mb=1769, init_duration_ms=1625.58)
    assert init_restore.stats.ignored == 39


def test_init_restore_snapstart(init_restore: Parsed) -> None:
    """RESTORE_START/REPORT, numeric versions, Restore Duration and Billed Restore Duration."""
    has(init_restore.one(54, "restore_start"), runtime_version="java:21.v38")
    has(init_restore.one(58, "restore_report"), duration_ms=789.64, status="success",
        timestamp_ms=utc_ms(2025, 5, 21, 14, 26, 56, 661))
    has(init_restore.one(60, "start"), request_id="5b321b10-9dfa-4a05-b900-c45b96303238",
        version="23")
    has(init_restore.one(64, "report"), duration_ms=149.53, billed_duration_ms=313,
        memory_size_mb=3538, max_memory_used_mb=163, restore_duration_ms=789.64,
        billed_restore_duration_ms=163, init_duration_ms=None)
    has(init_restore.one(66, "report"), restore_duration_ms=789.64, billed_restore_duration_ms=163)
    has(init_restore.one(78, "report"), request_id="dfdd669e-d1d5-48a7-9fbf-9247b567555a",
        duration_ms=98.35, billed_duration_ms=175, restore_duration_ms=422.92,
        billed_restore_duration_ms=76)
    has(init_restore.one(80, "init_report"), duration_ms=13316.04, phase=None,
        status="success", timestamp_ms=utc_ms(2026, 8, 26, 10, 52, 40, 72))
    has(init_restore.one(81, "restore_start"), runtime_version="java:21.mainline.v82")
    has(init_restore.one(83, "restore_report"), duration_ms=1326.77)
    has(init_restore.one(84, "start"), request_id="88a9b9a0-6a94-44a1-9942-4fd6ab25d598",
        version="40")


def test_init_restore_init_failure(init_restore: Parsed) -> None:
    """An init-phase ImportModuleError, the bootstrap extension and INIT_REPORT Phase: init."""
    has(init_restore.one(85, "error"), error_type="Runtime.ImportModuleError",
        message="Unable to import module 'xxxx.xxxxxxx': Unable to import required dependency "
        "numpy. Please see the traceback for details.", runtime="python", unhandled=True)
    has(init_restore.one(87, "extension"), name="bootstrap", state="Ready",
        events=["INVOKE", "SHUTDOWN"])
    has(init_restore.one(88, "init_report"), duration_ms=1882.55, phase="init", status="error",
        error_type="Runtime.ImportModuleError")
    # JAVA_TOOL_OPTIONS, twice "Restored SnapStart snapshot.", two Spring log lines
    assert init_restore.stats.unparsed == 5


def test_extensions() -> None:
    """EXTENSION lines in either event order; an SSM AccessDeniedException in an extension line."""
    parsed = Parsed("extensions.log")
    has(parsed.one(4, "extension"), name="AWSParametersAndSecretsLambdaExtension", state="Ready",
        events=["SHUTDOWN", "INVOKE"])
    has(parsed.one(7, "access_denied"), code="AccessDeniedException",
        principal="arn:aws:sts::000000000000:assumed-role/test-role/test",
        action="ssm:GetParameter",
        resource="arn:aws:ssm:ap-northeast-1:000000000000:parameter/test_param")
    has(parsed.one(12, "report"), request_id="e2a94706-2b18-48eb-9999-41200c64afc8",
        duration_ms=877.1, billed_duration_ms=1249, init_duration_ms=371.0)
    has(parsed.one(15, "extension"), name="AppConfigAgent", events=["INVOKE", "SHUTDOWN"])
    has(parsed.one(31, "report"), duration_ms=263.34, billed_duration_ms=467,
        max_memory_used_mb=38, init_duration_ms=203.47)
    assert (parsed.stats.app, parsed.stats.unparsed) == (7, 15)


@pytest.fixture(scope="module")
def python_errors() -> Parsed:
    return Parsed("python_errors.log")


def test_python_errors_json_unhandled_after_lambda_warning(python_errors: Parsed) -> None:
    """LAMBDA_WARNING joined by CR to the JSON error that uses ``log_level``."""
    error = python_errors.one(1, "error")
    has(error, request_id="ca52c236-a38d-40fc-aa6b-7e3be2b7aa55",
        timestamp_ms=utc_ms(2024, 6, 17, 17, 23, 55), error_type="UnicodeDecodeError",
        message="'utf-8' codec can't decode byte 0x80 in position 7: invalid start byte",
        runtime="python", unhandled=True)
    assert error["stack"][0] == (
        '  File "/var/lang/lib/python3.12/site-packages/mu/handler.py", line 21, in on_event')
    assert len(error["stack"]) == 14  # 7 frames of two lines


def test_python_errors_error_lines(python_errors: Parsed) -> None:
    """[ERROR] lines, their tracebacks on the next lines, collapsed and prefix-less copies."""
    has(python_errors.one(3, "error"), error_type="Runtime.ImportModuleError",
        message="Unable to import module 'vc__handler__python': No module named "
        "'urllib3.packages.six.moves'")
    has(python_errors.one(7, "error"), error_type="KeyError", message="'Details'", stack=[
        '  File "/var/task/index.py", line 6, in lambda_handler',
        "    noncompliantTrail = str(event['detail']['findings'][0]['Resources'][0]['Details']"
        "['Other']['name'])"])
    has(python_errors.one(18, "error"), error_type="Runtime.HandlerNotFound",
        message="Handler 'lambda_handler' missing on module 'lambda_function'")
    has(python_errors.one(20, "error"), error_type="Runtime.HandlerNotFound",
        message="Handler 'handler' missing on module 'app'")
    has(python_errors.one(22, "error"), error_type="Runtime.HandlerNotFound",
        message="Handler 'handler' missing on module 'wsgi_handler'")
    has(python_errors.one(44, "error"), error_type="Runtime.ImportModuleError",
        message="Unable to import module 'lambda_function': No module named 'lambda_function'")


def test_python_errors_legacy_format(python_errors: Parsed) -> None:
    """Python 2.7-3.7: "<message>: <Type>" then a traceback whose last line is "Type: message"."""
    legacy = python_errors.one(24, "error")
    has(legacy, error_type="KeyError", message="'jobName'", runtime="python", unhandled=True)
    assert legacy["stack"][-1] == "KeyError: 'jobName'"
    assert len(legacy["stack"]) == 5
    has(python_errors.one(34, "error"), error_type="KeyError", message="'Item'")
    has(python_errors.one(35, "error"), error_type="KeyError", message="'Item'")


def test_python_errors_end_glued_to_the_traceback(python_errors: Parsed) -> None:
    """The console glues END to an [ERROR] event that lacked a final newline."""
    has(python_errors.one(42, "end"), request_id="8da27dae-7bf7-496f-a818-adb9f030f808")
    has(python_errors.one(43, "report"), duration_ms=12.27, billed_duration_ms=13,
        init_duration_ms=290.42)
    assert len(python_errors.all("error")) == 14
    assert python_errors.stats.unparsed == 1  # the reporter's "--"


def test_node_errors_uncaught_exception_with_pretty_json() -> None:
    """Node's init failure: the expanded JSON completes the error; INIT_REPORT phases; REPORT."""
    parsed = Parsed("node_errors.log")
    has(parsed.one(2, "init_start"), runtime_version="nodejs:18.v71",
        timestamp_ms=utc_ms(2025, 6, 9, 0, 24, 4, 849))
    error = parsed.one(6, "error")
    has(error, request_id=None, timestamp_ms=utc_ms(2025, 6, 9, 0, 24, 5, 61),
        error_type="Runtime.ImportModuleError",
        message="Error: Cannot find module 'postConfirmation'\nRequire stack:\n"
        "- /var/runtime/index.mjs", runtime="nodejs", unhandled=True)
    assert error["stack"][0] == (
        "Runtime.ImportModuleError: Error: Cannot find module 'postConfirmation'")
    assert len(error["stack"]) == 7
    has(parsed.one(22, "error"), error_type="Runtime.ImportModuleError", runtime="nodejs")
    has(parsed.one(24, "init_report"), duration_ms=229.04, phase="init", status="error",
        error_type="Runtime.ImportModuleError")
    has(parsed.one(46, "init_report"), duration_ms=129.89, phase="invoke", status="error")
    has(parsed.one(58, "report"), request_id="60d08d48-b6b9-4953-83db-30848477f662",
        duration_ms=143.12, billed_duration_ms=144, max_memory_used_mb=68, status="error",
        error_type="Runtime.ImportModuleError")
    assert parsed.stats.unparsed == 0
    assert parsed.stats.malformed == 0


@pytest.fixture(scope="module")
def access_denied() -> Parsed:
    return Parsed("access_denied.log")


def test_access_denied_python_client_error(access_denied: Parsed) -> None:
    """botocore's message gives code, principal, IAM action, resource and operation."""
    has(access_denied.one(7, "access_denied"), code="AccessDeniedException",
        principal="arn:aws:sts::137141637317:assumed-role/red-dam-role-b0q1toew/red-dam",
        action="dynamodb:GetItem",
        resource="arn:aws:dynamodb:ap-south-1:137141637317:table/dam_user_filter",
        operation="GetItem")
    error = access_denied.one(7, "error")
    has(error, error_type="ClientError", unhandled=True, runtime="python")
    assert error["stack"][-1] == "    raise error_class(parsed_response, operation_name)"
    has(access_denied.one(20, "end"), request_id="2c5dea95-94a9-4205-806d-053574e55168")


def test_access_denied_other_shapes(access_denied: Parsed) -> None:
    """JS SDK v2, "User with accountId", a cut-off invoke response, S3 without IAM details."""
    has(access_denied.one(24, "access_denied"), code="AccessDenied",
        principal="arn:aws:sts::085108115628:assumed-role/lambda-dashboard-dev-us-east-1-"
        "lambdaRole/lambda-dashboard-dev-main", action="cloudwatch:GetMetricStatistics",
        resource=None)
    has(access_denied.one(31, "access_denied"), code="AccessDeniedException",
        principal="1287256XXXX", action="logs:PutSubscriptionFilter",
        resource="arn:aws:logs:us-east-1:0755119XXXX:destination:BucketBackupLogDestination",
        operation="PutSubscriptionFilter")
    has(access_denied.one(33, "access_denied"), code="AccessDeniedException",
        principal="arn:aws:sts::857687956942:assumed-role/lambda-execution-role/"
        "justhodl-schedule-reconciler", action="scheduler:ListSchedules",
        resource="arn:aws:scheduler:us-east-1:8576879")
    has(access_denied.one(35, "access_denied"), request_id="2a5345ff-6116-422d-a858-713b9216cc86",
        code="AccessDenied", operation="GetObject", action=None, principal=None,
        message="An error occurred (AccessDenied) when calling the GetObject operation: "
        "Access Denied")
    has(access_denied.one(35, "error"), unhandled=False, runtime="python",
        timestamp_ms=utc_ms(2024, 5, 28, 12, 15, 23, 482))
    has(access_denied.one(62, "access_denied"), code="AccessDenied", action="kms:Decrypt",
        resource="arn:aws:kms:us-east-1:<>:key/<>", operation="GetObject",
        principal="arn:aws:sts::<>:assumed-role/crossfeed-staging-cd-api-us-east-1-lambdaRole/"
        "crossfeed-staging-cd-api")


def test_access_denied_node_invoke_error_cut_short(access_denied: Parsed) -> None:
    """The expanded "Invoke Error" JSON never closes; its fields are salvaged, not its SDK id."""
    has(access_denied.one(41, "error"), request_id="ab2c1583-e26d-420e-acaf-cb03878c7f8b",
        error_type="AccessDeniedException", runtime="nodejs", unhandled=True,
        timestamp_ms=utc_ms(2020, 1, 27, 20, 45, 51, 54))
    salvaged, *rest = access_denied.by_line[52]
    has(salvaged, type="access_denied", request_id="ab2c1583-e26d-420e-acaf-cb03878c7f8b",
        code="AccessDeniedException", action="lambda:GetFunctionConfiguration",
        resource="arn:aws:lambda:us-west-2:725462913924:function:"
        "dev-testResult-student-testresults-get-lambda")
    legacy = [e for e in rest if e["type"] == "access_denied"]
    assert len(legacy) == 1
    has(legacy[0], action="lambda:InvokeFunction",
        resource="arn:aws:lambda:us-east-1:507296099304:function:QnABot2-ESQidLambda-M9LBJLAZJB9N")
    assert access_denied.stats.malformed == 2
    # 24-30: "AccessDenied: User: ..." then aws-sdk frames is a Node.js error printed without
    # the runtime's prefix (its frames are continued lines).
    has(access_denied.one(25, "error"), error_type="AccessDenied", runtime="nodejs")
    assert access_denied.stats.unparsed == 6


@pytest.fixture(scope="module")
def messy() -> Parsed:
    return Parsed("messy.log")


def test_messy_console_copy_and_wrapped_report(messy: Parsed) -> None:
    """Time-only lines, a REPORT hard-wrapped over two lines, deleted ids."""
    has(messy.one(5, "report"), request_id="86e097d4-90ac-4fa6-9c40-92586125f011",
        duration_ms=95.12, billed_duration_ms=100, memory_size_mb=512, max_memory_used_mb=512)
    has(messy.one(17, "timeout"), request_id="864f7a3d-0f2c-4c08-83aa-b41684e8cea7",
        seconds=20.02, timestamp_ms=utc_ms(2019, 6, 6, 19, 14, 19, 346))
    has(messy.one(32, "report"), request_id="9a575a5f-a47e-11e7-986c-7b647bb6a9d0",
        duration_ms=35.69, billed_duration_ms=100, memory_size_mb=128, max_memory_used_mb=32)
    messy.nothing(33)
    has(messy.one(34, "start"), request_id=None, version="$LATEST")
    has(messy.one(35, "end"), request_id=None)
    has(messy.one(36, "report"), request_id=None, duration_ms=671.75, billed_duration_ms=700,
        memory_size_mb=1536, max_memory_used_mb=452)
    has(messy.one(37, "runtime_exit"), request_id=None,
        reason="Process exited before completing request")


def test_messy_legacy_errors_and_truncated_emf(messy: Parsed) -> None:
    """Legacy tracebacks without indentation, the pre-2019 init error, an EMF cut at 300 chars."""
    keyerror = messy.one(19, "error")
    has(keyerror, error_type="KeyError", message="'eventTime'")
    assert len(keyerror["stack"]) == 9 and keyerror["stack"][-1] == "KeyError: 'eventTime'"
    ioerror = messy.one(39, "error")
    has(ioerror, error_type="IOError", message="cannot identify image file")
    assert len(ioerror["stack"]) == 7
    has(messy.one(49, "error"), error_type=None,
        message="module initialization error: [Errno 28] No space left on device")
    messy.nothing(50)
    has(messy.one(51, "emf"), namespace="JustHodl/LLM", metrics=["ProvidersUp"], truncated=True,
        timestamp_ms=1785618058389)
    assert (messy.stats.unparsed, messy.stats.malformed) == (1, 1)


def test_emf_documents() -> None:
    """EMF between platform lines: namespace, metric names, dimension values, values, request id."""
    parsed = Parsed("emf.log")
    has(parsed.one(1, "init_start"), runtime_version="provided:al2.v19")
    has(parsed.one(4, "emf"), request_id="fce53486-160d-41e8-b8c3-8ef0fd0f4051",
        timestamp_ms=1688294472338, namespace="MetricsTest", metrics=["ColdStart"],
        dimensions={"Function": "MetricsTest"}, values={"ColdStart": 1},
        dimension_sets=[["Function"]], truncated=False)
    has(parsed.one(6, "emf"), metrics=["requests"],
        dimensions={"Function": "MetricsTest", "Method": "Default"}, values={"requests": 1})
    has(parsed.one(8, "report"), duration_ms=1.22, billed_duration_ms=11, init_duration_ms=8.99)
    assert parsed.stats.app == 2  # the Rust tracing JSON lines


def test_json_platform_records() -> None:
    """platform.* records as CloudWatch stores them in the JSON log format."""
    parsed = Parsed("json_platform.jsonl")
    has(parsed.one(1, "report"), request_id="40f6c622-67a3-4159-97f2-ce364a0cb7a8",
        timestamp_ms=utc_ms(2024, 6, 17, 17, 23, 55, 826), duration_ms=18.593,
        billed_duration_ms=19, memory_size_mb=2048, max_memory_used_mb=246,
        init_duration_ms=None, status="success")
    has(parsed.one(2, "start"), request_id="ca52c236-a38d-40fc-aa6b-7e3be2b7aa55",
        version="$LATEST")
    has(parsed.one(3, "init_report"), duration_ms=10000.487, phase="init", status="timeout",
        init_type="on-demand", timestamp_ms=utc_ms(2024, 6, 17, 17, 48, 6, 348))
    has(parsed.one(4, "init_start"), runtime_version="nodejs:22.mainline.v122",
        init_type="on-demand", memory_size_mb=256,
        instance_id="2026/10/08/tenner-notifier[$LATEST]22be53a8cfde4e68b844f8ec293b2543")
    has(parsed.one(6, "report"), request_id="79b5e81f-9cdd-4145-b1f6-7c50ef8a2a36",
        duration_ms=1233.96, billed_duration_ms=1698, memory_size_mb=256, max_memory_used_mb=123,
        init_duration_ms=463.512)
    has(parsed.one(7, "start"), request_id="f0c9f58b-8ebe-4e84-a656-95eb6eee865a")


def test_json_app_records() -> None:
    """Python logger.exception in JSON, Node records whose message is JSON in a string."""
    parsed = Parsed("json_app.jsonl")
    error = parsed.one(1, "error")
    has(error, request_id="b16742c9-fc88-48cd-b49a-da83582e3929",
        timestamp_ms=utc_ms(2024, 6, 18, 2, 7, 6), error_type="Exception",
        message="with some text", runtime="python", unhandled=False)
    assert error["stack"] == ['  File "/app/climate/aws.py", line 128, in log_json',
                              "    raise Exception('with some text')"]
    has(parsed.one(2, "error"), request_id="79b5e81f-9cdd-4145-b1f6-7c50ef8a2a36",
        message="Widget update failed", unhandled=False,
        timestamp_ms=utc_ms(2026, 10, 8, 7, 30, 29, 443))
    parsed.nothing(3)
    has(parsed.one(4, "error"), request_id="f0c9f58b-8ebe-4e84-a656-95eb6eee865a")
    assert parsed.stats.app == 1


def test_telemetry_api_events() -> None:
    """A Telemetry batch array, runtimeDone, tracing, a Managed Instances report."""
    parsed = Parsed("telemetry_api.jsonl")
    has(parsed.one(1, "init_start"), runtime_version="nodejs:20.v22", init_type="on-demand")
    has(parsed.one(2, "start"), request_id="459921b5-681c-4a96-beb0-81e0aa586026",
        timestamp_ms=utc_ms(2022, 10, 21, 14, 5, 3, 165))
    has(parsed.one(3, "runtime_done"), phase="invoke", status="success", duration_ms=2599.0,
        produced_bytes=8)
    has(parsed.one(4, "report"), duration_ms=2599.4, billed_duration_ms=2600,
        memory_size_mb=128, max_memory_used_mb=94, init_duration_ms=549.04,
        xray_trace_id="1-6352a70e-1e2c502e358361800241fd45")
    has(parsed.one(5, "report"), request_id="13d1305b-a2f5-440c-bfbe-686ccff3d3e0",
        duration_ms=1.148, billed_duration_ms=None, memory_size_mb=None, status="success")


#: Free text per file, counted by reading the files: print() output, other tools' lines, elisions.
UNPARSED = {
    "access_denied.log": 6, "emf.log": 0, "extensions.log": 15, "init_restore.log": 5,
    "json_app.jsonl": 0, "json_platform.jsonl": 0, "messy.log": 1, "node_errors.log": 0,
    "oom_crashes.log": 3, "python_errors.log": 1, "report_text.log": 13,
    "telemetry_api.jsonl": 0, "timeouts.log": 0,
}


@pytest.mark.parametrize("name", sorted(UNPARSED))
def test_unparsed_lines_per_file(name: str) -> None:
    """Only the lines nothing in the spec describes stay unparsed."""
    assert Parsed(name).stats.unparsed == UNPARSED[name]


ALL_FILES = [str(p.relative_to(CORPUS)) for p in corpus_files()]


@pytest.mark.parametrize("name", ALL_FILES)
def test_every_corpus_line_parses_without_raising(name: str) -> None:
    """Any line, envelope or not, is an event, app text, free text or malformed: never an error."""
    parsed = Parsed(name)
    stats = parsed.stats
    assert stats.lines == len(corpus_lines(name))
    assert stats.lines == (stats.recognised + stats.app + stats.continued + stats.unparsed
                           + stats.malformed + stats.ignored)
    produced = [e for events in parsed.by_line.values() for e in events] + parsed.after_end
    assert sum(stats.events.values()) == len(produced)
    for event in produced:
        assert set(COMMON_KEYS) <= event.keys()
        assert set(EVENT_KEYS[event["type"]]) <= event.keys()


def test_python_errors_a_traceback_pasted_on_one_line_groups_with_its_copy() -> None:
    """Line 34 is lines 35-39 flattened onto one line (a console copy): the frame's function is
    ``lambda_handler``, not ``lambda_handler instance = instance['Item']…``, so both copies of
    the KeyError at lambda_function.py:80 are one error group."""
    from lambda_trace.analyzer.aggregate import aggregate_events

    parser = Parser()
    events = (event for number, line in enumerate(corpus_lines("python_errors.log"), 1)
              for event in parser.parse(LogEvent(message=line, origin=f"python_errors:{number}")))
    agg, _ = aggregate_events(events)
    groups = [(key, count) for key, count, _, _ in agg.error_groups.items()
              if "lambda_function.py:80" in str(key[1])]
    assert groups == [(("KeyError", "lambda_function.py:80 in lambda_handler"), 2)]


def test_access_denied_raised_by_the_sdk_is_a_permission_not_a_code_error() -> None:
    """access_denied.log's Node ``AccessDenied: User: … is not authorized to perform:
    cloudwatch:GetMetricStatistics`` with its aws-sdk stack, outside any START/END: one
    permission finding for that role, and no code_error for the SDK's Request.extractError."""
    from lambda_trace.analyzer.aggregate import aggregate_events
    from lambda_trace.analyzer.findings import find_all

    parser = Parser()
    events = (event for number, line in enumerate(corpus_lines("access_denied.log"), 1)
              for event in parser.parse(LogEvent(message=line, origin=f"access_denied:{number}")))
    findings = find_all(aggregate_events(events)[0])
    assert not [f for f in findings if f.kind == "code_error" and "AccessDenied" in f.subject]
    denied = [f for f in findings if f.kind == "permission_denied"
              and f.subject == "lambda-dashboard-dev-us-east-1-lambdaRole"]
    assert len(denied) == 1
