"""segment(name): times user code as a context manager or a decorator; nests per thread/task."""

from __future__ import annotations

import asyncio
import threading

import pytest
from runtime_support import assert_all_valid

from lambda_trace import segment, trace
from lambda_trace.testing import FakeContext, capture

# These tests read call lines: every call gets one (the default writes them tail-based).
pytestmark = pytest.mark.usefixtures("every_call_line")


def test_context_manager_writes_a_segment_call():
    @trace
    def handler(event, context):
        with segment("load"):
            pass

    with capture() as cap:
        handler({}, FakeContext())
    [call] = cap.calls
    assert (call["name"], call["kind"], call["status"]) == ("load", "segment", "ok")
    assert "parent" not in call
    assert_all_valid(cap)


def test_decorator_times_every_call_of_the_function():
    @segment("parse")
    def parse(text):
        return text.upper()

    @trace
    def handler(event, context):
        return [parse("a"), parse("b")]

    with capture() as cap:
        assert handler({}, FakeContext()) == ["A", "B"]
    assert [c["name"] for c in cap.calls] == ["parse", "parse"]
    assert cap.invocations[0]["calls"]["parse"]["n"] == 2


def test_nested_segments_name_their_parent():
    @trace
    def handler(event, context):
        with segment("outer"), segment("inner"):
            pass

    with capture() as cap:
        handler({}, FakeContext())
    inner, outer = cap.calls
    assert inner["name"] == "inner" and inner["parent"] == "outer"
    assert "parent" not in outer


def test_segments_in_other_threads_do_not_inherit_the_parent():
    """A worker thread starts with no open segment, so its segments have no parent."""

    @trace
    def handler(event, context):
        with segment("main"):
            worker = threading.Thread(
                target=lambda: segment("in-thread").__enter__().__exit__(None, None, None)
            )
            worker.start()
            worker.join()

    with capture() as cap:
        handler({}, FakeContext())
    by_name = {c["name"]: c for c in cap.calls}
    assert "parent" not in by_name["in-thread"]


def test_async_segments_nest_per_task():
    """Concurrent asyncio tasks each see their own enclosing segment."""

    @segment("child")
    async def child():
        await asyncio.sleep(0)

    async def task(name):
        with segment(name):
            await child()

    @trace
    def handler(event, context):
        async def main():
            await asyncio.gather(task("t1"), task("t2"))

        asyncio.run(main())

    with capture() as cap:
        handler({}, FakeContext())
    parents = sorted(c["parent"] for c in cap.calls if c["name"] == "child")
    assert parents == ["t1", "t2"]


def test_exception_marks_the_segment_and_propagates():
    @trace
    def handler(event, context):
        with segment("risky"):
            raise TimeoutError("slow disk")

    with capture() as cap, pytest.raises(TimeoutError):
        handler({}, FakeContext())
    [call] = cap.calls
    assert call["status"] == "error"
    assert call["error_code"] == "TimeoutError"
    assert call["error_class"] == "timeout"
    assert_all_valid(cap)


def test_outside_an_invocation_a_segment_does_nothing():
    with capture() as cap, segment("idle"):
        value = 1
    assert value == 1 and cap.lines == []


def test_segments_are_not_downstream_time():
    """self_ms counts segment time as the function's own time."""

    @trace
    def handler(event, context):
        with segment("compute"):
            sum(range(10000))

    with capture() as cap:
        handler({}, FakeContext())
    record = cap.invocations[0]
    assert record["self_ms"] == record["duration_ms"]
