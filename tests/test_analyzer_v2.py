"""The analyzer reads records of schema v1 and v2, and v2's answers survive the missing lines.

In the default mode most calls have no line of their own: per-dependency quantiles then come from
the invocation record's histogram. They must match what ``LAMBDA_TRACE_CALL_LINES=all`` gives for
the same workload (here exactly the same durations, from a scripted clock), within 10 % of the
exact quantiles of the call lines, and the N+1 finding must still be found.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pytest

from lambda_trace import _invocation, trace
from lambda_trace.analyzer.aggregate import QuantileSketch
from lambda_trace.analyzer.cli import main
from lambda_trace.schema import HISTOGRAM_ACCURACY, from_dict
from lambda_trace.testing import FakeContext, capture

#: Dependencies of the workload and the median of their (log-normal) latencies, ms.
DEPENDENCIES = {"dynamodb.GetItem": 6.0, "s3.GetObject": 25.0, "sqs.SendMessage": 12.0}
CALLS = ["dynamodb.GetItem"] * 6 + ["s3.GetObject", "sqs.SendMessage"]
INVOCATIONS = 150


def scripted_durations(seed: int) -> list[list[tuple[str, int]]]:
    """Per invocation, its calls as (name, duration ns): the same for every mode."""
    rng = random.Random(seed)
    return [
        [(name, int(rng.lognormvariate(math.log(DEPENDENCIES[name]), 0.6) * 1e6))
         for name in CALLS]
        for _ in range(INVOCATIONS)
    ]


def run_workload(monkeypatch: pytest.MonkeyPatch, mode: str, plan: list) -> list[str]:
    """Every line the runtime writes for the plan, framed as Lambda's log would be."""
    real = _invocation.perf_counter_ns
    script: list[int] = []
    skew = [0]

    def clock() -> int:
        """begin() reads the clock, end() gets t0 + the scripted time; the clock then stays
        past that end, so calls one after another are sequential, as they would be."""
        if script:
            end = script.pop()
            skew[0] = max(skew[0], end - real())
            return end
        return real() + skew[0]

    monkeypatch.setattr(_invocation, "perf_counter_ns", clock)

    @trace(call_lines=mode, slow_ms=10_000, metrics=False)
    def handler(event: Any, context: Any) -> Any:
        inv = _invocation.current
        assert inv is not None
        for name, duration in event["calls"]:
            token, t0 = inv.begin(name, "aws")
            script.append(t0 + duration)
            inv.end(token, name, "aws", t0, False, "")
        return {"statusCode": 200}

    lines = []
    with capture() as cap:
        for i, calls in enumerate(plan):
            rid = f"5e1f0c2a-0000-4000-8000-{i:012d}"
            cap.clear()
            handler({"calls": calls}, FakeContext(aws_request_id=rid))
            record = cap.invocations[0]
            lines.append(f"START RequestId: {rid} Version: $LATEST")
            lines.extend(cap.lines)
            lines.append(f"END RequestId: {rid}")
            lines.append(f"REPORT RequestId: {rid}\tDuration: {record['duration_ms']:.2f} ms\t"
                         "Billed Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\t")
    return lines


def analyze(lines: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
            name: str) -> dict[str, Any]:
    log = tmp_path / f"{name}.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["analyze", "--no-progress", "--format", "json", str(log)]) == 0
    return dict(json.loads(capsys.readouterr().out))


def exact_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


def test_default_mode_quantiles_match_mode_all(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = scripted_durations(seed=14)
    default_lines = run_workload(monkeypatch, "slow", plan)
    all_lines = run_workload(monkeypatch, "all", plan)
    assert sum('"type":"call"' in line for line in default_lines) == 0
    call_lines = [json.loads(line) for line in all_lines if '"type":"call"' in line]
    assert len(call_lines) == INVOCATIONS * len(CALLS)

    default = {d["name"]: d for d in analyze(default_lines, tmp_path, capsys,
                                             "default")["dependencies"]}
    everything = {d["name"]: d for d in analyze(all_lines, tmp_path, capsys,
                                                "all")["dependencies"]}
    for name in DEPENDENCIES:
        durations = [c["duration_ms"] for c in call_lines if c["name"] == name]
        assert default[name]["calls"] == everything[name]["calls"] == len(durations)
        for key, q in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)):
            exact = exact_quantile(durations, q)
            assert default[name][key] == pytest.approx(exact, rel=0.10), (name, key)
            assert default[name][key] == pytest.approx(everything[name][key], rel=0.02)
        assert default[name]["max_ms"] == pytest.approx(max(durations), abs=0.01)
        assert default[name]["total_ms"] == pytest.approx(sum(durations), rel=1e-4)


def test_the_n_plus_one_finding_survives_the_default_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = run_workload(monkeypatch, "slow", scripted_durations(seed=3)[:5])
    report = analyze(lines, tmp_path, capsys, "n1")
    [finding] = [f for f in report["findings"] if f["kind"] == "n_plus_one"]
    assert finding["subject"] == "dynamodb.GetItem"
    assert finding["evidence"]["max_sequential_calls"] == 6  # measured by the runtime (seq)


# -- v1 and v2 side by side -------------------------------------------------------------------

RID = "8f5e2c7a-4b1d-4c3e-9a2f-1b2c3d4e5f60"
DURATIONS = [4.0, 5.0, 6.0, 7.0, 30.0]


def v1_lines() -> list[str]:
    out = []
    for i, d in enumerate(DURATIONS):
        out.append(json.dumps({
            "lambda_trace": 1, "type": "call", "request_id": RID, "function_name": "fn",
            "timestamp": "2026-11-27T04:43:42.123Z", "name": "dynamodb.GetItem", "kind": "aws",
            "start_ms": 40.0 * i, "duration_ms": d, "status": "ok", "service": "dynamodb",
            "operation": "GetItem"}))
    out.append(json.dumps({
        "lambda_trace": 1, "type": "invocation", "request_id": RID, "function_name": "fn",
        "timestamp": "2026-11-27T04:43:42.323Z", "cold_start": False, "init_type": None,
        "init_ms": None, "duration_ms": 210.0, "self_ms": 158.0, "remaining_ms": 2790.0,
        "memory_limit_mb": 128, "memory_peak_mb": 60.0, "status": "ok", "error_type": None,
        "error_message": None, "error_class": None,
        "calls": {"dynamodb.GetItem": {"count": 5, "total_ms": 52.0, "max_ms": 30.0,
                                       "errors": 0}},
        "dropped_calls": 0, "annotations": {}}))
    return out


def v2_lines() -> list[str]:
    inv = 1.0 / math.log((1 + HISTOGRAM_ACCURACY) / (1 - HISTOGRAM_ACCURACY))
    buckets: dict[int, int] = {}
    for d in DURATIONS:
        key = math.ceil(math.log(d) * inv)
        buckets[key] = buckets.get(key, 0) + 1
    hist = [v for key in sorted(buckets) for v in (key, buckets[key])]
    return [json.dumps({
        "lambda_trace": 2, "type": "invocation", "request_id": RID, "function_name": "fn",
        "service": "orders", "timestamp": "2026-11-27T04:43:42.323Z", "cold_start": False,
        "duration_ms": 210.0, "self_ms": 158.0, "remaining_ms": 2790.0, "memory_limit_mb": 128,
        "memory_peak_mb": 60.0, "status": "ok", "status_code": 200,
        "xray_trace_id": "1-5759e988-bd862e3fe1be46a994272793",
        "calls": {"dynamodb.GetItem": {"k": "aws", "n": 5, "ms": 52.0, "max": 30.0, "seq": 5,
                                       "h": hist}},
        "dropped_calls": 5})]


def framed(records: list[str]) -> list[str]:
    return [f"START RequestId: {RID} Version: $LATEST", *records, f"END RequestId: {RID}",
            f"REPORT RequestId: {RID}\tDuration: 210.00 ms\tBilled Duration: 211 ms\t"
            "Memory Size: 128 MB\tMax Memory Used: 60 MB\t"]


def test_v1_and_v2_records_give_the_same_dependency_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = analyze(framed(v1_lines()), tmp_path, capsys, "v1")
    two = analyze(framed(v2_lines()), tmp_path, capsys, "v2")
    [dep1], [dep2] = one["dependencies"], two["dependencies"]
    for key in ("name", "kind", "calls", "errors", "total_ms", "max_ms", "p50_ms", "p95_ms",
                "p99_ms"):
        assert dep1[key] == dep2[key], key
    assert dep2["p50_ms"] == pytest.approx(6.0, rel=HISTOGRAM_ACCURACY)
    kinds = [[f["kind"] for f in report["findings"]] for report in (one, two)]
    assert "n_plus_one" in kinds[0] and "n_plus_one" in kinds[1]


def test_the_schema_reader_takes_both_summary_layouts() -> None:
    old = from_dict(json.loads(v1_lines()[-1]))
    new = from_dict(json.loads(v2_lines()[0]))
    a, b = old.calls["dynamodb.GetItem"], new.calls["dynamodb.GetItem"]  # type: ignore[union-attr]
    assert (a.count, a.total_ms, a.max_ms, a.errors) == (b.count, b.total_ms, b.max_ms, b.errors)
    assert b.kind == "aws" and b.seq == 5 and sum(b.hist.values()) == 5
    assert new.version == 2 and new.status_code == 200  # type: ignore[union-attr]
    assert new.to_dict()["calls"]["dynamodb.GetItem"]["h"] == json.loads(
        v2_lines()[0])["calls"]["dynamodb.GetItem"]["h"]
    assert old.to_dict()["calls"]["dynamodb.GetItem"]["count"] == 5


def test_a_sketch_merges_a_histogram_exactly() -> None:
    assert QuantileSketch().relative_accuracy == HISTOGRAM_ACCURACY  # the same buckets
    values = [0.8, 3.3, 3.31, 12.0, 250.0, 250.1]
    exact = QuantileSketch()
    exact.add_many(values)
    inv = 1.0 / math.log((1 + HISTOGRAM_ACCURACY) / (1 - HISTOGRAM_ACCURACY))
    buckets = {_invocation.bucket(int(v * 1e6)): 0 for v in values}
    for v in values:
        buckets[_invocation.bucket(int(v * 1e6))] += 1
    assert _invocation.bucket(int(3.3e6)) == math.ceil(math.log(3.3) * inv)
    merged = QuantileSketch()
    merged.add_buckets(buckets, HISTOGRAM_ACCURACY, sum(values), max(values))
    qs = [0.3, 0.5, 0.9, 0.99]
    assert merged.quantiles(qs) == exact.quantiles(qs)
    # The smallest value is known only to its bucket (the record keeps no minimum).
    assert merged.quantile(0) == pytest.approx(0.8, rel=2 * HISTOGRAM_ACCURACY)
    assert merged.count == exact.count and merged.max == exact.max
