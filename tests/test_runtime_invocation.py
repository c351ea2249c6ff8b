"""Per-invocation state: self time, call-line modes, caps, bounded names, worker threads."""

from __future__ import annotations

import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from runtime_support import assert_all_valid

from lambda_trace import _invocation, segment, trace
from lambda_trace.testing import FakeContext, capture


def fetch(url: str) -> None:
    urllib.request.urlopen(url).read()


def union_ms(calls):
    """Total length of the union of the calls' [start, start + duration] intervals."""
    spans = sorted((c["start_ms"], c["start_ms"] + c["duration_ms"]) for c in calls)
    total, end = 0.0, float("-inf")
    for start, stop in spans:
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def test_self_time_is_duration_minus_the_union_of_downstream_calls(http_server):
    """Overlapping calls in two threads count once; self_ms + union == duration."""

    @trace(call_lines="all")
    def handler(event, context):
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(fetch, [f"{http_server.url}/sleep/40"] * 2))
        fetch(f"{http_server.url}/sleep/20")
        with segment("local-work"):
            time.sleep(0.01)

    with capture() as cap:
        handler({}, FakeContext())
    record = cap.invocations[0]
    downstream = [c for c in cap.calls if c["kind"] != "segment"]
    assert len(downstream) == 3
    union = union_ms(downstream)
    assert union < sum(c["duration_ms"] for c in downstream)  # the two threads overlapped
    assert abs(record["self_ms"] + union - record["duration_ms"]) < 0.05
    assert_all_valid(cap)


def test_calls_from_worker_threads_belong_to_the_invocation(http_server):
    @trace(call_lines="all")
    def handler(event, context):
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(fetch, [f"{http_server.url}/x"] * 40))

    with capture() as cap:
        handler({}, FakeContext())
    summary = cap.invocations[0]["calls"]["http GET 127.0.0.1/x"]
    assert summary["n"] == 40 and len(cap.calls) == 40


def test_mode_slow_writes_failed_calls_of_an_ordinary_invocation_only():
    """The default mode: an ordinary invocation writes lines for failed calls alone; the
    summary still counts every call, and no ``detail`` is claimed."""

    @trace(call_lines="slow", slow_ms=1000)
    def handler(event, context):
        with segment("fast"):
            pass
        try:
            with segment("failing"):
                raise ValueError("x")
        except ValueError:
            pass

    with capture() as cap:
        handler({}, FakeContext())
    assert [c["name"] for c in cap.calls] == ["failing"]
    record = cap.invocations[0]
    assert record["dropped_calls"] == 1 and "detail" not in record
    assert set(record["calls"]) == {"fast", "failing"}


def test_mode_none_writes_only_the_summary():
    @trace(call_lines="none")
    def handler(event, context):
        for _ in range(5):
            with segment("step"):
                pass

    with capture() as cap:
        handler({}, FakeContext())
    assert cap.calls == []
    assert cap.invocations[0]["calls"]["step"]["n"] == 5
    assert cap.invocations[0]["dropped_calls"] == 5


def test_call_lines_are_capped_per_invocation_and_the_rest_counted():
    """count in the summary == call lines written + dropped_calls."""

    @trace(max_call_lines=3, call_lines="all")
    def handler(event, context):
        for _ in range(10):
            with segment("step"):
                pass

    with capture() as cap:
        handler({}, FakeContext())
        handler({}, FakeContext())
    assert len(cap.calls) == 6  # the cap is per invocation
    for record in cap.invocations:
        assert record["calls"]["step"]["n"] == 10 and record["dropped_calls"] == 7


def test_distinct_names_are_bounded_and_the_rest_summed():
    @trace(call_lines="none")
    def handler(event, context):
        for i in range(_invocation.MAX_NAMES + 50):
            with segment(f"s{i}"):
                pass

    with capture() as cap:
        handler({}, FakeContext())
    calls = cap.invocations[0]["calls"]
    assert len(calls) == _invocation.MAX_NAMES + 1
    assert calls[_invocation.OTHER]["n"] == 50
    assert sum(c["n"] for c in calls.values()) == _invocation.MAX_NAMES + 50


def test_aggregates_are_exact_under_concurrent_threads():
    @trace(call_lines="none")
    def handler(event, context):
        def work():
            for _ in range(200):
                with segment("tick"):
                    pass

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    with capture() as cap:
        handler({}, FakeContext())
    assert cap.invocations[0]["calls"]["tick"]["n"] == 1600


def test_calls_after_the_invocation_ended_are_not_attributed(http_server):
    """A worker still running when the handler returns does not write into the next summary."""
    release = threading.Event()
    finished = threading.Event()

    def late():
        release.wait(5)
        fetch(f"{http_server.url}/late")
        finished.set()

    @trace
    def handler(event, context):
        threading.Thread(target=late).start()

    with capture() as cap:
        handler({}, FakeContext())
        release.set()
        finished.wait(5)
    assert cap.calls == [] and cap.invocations[0]["calls"] == {}


def test_call_line_offsets_and_lean_keys():
    """A call line is placed by start_ms in its invocation; v2 lines repeat neither the
    function's name nor a timestamp (the log group and the log event carry them)."""

    @trace(call_lines="all")
    def handler(event, context):
        time.sleep(0.005)
        with segment("later"):
            pass

    with capture() as cap:
        handler({}, FakeContext(function_name="orders-fn"))
    [call] = cap.calls
    record = cap.invocations[0]
    assert 0 < call["start_ms"] <= record["duration_ms"]
    assert "timestamp" not in call and "function_name" not in call
    assert call["service"] == record["service"] == "orders-fn"
    assert call["request_id"] == record["request_id"]


def test_cold_start_only_on_the_first_invocation_of_a_process():
    """Run in a fresh interpreter: first invocation cold with init_ms, second warm."""
    from runtime_support import python

    result = python(
        """
        import json
        from lambda_trace import trace
        from lambda_trace.testing import FakeContext, capture

        @trace
        def handler(event, context):
            return None

        with capture() as cap:
            handler({}, FakeContext())
            handler({}, FakeContext())
        for r in cap.invocations:
            print(json.dumps([r["cold_start"], r.get("init_ms") is not None, r.get("init_type")]))
        """,
        env={"AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ['[true, true, "on-demand"]', "[false, false, null]"]


def test_provisioned_concurrency_has_no_init_ms():
    """The environment waited before its first invocation: import-to-invoke is not init time."""
    from runtime_support import python

    result = python(
        """
        from lambda_trace import trace
        from lambda_trace.testing import FakeContext, capture

        @trace
        def handler(event, context):
            return None

        with capture() as cap:
            handler({}, FakeContext())
        r = cap.invocations[0]
        print(r["cold_start"], r.get("init_ms"), r.get("init_type"))
        """,
        env={"AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency"},
    )
    assert result.stdout.split() == ["True", "None", "provisioned-concurrency"]
