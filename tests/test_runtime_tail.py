"""Tail-based call detail (the default mode): every call's line when the invocation matters.

An ordinary invocation writes its record and one EMF document; one that raised, returned a 5xx,
ran over ``slow_ms`` or was warned about also writes a line for every call, in start order.
The timeout and memory cases run in real processes killed with SIGKILL, as Lambda does.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
import urllib.request
from typing import Any

import pytest
from runtime_support import assert_all_valid, spawn

from lambda_trace import segment, trace
from lambda_trace.testing import FakeContext, capture, validate_record


def six_calls(url: str) -> None:
    for i in range(6):
        urllib.request.urlopen(f"{url}/item/{i}").read()


def lines_now(cap: Any) -> list[dict[str, Any]]:
    """What was written so far (before the capture publishes the metric batch at its end)."""
    return [json.loads(line) for line in list(cap.lines)]


def test_an_ordinary_invocation_writes_its_record_and_one_document(http_server: Any) -> None:
    @trace(slow_ms=5000)
    def handler(event: Any, context: Any) -> Any:
        six_calls(http_server.url)
        return {"statusCode": 200, "body": "ok"}

    with capture() as cap:
        handler({}, FakeContext(memory_limit_in_mb="10240"))  # no memory warning (see matters)
        written = lines_now(cap)
    assert [r.get("type", "emf") for r in written] == ["invocation", "emf"]
    record = validate_record(written[0])
    assert record["calls"]["http GET 127.0.0.1/item/{id}"]["n"] == 6
    assert record["dropped_calls"] == 6 and "detail" not in record
    assert record["status_code"] == 200
    assert_all_valid(cap)


def matters(handler: Any, expect: type[BaseException] | None = None) -> tuple[list, dict]:
    # A pytest worker's RSS passes the 128 MB default's warning threshold in a full run: a
    # memory warning would write every call whatever these tests decide.
    context = FakeContext(memory_limit_in_mb="10240")
    with capture() as cap:
        if expect is None:
            handler({}, context)
        else:
            with pytest.raises(expect):
                handler({}, context)
    assert_all_valid(cap)
    [record] = cap.invocations
    return cap.calls, record


def assert_every_call_has_its_line(calls: list, record: dict) -> None:
    http = [c for c in calls if c["kind"] == "http"]
    assert [c["route"] for c in http] == ["/item/{id}"] * 6  # (the ids are not written)
    assert [c["start_ms"] for c in calls] == sorted(c["start_ms"] for c in calls)
    assert len(calls) == sum(s["n"] for s in record["calls"].values())
    assert "dropped_calls" not in record


def test_a_raise_writes_every_call(http_server: Any) -> None:
    @trace(slow_ms=5000)
    def handler(event: Any, context: Any) -> Any:
        six_calls(http_server.url)
        raise KeyError("order")

    calls, record = matters(handler, KeyError)
    assert_every_call_has_its_line(calls, record)
    assert record["status"] == "error" and record["detail"] == "error"


def test_a_5xx_return_writes_every_call(http_server: Any) -> None:
    @trace(slow_ms=5000)
    def handler(event: Any, context: Any) -> Any:
        six_calls(http_server.url)
        return {"statusCode": 503, "body": "try later", "headers": {"x": "y"}}

    calls, record = matters(handler)
    assert_every_call_has_its_line(calls, record)
    assert record["status"] == "ok" and record["status_code"] == 503
    assert record["detail"] == "5xx"
    assert "try later" not in json.dumps(record)  # nothing of the response but its status


def test_a_4xx_return_is_ordinary(http_server: Any) -> None:
    @trace(slow_ms=5000)
    def handler(event: Any, context: Any) -> Any:
        six_calls(http_server.url)
        return {"statusCode": 404}

    calls, record = matters(handler)
    assert calls == [] and record["status_code"] == 404 and "detail" not in record


def test_a_slow_invocation_writes_every_call(http_server: Any) -> None:
    @trace(slow_ms=30)
    def handler(event: Any, context: Any) -> Any:
        six_calls(http_server.url)
        with segment("render"):
            time.sleep(0.04)

    calls, record = matters(handler)
    assert_every_call_has_its_line(calls, record)
    assert calls[-1]["name"] == "render" and record["detail"] == "slow"


def test_a_failed_call_of_an_ordinary_invocation_keeps_its_line(http_server: Any) -> None:
    import urllib.error

    @trace(slow_ms=5000)
    def handler(event: Any, context: Any) -> Any:
        six_calls(http_server.url)
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(f"{http_server.url}/status/503").read()
        return {"statusCode": 200}

    calls, record = matters(handler)
    assert [(c["route"], c["status"]) for c in calls] == [("/status/{id}", "error")]
    assert record["dropped_calls"] == 6 and "detail" not in record


def test_the_buffer_is_bounded_by_max_call_lines() -> None:
    @trace(max_call_lines=10)
    def handler(event: Any, context: Any) -> Any:
        for _ in range(50):
            with segment("step"):
                pass
        raise ValueError("x")

    calls, record = matters(handler, ValueError)
    assert len(calls) == 10 and record["dropped_calls"] == 40
    assert record["calls"]["step"]["n"] == 50


def test_mode_none_never_writes_call_lines() -> None:
    @trace(call_lines="none")
    def handler(event: Any, context: Any) -> Any:
        with segment("step"):
            pass
        raise ValueError("x")

    calls, record = matters(handler, ValueError)
    assert calls == [] and "detail" not in record


# -- warnings: the buffer goes out before a kill ------------------------------------------------


def kill_after(proc: subprocess.Popen, done: Any, limit_s: float = 20) -> list[dict]:
    """Read the child's lines until ``done(lines)``, then SIGKILL it (Lambda's kill)."""
    lines: list[dict] = []
    deadline = time.monotonic() + limit_s
    assert proc.stdout is not None
    try:
        while not done(lines):
            assert time.monotonic() < deadline, lines
            text = proc.stdout.readline()
            assert text, (lines, proc.stderr.read() if proc.stderr else "")
            lines.append(json.loads(text))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    return lines


def names_of_calls(lines: list[dict]) -> list[str]:
    return [r["name"] for r in lines if r.get("type") == "call"]


def test_a_timeout_warning_writes_the_buffer_and_a_kill_loses_nothing() -> None:
    """Three calls finish, the handler hangs: the warning and their lines precede the kill;
    a call ending after the warning is written at its end."""
    proc = spawn(
        """
        import time
        from lambda_trace import trace, segment
        from lambda_trace.testing import FakeContext

        @trace(timeout_margin_ms=700)
        def handler(event, context):
            for name in ("load", "price", "tax"):
                with segment(name):
                    pass
            time.sleep(0.5)  # the warning fires at 300 ms
            with segment("after-warning"):
                pass
            time.sleep(30)

        handler({}, FakeContext(timeout_ms=1000))
        """
    )
    lines = kill_after(proc, lambda got: "after-warning" in names_of_calls(got))
    assert lines[0]["type"] == "timeout_warning"
    assert names_of_calls(lines) == ["load", "price", "tax", "after-warning"]
    for record in lines:
        if "_aws" not in record:
            validate_record(record)
    assert not any(r.get("type") == "invocation" for r in lines)


def test_a_memory_warning_writes_the_buffer_before_an_out_of_memory_kill() -> None:
    proc = spawn(
        """
        import time
        from lambda_trace import trace, segment
        from lambda_trace.testing import FakeContext

        # A 1% warning threshold of 128 MB: the interpreter alone is over it.
        @trace(memory_warning_ratio=0.01, memory_poll_ms=5)
        def handler(event, context):
            for name in ("read", "decode"):
                with segment(name):
                    pass
            time.sleep(30)

        handler({}, FakeContext(memory_limit_in_mb="128", timeout_ms=60000))
        """
    )
    lines = kill_after(proc, lambda got: len(names_of_calls(got)) == 2)
    assert lines[0]["type"] == "memory_warning"
    assert names_of_calls(lines) == ["read", "decode"]


def test_a_warned_invocation_that_ends_says_why() -> None:
    @trace(memory_warning_ratio=0.01, memory_poll_ms=5)
    def handler(event: Any, context: Any) -> Any:
        with segment("before"):
            pass
        time.sleep(0.2)
        with segment("after"):
            pass

    with capture() as cap:
        handler({}, FakeContext(memory_limit_in_mb="128"))
    types = [r["type"] for r in cap.records]
    assert types == ["memory_warning", "call", "call", "invocation"]
    assert [c["name"] for c in cap.calls] == ["before", "after"]
    assert cap.invocations[0]["detail"] == "warning"
    assert_all_valid(cap)
