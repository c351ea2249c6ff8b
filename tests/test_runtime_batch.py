"""Downstream latencies wait across warm invocations, but never those of a failed one."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest

from lambda_trace import _batch, trace
from lambda_trace.testing import FakeContext, capture

KEY = ("LambdaTrace", "orders", "dynamodb", "GetItem")
OTHER = ("LambdaTrace", "orders", "s3", "GetObject")
MINUTE = 60_000
T0 = 1_796_000_000_000 - 1_796_000_000_000 % MINUTE  # the start of a minute


def test_values_wait_within_a_minute_and_go_out_when_it_changes() -> None:
    batch = _batch.Batch()
    assert batch.add([(KEY, [1.0, 2.0])], T0 + 1_000, defer=True) == []
    assert batch.add([(KEY, [3.0]), (OTHER, [9.0])], T0 + 30_000, defer=True) == []
    assert batch.waiting() == 4
    flushed = batch.add([(KEY, [4.0])], T0 + MINUTE + 5, defer=True)
    # The earlier minute's values, stamped with their own minute; the new value waits.
    assert sorted(flushed) == [(KEY, T0 + 30_000, [1.0, 2.0, 3.0]), (OTHER, T0 + 30_000, [9.0])]
    assert batch.waiting() == 1


def test_a_hundred_values_make_a_document_at_once() -> None:
    batch = _batch.Batch()
    assert batch.add([(KEY, [1.0] * 60)], T0, defer=True) == []
    flushed = batch.add([(KEY, [2.0] * 150)], T0 + 10, defer=True)
    assert [len(values) for _, _, values in flushed] == [100, 100, 10]
    assert batch.waiting() == 0


def test_a_failed_invocation_takes_everything_out_with_its_own() -> None:
    batch = _batch.Batch()
    batch.add([(OTHER, [5.0])], T0, defer=True)
    flushed = batch.add([(KEY, [7.0])], T0 + 20, defer=False)
    assert sorted(flushed) == [(KEY, T0 + 20, [7.0]), (OTHER, T0 + 20, [5.0])]
    assert batch.waiting() == 0


def test_the_batch_keeps_few_operations() -> None:
    batch = _batch.Batch()
    for i in range(_batch.MAX_KEYS):
        batch.add([(("N", "s", "svc", f"Op{i}"), [1.0])], T0, defer=True)
    flushed = batch.add([(("N", "s", "svc", "one-more"), [1.0])], T0, defer=True)
    assert len(flushed) == _batch.MAX_KEYS and batch.waiting() == 1


def test_operations_beyond_the_limit_in_one_invocation_keep_its_timestamp() -> None:
    """The first invocation of a process with more operations than the batch keeps: what it
    flushes mid-way is stamped with that invocation's time (it once went out as epoch 0,
    which CloudWatch drops as older than 14 days)."""
    batch = _batch.Batch()
    keyed = [(("N", "s", "svc", f"Op{i}"), [1.0]) for i in range(_batch.MAX_KEYS + 3)]
    flushed = batch.add(keyed, T0 + 7, defer=True)
    assert len(flushed) == _batch.MAX_KEYS and batch.waiting() == 3
    assert {ts for _, ts, _ in flushed} == {T0 + 7}
    assert {ts for _, ts, _ in batch.take_all()} == {T0 + 7}


def emf_now(cap: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in list(cap.lines) if line.startswith('{"_aws"')]


def test_through_trace_warm_successes_wait_a_failure_does_not(http_server: Any) -> None:
    @trace(slow_ms=10_000)
    def handler(event: Any, context: Any) -> Any:
        urllib.request.urlopen(f"{http_server.url}/x").read()
        if event.get("fail"):
            raise RuntimeError("boom")
        return {"statusCode": 200}

    # Start just after a minute boundary so that no flush by minute comes in between.
    while time.time() % 60 > 50:
        time.sleep(0.5)
    with capture() as cap:
        for _ in range(3):
            handler({}, FakeContext())
        assert not any("DownstreamLatency" in d for d in emf_now(cap))  # all three wait
        with pytest.raises(RuntimeError):
            handler({"fail": True}, FakeContext())
        [doc] = [d for d in emf_now(cap) if "DownstreamLatency" in d]
        assert len(doc["DownstreamLatency"]) == 4  # the three waiting and the failed one's
        assert _batch.batch.waiting() == 0
