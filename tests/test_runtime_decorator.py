"""@trace: transparent for results and exceptions, bare or with options, off by a kill switch."""

from __future__ import annotations

import asyncio
import sys
import traceback
import urllib.request

import pytest
from runtime_support import assert_all_valid, python

from lambda_trace import _config, segment, trace
from lambda_trace._decorator import SETTINGS_ATTR
from lambda_trace.testing import FakeContext, capture


def test_return_value_is_the_very_same_object():
    sentinel = {"statusCode": 200}

    @trace
    def handler(event, context):
        return sentinel

    with capture() as cap:
        assert handler({}, FakeContext()) is sentinel
    [record] = cap.invocations
    assert record["status"] == "ok"
    assert_all_valid(cap)


def test_exception_is_the_same_object_with_its_traceback_and_cause():
    """The handler's exception propagates untouched and the invocation record is still written."""
    raised = []

    def failing_helper():
        raise KeyError("order-7")

    @trace
    def handler(event, context):
        try:
            failing_helper()
        except KeyError as cause:
            exc = RuntimeError("could not process")
            raised.append(exc)
            raise exc from cause

    with capture() as cap, pytest.raises(RuntimeError) as info:
        handler({}, FakeContext())
    assert info.value is raised[0]
    assert isinstance(info.value.__cause__, KeyError)
    innermost = traceback.extract_tb(info.value.__traceback__)[-1]
    assert innermost.name == "handler" and "raise exc from cause" in innermost.line
    [record] = cap.invocations
    assert record["status"] == "error"
    assert record["error_type"] == "RuntimeError"
    assert record["error_message"] == "could not process"
    assert_all_valid(cap)


def test_base_exceptions_are_recorded_and_propagate():
    @trace
    def handler(event, context):
        raise SystemExit(3)

    with capture() as cap, pytest.raises(SystemExit):
        handler({}, FakeContext())
    assert cap.invocations[0]["error_type"] == "SystemExit"


def test_decorator_with_options_and_settings_attached():
    @trace(call_lines="none", namespace="Shop")
    def handler(event, context):
        with segment("work"):
            pass
        return 1

    settings = getattr(handler, SETTINGS_ATTR)
    assert (settings.call_lines, settings.namespace) == ("none", "Shop")
    with capture() as cap:
        assert handler({}, FakeContext()) == 1
    assert cap.calls == []
    assert cap.invocations[0]["calls"]["work"]["n"] == 1
    assert cap.emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Shop"


def test_functools_metadata_is_kept():
    @trace
    def handler(event, context):
        """Docstring."""

    assert handler.__name__ == "handler" and handler.__doc__ == "Docstring."
    assert handler.__wrapped__ is not None


def test_kill_switch_option_returns_the_function_itself():
    def handler(event, context):
        return 1

    assert trace(enabled=False)(handler) is handler


def test_kill_switch_environment_returns_the_function_itself(monkeypatch):
    monkeypatch.setenv("LAMBDA_TRACE_DISABLED", "1")

    def handler(event, context):
        return 1

    assert trace(handler) is handler


def test_kill_switch_installs_no_patches_and_starts_no_threads():
    """Disabled: no _patches import, no wrapper on http.client, no watchdog thread, no output."""
    result = python(
        """
        import http.client, sys, threading
        from lambda_trace import trace
        from lambda_trace.testing import FakeContext

        @trace
        def handler(event, context):
            return "done"

        print(handler({}, FakeContext()))
        print("patches" if "lambda_trace._patches" in sys.modules else "no-patches")
        print(type(http.client.HTTPConnection.getresponse).__name__)
        print(threading.active_count())
        """,
        env={"LAMBDA_TRACE_DISABLED": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["done", "no-patches", "function", "1"]


def test_records_are_written_to_stdout_by_default():
    """Without capture, each record is one line on stdout (fd 1) and stderr stays empty."""
    result = python(
        """
        from lambda_trace import trace
        from lambda_trace.testing import FakeContext

        @trace(metrics=False)
        def handler(event, context):
            return 1

        handler({}, FakeContext())
        """
    )
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and '"type":"invocation"' in lines[0]


def test_asyncio_run_inside_the_handler_is_traced(http_server):
    """Calls made inside asyncio.run (also from its executor threads) belong to the invocation."""

    async def fetch_both():
        loop = asyncio.get_running_loop()
        with segment("gather"):
            await asyncio.gather(
                loop.run_in_executor(None, urllib.request.urlopen, f"{http_server.url}/a"),
                loop.run_in_executor(None, urllib.request.urlopen, f"{http_server.url}/b"),
            )
        return "ok"

    @trace
    def handler(event, context):
        return asyncio.run(fetch_both())

    with capture() as cap:
        assert handler({}, FakeContext()) == "ok"
    calls = cap.invocations[0]["calls"]
    assert calls["http GET 127.0.0.1/a"]["n"] == calls["http GET 127.0.0.1/b"]["n"] == 1
    assert calls["gather"]["n"] == 1
    assert_all_valid(cap)


def test_async_handler_is_awaited_and_traced():
    @trace
    async def handler(event, context):
        with segment("step"):
            await asyncio.sleep(0)
        return "async-result"

    with capture() as cap:
        assert asyncio.run(handler({}, FakeContext())) == "async-result"
    [record] = cap.invocations
    assert record["calls"]["step"]["n"] == 1


def test_nested_traced_call_is_not_a_second_invocation():
    @trace
    def inner(event, context):
        return 2

    @trace
    def outer(event, context):
        return inner(event, context) + 1

    with capture() as cap:
        assert outer({}, FakeContext()) == 3
    assert len(cap.invocations) == 1


def test_handler_called_without_a_context_still_works():
    @trace
    def handler(event, context=None):
        return "no-context"

    with capture() as cap:
        assert handler({}) == "no-context"
    [record] = cap.invocations
    assert record["request_id"] is None and record["memory_limit_mb"] is None
    assert_all_valid(cap)


def test_a_failing_sink_never_reaches_the_handler(capsys):
    """An internal failure is swallowed and reported once on stderr; the result is intact."""
    _config._warned.clear()

    def broken_sink(line: str) -> None:
        raise OSError("stdout closed")

    @trace(sink=broken_sink)
    def handler(event, context):
        with segment("a"):
            pass
        with segment("b"):
            pass
        return 42

    assert handler({}, FakeContext()) == 42
    assert handler({}, FakeContext()) == 42
    err = capsys.readouterr().err
    # one per kind of failure: call lines, summary and EMF all hit the same broken sink
    assert err.count("lambda-trace: internal error") == 1
    assert "stdout closed" in err


def test_request_and_function_name_come_from_the_context():
    ctx = FakeContext(function_name="orders", memory_limit_in_mb="512")

    @trace
    def handler(event, context):
        return None

    with capture() as cap:
        handler({}, ctx)
    [record] = cap.invocations
    assert record["request_id"] == ctx.aws_request_id
    assert record["function_name"] == "orders"
    assert record["memory_limit_mb"] == 512


@pytest.mark.skipif(sys.platform != "linux", reason="peak RSS from /proc")
def test_peak_memory_is_per_invocation():
    """A big allocation in one invocation does not raise the next invocation's peak."""

    @trace
    def handler(event, context):
        if event["big"]:
            block = bytearray(200 * 1024 * 1024)
            block[::4096] = b"x" * len(block[::4096])
        return None

    with capture() as cap:
        handler({"big": True}, FakeContext(memory_limit_in_mb="2048"))
        handler({"big": False}, FakeContext(memory_limit_in_mb="2048"))
    big, small = cap.invocations
    assert big["memory_peak_mb"] - small["memory_peak_mb"] > 150


def test_a_method_handler_finds_its_context():
    """``(self, event, context)`` handlers get their request id from the right argument."""

    class Service:
        @trace
        def handle(self, event, context):
            return "method"

    ctx = FakeContext(aws_request_id="req-method")
    with capture() as cap:
        assert Service().handle({}, ctx) == "method"
    assert cap.invocations[0]["request_id"] == "req-method"
