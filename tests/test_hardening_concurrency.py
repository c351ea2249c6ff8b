"""Threads inside one invocation, and many warm invocations in a process, lose and leak nothing."""

from __future__ import annotations

import contextlib
import gc
import http.client
import os
import threading
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from runtime_support import assert_all_valid

from lambda_trace import _emf, _invocation, metric, segment, trace
from lambda_trace._patches import aws_sdk, http_clients
from lambda_trace.testing import FakeContext, capture

# These tests read call lines: every call gets one (the default writes them tail-based).
pytestmark = pytest.mark.usefixtures("every_call_line")

THREADS = 16


def big_context() -> FakeContext:
    return FakeContext(memory_limit_in_mb="10240", timeout_ms=60_000)


def test_sixteen_threads_of_http_calls_are_all_attributed(http_server: Any) -> None:
    """16 threads x 20 calls: each call has exactly one line, counts are exact, none in flight."""
    import urllib3

    per_thread = 20
    pool = urllib3.PoolManager(maxsize=THREADS)
    barrier = threading.Barrier(THREADS)
    snapshot: dict[str, Any] = {}

    def worker(t: int) -> list[int]:
        barrier.wait()  # all threads start together, to overlap as much as possible
        return [
            pool.request("GET", f"{http_server.url}/t{t}/c{c}").status for c in range(per_thread)
        ]

    @trace(max_call_lines=10_000)
    def handler(event: Any, context: Any) -> Any:
        inv = _invocation.current
        with ThreadPoolExecutor(THREADS) as ex:
            statuses = [s for batch in ex.map(worker, range(THREADS)) for s in batch]
        snapshot["in_flight"] = dict(inv.in_flight)
        snapshot["active"] = inv._active
        return statuses

    with capture() as cap:
        statuses = handler({}, big_context())
    assert statuses == [200] * THREADS * per_thread
    # /t{t}/c{c}: one route, so one name; as many calls as requests served, none lost or twice
    assert {c["route"] for c in cap.calls} == {"/{id}/{id}"}
    assert len(cap.calls) == len(http_server.requests) == THREADS * per_thread
    [record] = cap.invocations
    assert record["calls"]["http GET 127.0.0.1/{id}/{id}"]["n"] == THREADS * per_thread
    assert record.get("dropped_calls", 0) == 0
    assert snapshot == {"in_flight": {}, "active": 0}
    assert 0 <= record["self_ms"] <= record["duration_ms"]
    assert_all_valid(cap)


def test_sixteen_threads_of_aws_calls_and_segments(moto: Any) -> None:
    """botocore calls and segments from 16 threads: exact counts per name, no HTTP double count."""
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="concurrency")
    per_thread = 5

    def worker(t: int) -> None:
        for c in range(per_thread):
            with segment(f"thread-{t}"):
                s3.put_object(Bucket="concurrency", Key=f"{t}/{c}", Body=b"x")

    @trace(max_call_lines=10_000)
    def handler(event: Any, context: Any) -> Any:
        with ThreadPoolExecutor(THREADS) as ex:
            list(ex.map(worker, range(THREADS)))
        return len(s3.list_objects_v2(Bucket="concurrency")["Contents"])

    with capture() as cap:
        assert handler({}, big_context()) == THREADS * per_thread
    [record] = cap.invocations
    calls = record["calls"]
    assert calls["s3.PutObject"]["n"] == THREADS * per_thread
    assert calls["s3.ListObjectsV2"]["n"] == 1
    assert all(calls[f"thread-{t}"]["n"] == per_thread for t in range(THREADS))
    assert not any(name.startswith("http ") for name in calls)
    assert sum(s["n"] for s in calls.values()) == len(cap.calls)
    assert_all_valid(cap)


def _bounded_caches() -> list[tuple[dict[Any, Any], int]]:
    """lambda_trace's per-process caches of per-name text, each with its size bound."""
    caches = [
        (http_clients._names, http_clients.MAX_CACHED_NAMES),
        (aws_sdk._names, aws_sdk.MAX_CACHED_NAMES),
        (_emf._directives, _emf._MAX_CACHED),
    ]
    templates = getattr(_emf, "_templates", None)  # EMF document templates, where present
    if templates is not None:
        caches.append((templates, _emf._MAX_CACHED))
    return caches


def _ours(snapshot: tracemalloc.Snapshot) -> int:
    """Bytes still allocated at lines of lambda_trace's own code."""
    mine = snapshot.filter_traces([tracemalloc.Filter(True, "*/lambda_trace/*")])
    return sum(stat.size for stat in mine.statistics("filename"))


def _rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def test_a_thousand_warm_invocations_leak_neither_calls_nor_memory(http_server: Any) -> None:
    """Each invocation record holds only its own calls; memory at 1000 is as at 100.

    Every invocation also talks to a host never seen before (127.0.x.y, refused at once), so any
    per-name cache that grew without bound would show.
    """

    @trace
    def handler(event: Any, context: Any) -> Any:
        n = event["n"]
        with segment("work"):
            conn = http.client.HTTPConnection("127.0.0.1", http_server.port, timeout=5)
            conn.request("GET", f"/inv/{n}")
            conn.getresponse().read()
            conn.close()
        refused = http.client.HTTPConnection(f"127.0.{n // 250}.{n % 250 + 1}", 9, timeout=1)
        with contextlib.suppress(OSError):
            refused.request("GET", "/")
        metric("Handled", 1)
        return n

    traced_at: dict[int, int] = {}
    ours_at: dict[int, int] = {}
    rss_at: dict[int, int] = {}
    tracemalloc.start()
    try:
        with capture() as cap:
            for n in range(1, 1001):
                assert handler({"n": n}, big_context()) == n
                records = cap.records
                [record] = [r for r in records if r["type"] == "invocation"]
                calls = [r for r in records if r["type"] == "call"]
                name = "http GET 127.0.0.1/inv/{id}"
                assert [c["route"] for c in calls if c["name"] == name] == ["/inv/{id}"]
                assert record["calls"][name]["n"] == 1
                assert record["calls"]["work"]["n"] == 1
                assert sum(s["n"] for s in record["calls"].values()) == 3
                assert {r["request_id"] for r in records} == {record["request_id"]}
                # The invocation's document and its failed call by error class; latencies
                # wait in the batch (published per minute or per 100 values).
                assert sum("Duration" in d for d in cap.emf) == 1
                assert [d["ErrorClass"] for d in cap.emf if "DownstreamErrors" in d] == [
                    "network"
                ]
                assert all("Duration" in d or "DownstreamErrors" in d
                           or "DownstreamLatency" in d for d in cap.emf)
                cap.clear()
                http_server.requests.clear()  # the fixture's own log of requests
                for cache, bound in _bounded_caches():
                    assert len(cache) <= bound
                if n in (100, 1000):
                    # The caches are bounded (asserted above); empty them so what remains
                    # allocated by lambda_trace is what the invocations left behind.
                    for cache, _ in _bounded_caches():
                        cache.clear()
                    gc.collect()
                    traced_at[n] = tracemalloc.get_traced_memory()[0]
                    ours_at[n] = _ours(tracemalloc.take_snapshot())
                    rss_at[n] = _rss_kb()
    finally:
        tracemalloc.stop()
    ours = ours_at[1000] - ours_at[100]
    # 900 invocations: one leaked object per invocation or per host (~100 B) would be ~90 KB.
    assert ours < 32 * 1024, f"memory allocated by lambda_trace grew by {ours} bytes"
    growth = traced_at[1000] - traced_at[100]
    assert growth < 200 * 1024, f"python heap grew by {growth} bytes"
    assert rss_at[1000] - rss_at[100] < 8 * 1024, rss_at
