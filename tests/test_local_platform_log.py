"""Platform lines are written in Lambda's exact Text and JSON shapes (docs/formats.md §1, §4)."""

from __future__ import annotations

import json

import pytest

from lambda_trace.analyzer.model import LogEvent
from lambda_trace.analyzer.parse import Parser
from lambda_trace.local.platform_log import JSON, TEXT, PlatformLog, Report, XRay

NOW = 1_795_000_000.123  # 2026-11-18T11:06:40.123Z
RID = "8d5958b5-559f-43f3-b278-b71dd7dd0e01"
XRAY = XRay("1-6ac7c67a-1c0aa43118a5d54708c0da61", "2d54219895e821dd")


def parse(message: str) -> dict[str, object]:
    (event,) = Parser().parse(LogEvent(message, 1, "2026/11/18/[$LATEST]" + "a" * 32, "/g"))
    return event


def test_start_and_end_lines():
    """START has one space before Version; END is just the id (§1.1, §1.2)."""
    log = PlatformLog(TEXT)
    assert log.start(NOW, request_id=RID, function_version="$LATEST", function_arn="x") == [
        f"START RequestId: {RID} Version: $LATEST\n"
    ]
    assert log.end(NOW, RID) == [f"END RequestId: {RID}\n"]


def test_a_warm_report_ends_with_a_tab():
    """REPORT fields are tab-separated with a trailing tab when there is no Status (§1.3)."""
    line = PlatformLog(TEXT).report(NOW, Report(RID, 2.456, 1024, 95))
    assert line == [
        f"REPORT RequestId: {RID}\tDuration: 2.46 ms\tBilled Duration: 3 ms\t"
        "Memory Size: 1024 MB\tMax Memory Used: 95 MB\t\n"
    ]


def test_a_cold_report_bills_the_init_and_carries_xray():
    """Cold starts bill ceil(Duration + Init Duration); XRAY follows on a second line."""
    (line,) = PlatformLog(TEXT).report(NOW, Report(RID, 2.46, 1024, 95, 413.61, xray=XRAY))
    assert line == (
        f"REPORT RequestId: {RID}\tDuration: 2.46 ms\tBilled Duration: 417 ms\t"
        "Memory Size: 1024 MB\tMax Memory Used: 95 MB\tInit Duration: 413.61 ms\t\n"
        "XRAY TraceId: 1-6ac7c67a-1c0aa43118a5d54708c0da61\tSegmentId: 2d54219895e821dd"
        "\tSampled: true\n"
    )


def test_status_fields_end_the_line_without_a_tab():
    """Status and Error Type come last, with no trailing tab (real: timeouts.log:32)."""
    (line,) = PlatformLog(TEXT).report(
        NOW, Report(RID, 10935.7, 1024, 1024, status="error", error_type="Runtime.OutOfMemory")
    )
    assert line.endswith(
        "Max Memory Used: 1024 MB\tStatus: error\tError Type: Runtime.OutOfMemory\n"
    )


def test_fault_lines():
    """Timeout and runtime-exit fault lines (§1.8); JSON format has none of them."""
    text = PlatformLog(TEXT)
    (timed_out,) = text.timed_out(NOW, RID, 3.004)
    assert timed_out.endswith(f"Z {RID} Task timed out after 3.00 seconds\n")
    assert text.runtime_exited(NOW, RID, "signal: killed") == [
        f"RequestId: {RID} Error: Runtime exited with error: signal: killed\nRuntime.ExitError\n"
    ]
    json_log = PlatformLog(JSON)
    assert json_log.timed_out(NOW, RID, 3.0) == []
    assert json_log.runtime_exited(NOW, RID, "signal: killed") == []
    assert json_log.end(NOW, RID) == []


def test_init_lines_in_text():
    """INIT_START once per environment; INIT_REPORT only for a failed init (§1.4, §1.5)."""
    log = PlatformLog(TEXT)
    (start,) = log.init_start(
        NOW,
        runtime_version="python:3.12.v1",
        runtime_version_arn="arn:aws:lambda:x::runtime:ab",
        function_name="f",
        function_version="$LATEST",
        instance_id="s",
        memory_size_mb=128,
    )
    assert start == (
        "INIT_START Runtime Version: python:3.12.v1\t"
        "Runtime Version ARN: arn:aws:lambda:x::runtime:ab\n"
    )
    assert log.init_report(
        NOW,
        duration_ms=229.04,
        phase="init",
        status="error",
        error_type="Runtime.ImportModuleError",
    ) == [
        "INIT_REPORT Init Duration: 229.04 ms\tPhase: init\tStatus: error"
        "\tError Type: Runtime.ImportModuleError\n"
    ]
    assert log.init_runtime_done(NOW) == []


def test_json_events_are_compact_objects_with_time_type_and_record():
    """JSON platform events: compact, millisecond ISO time, the record's real keys (§4)."""
    log = PlatformLog(JSON)
    (report,) = log.report(NOW, Report(RID, 18.5934, 2048, 246, 463.5124, xray=XRAY))
    assert ", " not in report and not report.endswith("\n")
    event = json.loads(report)
    assert event["time"] == "2026-11-18T11:06:40.123Z"
    assert event["type"] == "platform.report"
    assert event["record"]["metrics"] == {
        "durationMs": 18.593,
        "billedDurationMs": 483,
        "memorySizeMB": 2048,
        "maxMemoryUsedMB": 246,
        "initDurationMs": 463.512,
    }
    assert event["record"]["status"] == "success"
    assert event["record"]["tracing"]["value"].startswith("Root=1-6ac7c67a-")
    (init,) = log.init_start(
        NOW,
        runtime_version="python:3.12.v1",
        runtime_version_arn="arn",
        function_name="f",
        function_version="$LATEST",
        instance_id="2026/11/18/[$LATEST]abc",
        memory_size_mb=256,
    )
    record = json.loads(init)["record"]
    assert record["instanceMaxMemory"] == 268435456
    assert record["instanceId"] == "2026/11/18/[$LATEST]abc"
    (failed,) = log.report(
        NOW, Report(RID, 5.0, 128, 128, status="error", error_type="Runtime.OutOfMemory")
    )
    assert json.loads(failed)["record"]["status"] == "error"
    assert json.loads(failed)["record"]["errorType"] == "Runtime.OutOfMemory"


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (
            "DEBUG",
            [
                "platform.initStart",
                "platform.initRuntimeDone",
                "platform.start",
                "platform.runtimeDone",
                "platform.report",
            ],
        ),
        ("INFO", ["platform.initStart", "platform.start", "platform.report"]),
        ("WARN", []),
    ],
)
def test_the_system_log_level_filters_platform_events(level: str, expected: list[str]):
    """runtimeDone events are DEBUG; WARN drops the INFO ones."""
    log = PlatformLog(JSON, level)
    lines = [
        *log.init_start(
            NOW,
            runtime_version="v",
            runtime_version_arn="a",
            function_name="f",
            function_version="$LATEST",
            instance_id="i",
            memory_size_mb=128,
        ),
        *log.init_runtime_done(NOW),
        *log.start(NOW, request_id=RID, function_version="$LATEST", function_arn="a"),
        *log.runtime_done(
            NOW,
            request_id=RID,
            status="success",
            error_type=None,
            duration_ms=1.0,
            produced_bytes=2,
        ),
        *log.report(NOW, Report(RID, 1.0, 128, 30)),
    ]
    assert [json.loads(line)["type"] for line in lines] == expected


def test_the_analyzer_reads_every_line_kind():
    """The real Parser turns each platform line into the matching event with its numbers."""
    text = PlatformLog(TEXT)
    report = parse(text.report(NOW, Report(RID, 3000.0, 128, 64, 516.31, status="timeout"))[0])
    assert (report["type"], report["request_id"], report["duration_ms"]) == ("report", RID, 3000.0)
    assert (report["init_duration_ms"], report["status"]) == (516.31, "timeout")
    assert parse(text.timed_out(NOW, RID, 3.0)[0])["type"] == "timeout"
    exit_event = parse(text.runtime_exited(NOW, RID, "signal: killed")[0])
    assert (exit_event["type"], exit_event["request_id"]) == ("runtime_exit", RID)
    init = parse(
        text.init_report(
            NOW,
            duration_ms=10.0,
            phase="invoke",
            status="error",
            error_type="Runtime.ImportModuleError",
        )[0]
    )
    assert (init["type"], init["phase"], init["error_type"]) == (
        "init_report",
        "invoke",
        "Runtime.ImportModuleError",
    )
    json_report = parse(PlatformLog(JSON).report(NOW, Report(RID, 1.5, 256, 80, 300.25))[0])
    assert (json_report["type"], json_report["billed_duration_ms"]) == ("report", 302)
