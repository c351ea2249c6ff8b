"""The local runner runs a handler the way Lambda does: genuine runtime, limits, platform lines.

Every test starts real ``python -m awslambdaric`` processes against the runner's Runtime API
server; the handler here is undecorated, so only the runner's behaviour is under test.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from lambda_trace.analyzer.model import LogEvent
from lambda_trace.analyzer.parse import Parser
from lambda_trace.local import memory
from lambda_trace.local.runner import MAX_EVENT_CHARS, Runner
from lambda_trace.local.template import FunctionSpec

HANDLER = """
import json, logging, os, subprocess, sys, time

HOARD = []

def handler(event, context):
    action = event.get("action")
    print("pid", os.getpid())
    if action == "sleep":
        time.sleep(event["seconds"])
    elif action == "hog":
        while True:
            HOARD.append(bytearray(8 * 1024 * 1024))  # touched pages: resident at once
    elif action == "raise":
        raise ValueError("bad input")
    elif action == "exit":
        os._exit(3)
    elif action == "streams":
        print("first line\\nsecond line")
        print("to stderr", file=sys.stderr)
        logging.getLogger().warning("from logging")
    elif action == "long":
        print("x" * event["chars"])
    cc = context.client_context
    return {
        "request_id": context.aws_request_id,
        "function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "client_context": cc.custom if cc is not None else None,
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
        "env": dict(os.environ),
        "pid": os.getpid(),
    }
"""

RID = r"[0-9a-f-]{36}"
REPORT_TEXT = re.compile(
    rf"^REPORT RequestId: (?P<id>{RID})\tDuration: (?P<duration>\d+\.\d\d) ms"
    r"\tBilled Duration: (?P<billed>\d+) ms\tMemory Size: (?P<size>\d+) MB"
    r"\tMax Memory Used: (?P<used>\d+) MB"
    r"(?:\tInit Duration: (?P<init>\d+\.\d\d) ms)?"
    r"(?:\tStatus: (?P<status>timeout|error)(?:\tError Type: (?P<error_type>\S+))?)?"
    r"\t?(?:\nXRAY TraceId: 1-[0-9a-f]{8}-[0-9a-f]{24}\tSegmentId: [0-9a-f]{16}\tSampled: true)?\n$"
)


@pytest.fixture
def make_runner(tmp_path: Path) -> Any:
    """Build a runner for HANDLER (or ``source``) with FunctionSpec overrides."""
    runners: list[Runner] = []

    def build(source: str = HANDLER, module: str = "app", **spec: Any) -> Runner:
        code = tmp_path / f"code{len(runners)}"
        code.mkdir()
        (code / f"{module}.py").write_text(source)
        settings: dict[str, Any] = {
            "logical_id": "Fn",
            "name": "fn",
            "handler": f"{module}.handler",
            "code_dir": code,
            "runtime": "python3.12",
            "memory_mb": 128,
            "timeout_s": 2.0,
            "log_group": "/aws/lambda/fn",
            **spec,
        }
        options = settings.pop("runner_options", {})
        runner = Runner(FunctionSpec(**settings), **options)
        runners.append(runner)
        return runner

    yield build
    for runner in runners:
        runner.close()


def messages(logs: list[LogEvent]) -> list[str]:
    return [event.message for event in logs]


def only(logs: list[LogEvent], pattern: str) -> str:
    found = [m for m in messages(logs) if re.search(pattern, m)]
    assert len(found) == 1, (pattern, messages(logs))
    return found[0]


def report(logs: list[LogEvent]) -> re.Match[str]:
    match = REPORT_TEXT.match(only(logs, r"^REPORT "))
    assert match, only(logs, r"^REPORT ")
    return match


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_first_invocation_is_a_cold_start_with_init_lines(make_runner: Callable[..., Runner]):
    """A cold start writes INIT_START, START, the output, END and a REPORT with Init Duration."""
    result = make_runner().invoke({})
    assert result.outcome == "success" and result.cold_start
    lines = messages(result.logs)
    assert re.match(
        r"^INIT_START Runtime Version: python:\S+\tRuntime Version ARN: "
        r"arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}\n$",
        lines[0],
    )
    assert lines[1] == f"START RequestId: {result.request_id} Version: $LATEST\n"
    assert lines[-2] == f"END RequestId: {result.request_id}\n"
    fields = report(result.logs)
    assert fields["id"] == result.request_id
    assert float(fields["init"]) == pytest.approx(result.init_duration_ms, abs=0.01)
    # Since 2025-08 a cold start bills Duration + Init Duration (docs/formats.md §1.3).
    total = float(fields["duration"]) + float(fields["init"])
    assert int(fields["billed"]) in (int(total), int(total) + 1)
    assert fields["status"] is None


def test_second_invocation_reuses_the_warm_environment(make_runner: Callable[..., Runner]):
    """A warm invocation runs in the same process and log stream, without init lines."""
    runner = make_runner()
    first, second = runner.invoke({}), runner.invoke({})
    assert not second.cold_start and second.init_duration_ms is None
    assert second.response()["pid"] == first.response()["pid"]
    assert second.log_stream == first.log_stream
    assert not any(m.startswith("INIT_START") for m in messages(second.logs))
    assert report(second.logs)["init"] is None
    assert re.match(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$", first.log_stream)


def test_the_handler_sees_lambdas_context_and_environment(make_runner: Callable[..., Runner]):
    """Context headers and the environment variables are the ones Lambda provides."""
    runner = make_runner(tracing_active=True, runner_options={"extra_env": {"MY_VAR": "1"}})
    result = runner.invoke({}, client_context={"custom": {"tenant": "acme"}})
    answer = result.response()
    env = answer["env"]
    assert answer["request_id"] == result.request_id
    assert answer["function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:fn"
    assert answer["memory_limit_in_mb"] == "128"
    assert 0 < answer["remaining_ms"] <= 2000
    assert answer["client_context"] == {"tenant": "acme"}
    assert re.match(
        r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$", answer["trace_id"]
    )
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == result.log_stream
    assert {
        k: env.get(k)
        for k in (
            "AWS_LAMBDA_FUNCTION_NAME",
            "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            "AWS_LAMBDA_LOG_GROUP_NAME",
            "AWS_LAMBDA_INITIALIZATION_TYPE",
            "_HANDLER",
            "TZ",
            "AWS_REGION",
            "MY_VAR",
        )
    } == {
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "_HANDLER": "app.handler",
        "TZ": ":UTC",
        "AWS_REGION": "us-east-1",
        "MY_VAR": "1",
    }
    assert env["AWS_EXECUTION_ENV"].startswith("AWS_Lambda_python3.")
    assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    assert Path(env["LAMBDA_TASK_ROOT"]) == runner.spec.code_dir
    xray = report(result.logs).group(0)
    assert "\nXRAY TraceId: " + answer["trace_id"].split(";")[0][len("Root=") :] in xray


def test_a_handler_exception_is_one_error_event_and_keeps_the_environment(
    make_runner: Callable[..., Runner],
):
    """The runtime's [ERROR] line is one event (lines joined by \\r); REPORT has no Status."""
    runner = make_runner()
    result = runner.invoke({"action": "raise"})
    assert result.outcome == "error" and result.error_type == "ValueError"
    assert result.response()["errorMessage"] == "bad input"
    error = only(result.logs, r"^\[ERROR\] ValueError: bad input")
    assert "\rTraceback (most recent call last):\r" in error
    assert "\u00a0\u00a0File " in error  # the runtime indents frames with NO-BREAK SPACEs
    assert report(result.logs)["status"] is None
    assert runner.warm and not runner.invoke({}).cold_start


def test_a_timeout_kills_the_runtime_at_the_deadline(make_runner: Callable[..., Runner]):
    """At the deadline the runtime is SIGKILLed; REPORT says timeout, then 'Task timed out'."""
    runner = make_runner(timeout_s=1.0)
    first = runner.invoke({})
    pid = first.response()["pid"]
    result = runner.invoke({"action": "sleep", "seconds": 30})
    assert result.outcome == "timeout"
    fields = report(result.logs)
    assert (fields["duration"], fields["billed"], fields["status"]) == (
        "1000.00",
        "1000",
        "timeout",
    )
    assert not process_alive(pid)
    lines = messages(result.logs)
    assert re.match(
        rf"^\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z {result.request_id} "
        r"Task timed out after 1\.\d\d seconds\n$",
        lines[-1],
    )
    assert lines.index(f"END RequestId: {result.request_id}\n") < len(lines) - 2
    after = runner.invoke({})
    assert after.cold_start and after.log_stream != first.log_stream
    assert after.response()["pid"] != pid
    assert messages(after.logs)[0].startswith("INIT_START")


def test_the_memory_size_kills_a_hog(make_runner: Callable[..., Runner]):
    """Crossing the memory size kills the runtime: Runtime.OutOfMemory, Max Memory Used = size."""
    if not memory.available():
        pytest.skip("memory is measured from /proc (Linux)")
    runner = make_runner(memory_mb=128, timeout_s=20.0)
    result = runner.invoke({"action": "hog"})
    assert result.outcome == "out_of_memory" and result.error_type == "Runtime.OutOfMemory"
    fields = report(result.logs)
    assert (fields["used"], fields["size"]) == ("128", "128")
    assert (fields["status"], fields["error_type"]) == ("error", "Runtime.OutOfMemory")
    assert float(fields["duration"]) < 20000  # killed, not timed out
    assert messages(result.logs)[-1] == (
        f"RequestId: {result.request_id} Error: Runtime exited with error: signal: killed\n"
        "Runtime.ExitError\n"
    )
    assert runner.invoke({}).cold_start


def test_a_runtime_that_exits_is_a_runtime_exit_error(make_runner: Callable[..., Runner]):
    """A runtime that dies mid-invocation gives Runtime.ExitError with its exit status."""
    result = make_runner().invoke({"action": "exit"})
    assert result.outcome == "crashed"
    assert report(result.logs)["error_type"] == "Runtime.ExitError"
    assert (
        "Error: Runtime exited with error: exit status 3\nRuntime.ExitError\n"
        in messages(result.logs)[-1]
    )


def test_a_failed_init_is_retried_inside_the_invocation(make_runner: Callable[..., Runner]):
    """An import error: INIT_REPORT for phase init, again for phase invoke, then an error REPORT."""
    runner = make_runner("import module_that_does_not_exist\n")
    result = runner.invoke({})
    assert result.outcome == "init_error" and result.error_type == "Runtime.ImportModuleError"
    lines = messages(result.logs)
    kinds = [m.split(" ", 1)[0].split("\t")[0] for m in lines if m[:1].isupper()]
    init_reports = [m for m in lines if m.startswith("INIT_REPORT")]
    assert [re.search(r"Phase: (\w+)", m).group(1) for m in init_reports] == ["init", "invoke"]
    assert all(
        re.match(
            r"^INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: \w+\tStatus: error"
            r"\tError Type: Runtime.ImportModuleError\n$",
            m,
        )
        for m in init_reports
    )
    assert kinds[-3:] == ["START", "END", "REPORT"]
    assert report(result.logs)["status"] == "error"
    assert any("Unable to import module 'app'" in m for m in lines)
    assert not runner.warm


def test_an_init_longer_than_the_init_limit_times_out(make_runner: Callable[..., Runner]):
    """Init is limited (10 s on Lambda); past it INIT_REPORT says timeout, then the invoke does."""
    runner = make_runner(
        "import time\ntime.sleep(30)\n", timeout_s=0.5, runner_options={"init_timeout_s": 0.5}
    )
    result = runner.invoke({})
    assert result.outcome == "timeout"
    assert [m for m in messages(result.logs) if m.startswith("INIT_REPORT")] == [
        m
        for m in messages(result.logs)
        if re.match(
            r"^INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: (init|invoke)"
            r"\tStatus: timeout\n$",
            m,
        )
    ]
    assert report(result.logs)["status"] == "timeout"
    assert "Task timed out after" in messages(result.logs)[-1]


def test_stdout_and_stderr_lines_become_events(make_runner: Callable[..., Runner]):
    """Each printed line is its own event, from stdout and stderr alike, inside START..END."""
    result = make_runner().invoke({"action": "streams"})
    lines = messages(result.logs)
    start = lines.index(f"START RequestId: {result.request_id} Version: $LATEST\n")
    end = lines.index(f"END RequestId: {result.request_id}\n")
    inside = lines[start + 1 : end]
    assert {"first line\n", "second line\n", "to stderr\n"} <= set(inside)
    assert any(
        re.match(rf"^\[WARNING\]\t\S+Z\t{result.request_id}\tfrom logging\n$", m) for m in inside
    )


def test_a_line_longer_than_an_event_is_split(make_runner: Callable[..., Runner]):
    """Like Lambda, a line over 262,119 characters becomes several consecutive events."""
    result = make_runner().invoke({"action": "long", "chars": MAX_EVENT_CHARS + 10})
    pieces = [m for m in messages(result.logs) if m.startswith("x")]
    assert [len(p) for p in pieces] == [MAX_EVENT_CHARS, 11]  # the rest keeps the newline


def test_event_timestamps_never_go_back_within_a_stream(make_runner: Callable[..., Runner]):
    """CloudWatch needs time order within a stream; every event carries stream and group."""
    runner = make_runner()
    logs = runner.invoke({"action": "streams"}).logs + runner.invoke({}).logs
    stamps = [e.timestamp_ms for e in logs]
    assert stamps == sorted(stamps) and all(isinstance(s, int) for s in stamps)
    assert {(e.log_group, e.log_stream) for e in logs} == {("/aws/lambda/fn", logs[0].log_stream)}
    assert abs(stamps[-1] - time.time() * 1000) < 60_000


def test_the_idle_environment_is_frozen_between_invocations(make_runner: Callable[..., Runner]):
    """Between invocations the runtime is stopped (SIGSTOP), as Lambda freezes it."""
    runner = make_runner()
    pid = runner.invoke({}).response()["pid"]

    def state() -> str:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]

    deadline = time.monotonic() + 5  # SIGSTOP takes effect when the process is next scheduled
    while state() != "T" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert state() == "T"
    assert runner.invoke({}).outcome == "success"


def test_close_kills_the_environment(make_runner: Callable[..., Runner]):
    """close() ends the runtime process; the runner is cold afterwards."""
    runner = make_runner()
    pid = runner.invoke({}).response()["pid"]
    runner.close()
    assert not runner.warm
    deadline = time.monotonic() + 5
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not process_alive(pid)


def test_json_format_writes_json_platform_events(make_runner: Callable[..., Runner]):
    """JSON format: platform.initStart/start/report objects, no END, the runtime logs JSON."""
    runner = make_runner(log_format="JSON", application_log_level="INFO", tracing_active=True)
    result = runner.invoke({"action": "streams"})
    platform = [json.loads(m) for m in messages(result.logs) if m.startswith('{"time"')]
    assert [e["type"] for e in platform] == [
        "platform.initStart",
        "platform.start",
        "platform.report",
    ]
    init, start, done = (e["record"] for e in platform)
    assert init["instanceId"] == result.log_stream
    assert init["instanceMaxMemory"] == 128 * 1024 * 1024
    assert init["initializationType"] == "on-demand" and init["functionName"] == "fn"
    assert start["requestId"] == result.request_id and start["version"] == "$LATEST"
    assert start["functionArn"].endswith(":function:fn")
    assert done["status"] == "success"
    assert set(done["metrics"]) == {
        "durationMs",
        "billedDurationMs",
        "memorySizeMB",
        "maxMemoryUsedMB",
        "initDurationMs",
    }
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", e["time"]) for e in platform)
    assert not any(m.startswith("END") for m in messages(result.logs))
    app = [json.loads(m) for m in messages(result.logs) if m.startswith('{"timestamp"')]
    assert [(a["level"], a["message"], a["requestId"]) for a in app] == [
        ("WARNING", "from logging", result.request_id)
    ]


def test_json_format_reports_timeouts_in_platform_report(make_runner: Callable[..., Runner]):
    """In JSON format a timeout is platform.report's status (no text fault line)."""
    result = make_runner(log_format="JSON", timeout_s=0.5).invoke(
        {"action": "sleep", "seconds": 10}
    )
    done = json.loads(messages(result.logs)[-1])
    assert done["type"] == "platform.report"
    assert done["record"]["status"] == "timeout"
    assert done["record"]["metrics"]["durationMs"] == 500.0


def test_system_log_level_debug_adds_runtime_done_events(make_runner: Callable[..., Runner]):
    """platform.initRuntimeDone and platform.runtimeDone are DEBUG-level system logs."""
    result = make_runner(log_format="JSON", system_log_level="DEBUG").invoke({})
    types = [json.loads(m)["type"] for m in messages(result.logs) if m.startswith('{"time"')]
    assert types == [
        "platform.initStart",
        "platform.initRuntimeDone",
        "platform.start",
        "platform.runtimeDone",
        "platform.report",
    ]


@pytest.mark.parametrize("log_format", ["Text", "JSON"])
def test_the_analyzer_parses_what_the_runner_writes(
    make_runner: Callable[..., Runner], log_format: str
):
    """The real Parser reads the runner's lines: starts, reports, timeouts with their numbers."""
    runner = make_runner(log_format=log_format, timeout_s=1.0)
    ok = runner.invoke({})
    timed_out = runner.invoke({"action": "sleep", "seconds": 10})
    parser = Parser()
    events = [e for log in ok.logs + timed_out.logs for e in parser.parse(log)]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
    assert [e["request_id"] for e in by_type["start"]] == [ok.request_id, timed_out.request_id]
    reports = {e["request_id"]: e for e in by_type["report"]}
    assert reports[ok.request_id]["duration_ms"] == pytest.approx(ok.duration_ms, abs=0.01)
    assert reports[ok.request_id]["init_duration_ms"] == pytest.approx(
        ok.init_duration_ms, abs=0.01
    )
    assert reports[ok.request_id]["memory_size_mb"] == 128
    assert reports[timed_out.request_id]["status"] == "timeout"
    assert reports[timed_out.request_id]["duration_ms"] == 1000.0
    if log_format == "Text":
        assert [e["request_id"] for e in by_type["timeout"]] == [timed_out.request_id]
        assert [e["request_id"] for e in by_type["end"]] == [ok.request_id, timed_out.request_id]
