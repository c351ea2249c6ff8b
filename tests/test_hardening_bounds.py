"""Every line fits CloudWatch's 256 KB event limit; EMF documents split at 100 metrics/values."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from emf_validation import assert_valid_emf
from runtime_support import assert_all_valid

from lambda_trace import _invocation, annotate, metric, segment, trace
from lambda_trace._contract import MAX_LINE_BYTES
from lambda_trace.testing import FakeContext, capture

# These tests read call lines: every call gets one (the default writes them tail-based).
pytestmark = pytest.mark.usefixtures("every_call_line")


def big_context(**kw: Any) -> FakeContext:
    return FakeContext(memory_limit_in_mb="10240", **kw)


def assert_lines_bounded(lines: list[str]) -> None:
    for line in lines:
        assert len(line.encode()) + 1 <= MAX_LINE_BYTES, len(line.encode())


@pytest.mark.parametrize("ascii_only", [True, False], ids=["ascii", "multibyte"])
def test_a_ten_megabyte_error_message(ascii_only: bool) -> None:
    """A 10 MB exception message is cut; the exception itself keeps it whole."""
    text = ("x" if ascii_only else "é\U0001f600") * (10 * 1024 * 1024 // (1 if ascii_only else 2))

    @trace
    def handler(event: Any, context: Any) -> Any:
        with segment("huge"):
            raise ValueError(text)

    with capture() as cap, pytest.raises(ValueError) as info:
        handler({}, big_context())
    assert info.value.args[0] is text
    assert_lines_bounded(cap.lines)
    [record] = cap.invocations
    assert record["error_type"] == "ValueError" and len(record["error_message"]) <= 300
    assert_all_valid(cap)


def test_a_huge_exception_type_name_and_annotations() -> None:
    """Pathological sizes everywhere at once still give one bounded, valid invocation line."""
    huge_type = type("E" * 400_000, (Exception,), {})

    @trace
    def handler(event: Any, context: Any) -> Any:
        annotate(**{f"k{i}{'k' * 300}": "v" * 10_000 for i in range(60)})
        raise huge_type("m" * 1_000_000)

    with capture() as cap, pytest.raises(huge_type):
        handler({}, big_context())
    assert_lines_bounded(cap.lines)
    [record] = cap.invocations
    assert record["status"] == "error"
    assert_all_valid(cap)


def test_thousands_of_calls_are_aggregated_with_dropped_calls_counted() -> None:
    """5,000 calls: 1,000 lines (the cap), the rest counted; the summary has every call."""

    @trace
    def handler(event: Any, context: Any) -> Any:
        for i in range(5000):
            with segment(f"step-{i % 7}"):
                pass
        return "ok"

    with capture() as cap:
        handler({}, big_context())
    [record] = cap.invocations
    assert len(cap.calls) == 1000
    assert record["dropped_calls"] == 4000
    assert sum(s["n"] for s in record["calls"].values()) == 5000
    assert_lines_bounded(cap.lines)
    assert_all_valid(cap)


def test_thousands_of_distinct_call_names_do_not_blow_the_summary() -> None:
    """3,000 distinct 200-character names: 200 kept, the rest summed under "(other)"."""

    @trace(call_lines="none")
    def handler(event: Any, context: Any) -> Any:
        for i in range(3000):
            with segment(f"{i:06d}" + "n" * 194):
                pass

    with capture() as cap:
        handler({}, big_context())
    [record] = cap.invocations
    calls = record["calls"]
    assert len(calls) == _invocation.MAX_NAMES + 1
    assert calls[_invocation.OTHER]["n"] == 3000 - _invocation.MAX_NAMES
    assert sum(s["n"] for s in calls.values()) == 3000 == record["dropped_calls"]
    assert_lines_bounded(cap.lines)
    assert_all_valid(cap)


def test_thousands_of_distinct_http_hosts(http_server: Any) -> None:
    """Calls to 1,000 hosts (refused at once) keep the summary, EMF and warnings bounded."""
    import http.client

    @trace(call_lines="none", timeout_margin_ms=0.0)
    def handler(event: Any, context: Any) -> Any:
        for i in range(1000):
            conn = http.client.HTTPConnection(f"127.1.{i // 250}.{i % 250 + 1}", 9, timeout=1)
            with contextlib.suppress(OSError):  # refused at once: nothing listens on port 9
                conn.request("GET", "/")

    with capture() as cap:
        handler({}, big_context())
    [record] = cap.invocations
    assert sum(s["n"] for s in record["calls"].values()) == 1000
    assert len(record["calls"]) <= _invocation.MAX_NAMES + 1
    assert_lines_bounded(cap.lines)
    for doc in cap.emf:
        assert_valid_emf(doc)
    assert_all_valid(cap)


def test_a_timeout_warning_with_many_calls_in_flight_is_bounded(http_server: Any) -> None:
    """A timeout warning written while 60 threads wait names at most 50 of them, in one line.

    The warning fires 500 ms in and the calls take 1.5 s: on a loaded machine, starting 60
    threads can take longer than the 100 ms an earlier version allowed (none in flight yet).
    """
    import threading
    import urllib.request

    started = threading.Barrier(61)

    def slow(i: int) -> None:
        started.wait()
        urllib.request.urlopen(f"{http_server.url}/sleep/1500?i={i}").read()

    @trace(timeout_margin_ms=2500)
    def handler(event: Any, context: Any) -> Any:
        threads = [threading.Thread(target=slow, args=(i,)) for i in range(60)]
        for t in threads:
            t.start()
        started.wait()
        for t in threads:
            t.join()

    with capture() as cap:
        handler({}, big_context(timeout_ms=3000))
    [warning] = cap.of_type("timeout_warning")
    assert 0 < len(warning["in_flight"]) <= 50
    assert_lines_bounded(cap.lines)
    assert_all_valid(cap)


def _emf_values(docs: list[dict[str, Any]], name: str) -> list[float]:
    out: list[float] = []
    for doc in docs:
        if name in doc:
            value = doc[name]
            out.extend(value if isinstance(value, list) else [value])
    return out


def test_emf_documents_split_at_100_metrics() -> None:
    """250 distinct metric names: every document has at most 100, each value appears once."""

    @trace
    def handler(event: Any, context: Any) -> Any:
        for i in range(250):
            metric(f"M{i:03d}", i)

    with capture() as cap:
        handler({}, big_context())
    docs = cap.emf
    for doc in docs:
        assert_valid_emf(doc)
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            assert len(directive["Metrics"]) <= 100
    for i in range(250):
        assert _emf_values(docs, f"M{i:03d}") == [float(i)]


def test_emf_documents_split_at_100_values() -> None:
    """One metric with 250 values: runs of at most 100 per document, all values kept in order."""

    @trace
    def handler(event: Any, context: Any) -> Any:
        for i in range(250):
            metric("Latency", i, "Milliseconds")

    with capture() as cap:
        handler({}, big_context())
    docs = cap.emf
    for doc in docs:
        assert_valid_emf(doc)
        value = doc.get("Latency")
        if isinstance(value, list):
            assert len(value) <= 100
    assert _emf_values(docs, "Latency") == [float(i) for i in range(250)]


def test_downstream_latencies_are_capped_at_100_values(http_server: Any) -> None:
    """150 calls to one host: each DownstreamLatency document holds at most 100 values, and
    their sample count is every call (the batch splits them)."""
    import http.client

    @trace(call_lines="none")
    def handler(event: Any, context: Any) -> Any:
        for _ in range(150):
            conn = http.client.HTTPConnection("127.0.0.1", http_server.port, timeout=5)
            conn.request("GET", "/x")
            conn.getresponse().read()
            conn.close()

    with capture() as cap:
        handler({}, big_context())
    docs = [d for d in cap.emf if "DownstreamLatency" in d]
    assert sorted(len(d["DownstreamLatency"]) for d in docs) == [50, 100]
    for d in cap.emf:
        assert_valid_emf(d)


def test_long_metric_names_and_many_values_keep_documents_under_256_kb() -> None:
    """255-character names x 100 metrics x 100 values would exceed 256 KB: split further."""

    @trace
    def handler(event: Any, context: Any) -> Any:
        for i in range(100):
            name = f"{i:03d}" + "m" * 252
            for v in range(100):
                metric(name, (v + 1) * 1.2345678901234567e-300)

    with capture() as cap:
        handler({}, big_context())
    assert_lines_bounded(cap.lines)
    assert len(cap.emf) >= 3  # the invocation document and at least two for the user's metrics
    total = 0
    for line in cap.lines:
        doc = json.loads(line)
        if "_aws" in doc:
            assert_valid_emf(line)
            total += sum(
                len(v) for k, v in doc.items() if k.endswith("m" * 200) and isinstance(v, list)
            )
    assert total == 100 * 100
