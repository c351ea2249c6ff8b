"""Finders for where time goes: slow dependencies, N+1 call patterns, throttling, retries and
cold starts."""

from __future__ import annotations

from typing import Optional

from lambda_trace.analyzer.aggregate import Aggregator
from lambda_trace.analyzer.findings.baseline import Baseline
from lambda_trace.analyzer.findings.model import (
    Finding,
    Thresholds,
    by_total,
    ratio,
    round_to,
)

#: Per-item operations and the batch (or bulk) operation to use instead, for N+1 advice.
BATCH_OPERATIONS = {
    "GetItem": "BatchGetItem, or one Query on a shared key",
    "PutItem": "BatchWriteItem",
    "DeleteItem": "BatchWriteItem",
    "UpdateItem": "TransactWriteItems or fewer, coarser updates",
    "SendMessage": "SendMessageBatch (up to 10 messages per call)",
    "DeleteMessage": "DeleteMessageBatch",
    "Publish": "PublishBatch (up to 10 messages per call)",
    "PutRecord": "PutRecords",
    "PutEvents": "one PutEvents call with up to 10 entries",
    "GetParameter": "GetParameters or GetParametersByPath, and caching",
    "GetSecretValue": "BatchGetSecretValue, and caching outside the handler",
    "GetObject": "concurrent requests (a thread pool) or fewer, larger objects",
    "HeadObject": "one ListObjectsV2 call",
    "PutObject": "concurrent uploads (a thread pool)",
    "Invoke": "one invocation with a batch payload, or asynchronous fan-out",
}


#: db call names start with their system (``postgresql SELECT orders``): the batched form.
DB_BATCH = {
    "postgresql": "one query for all the items (WHERE id = ANY(%s), IN (...) or a JOIN)",
    "mysql": "one query for all the items (WHERE id IN (...) or a JOIN)",
    "sqlite": "one query for all the items (WHERE id IN (...) or a JOIN)",
    "redis": "MGET/HMGET, or one pipeline for all the commands",
}


def batch_advice(name: str) -> str:
    """How to batch the calls of ``name``, by AWS operation or database system."""
    system = name.split(" ", 1)[0]
    if system in DB_BATCH and " " in name:
        return DB_BATCH[system]
    operation = name.replace(" ", ".").split(".")[-1]
    return BATCH_OPERATIONS.get(operation, "one batched request, or concurrent requests")


def slow_dependency(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    if not agg.dependencies or not agg.duration_total_ms:
        return []
    # A dependency whose every call failed is reported by its failure (permission_denied,
    # dependency_error, retries...), not as where the time goes.
    working = [d for d in agg.dependencies.values() if d.errors < d.calls]
    if not working:
        return []
    dep = max(working, key=lambda d: d.total_ms)
    if not dep.total_ms:
        return []
    share = dep.total_ms / agg.duration_total_ms
    per_invocation = dep.total_ms / agg.invocations if agg.invocations else dep.total_ms
    p50, p95, p99 = dep.sketch.quantiles([0.5, 0.95, 0.99])
    evidence = {
        "name": dep.name,
        "kind": dep.kind or None,
        "share": round_to(share, 4),
        "calls": dep.calls,
        "calls_per_invocation": round_to(ratio(dep.calls, dep.invocations)),
        "total_ms": round_to(dep.total_ms),
        "p50_ms": round_to(p50),
        "p95_ms": round_to(p95),
        "p99_ms": round_to(p99),
        "max_ms": round_to(dep.max_ms),
        "errors": dep.errors,
        "ms_per_invocation": round_to(per_invocation),
    }
    severity = "high" if share >= 0.5 else "medium" if share >= 0.2 else "low"
    if severity == "high" and per_invocation < t.slow_high_ms_per_invocation:
        severity = "medium"
    if severity == "medium" and per_invocation < t.slow_medium_ms_per_invocation:
        severity = "low"
    pct = round(share * 100, 1)
    if dep.kind == "segment":
        advice = (
            f"The code section {dep.name} takes {pct}% of invocation time. Profile it (or wrap its "
            "parts in segments) and make it cheaper, cache its result between invocations, or "
            "move it out of the request path."
        )
    elif dep.kind == "db":
        advice = (
            f"{dep.name} takes {pct}% of invocation time (p95 {round_to(p95)} ms). Check the "
            "statement's plan (EXPLAIN ANALYZE) and indexes, fetch fewer rows, cache results "
            "between invocations, and connect once outside the handler (or through RDS Proxy) "
            "rather than per invocation."
        )
    else:
        advice = (
            f"{dep.name} takes {pct}% of invocation time (p95 {round_to(p95)} ms). Create clients "
            "once outside the handler and keep connections alive, batch or cache repeated "
            "reads, run independent calls concurrently, and keep the function in the same "
            "region as the resource."
        )
    return [Finding("slow_dependency", severity, dep.name, evidence, advice)]


def n_plus_one(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    found = []
    for entry in sorted(agg.n_plus_one.values(), key=lambda e: -e.total_ms):
        batch = batch_advice(entry.name)
        evidence = {
            "name": entry.name,
            "invocations": entry.invocations,
            "share_of_invocations": round_to(ratio(entry.invocations, agg.invocations), 4),
            "max_sequential_calls": entry.max_sequential,
            "max_calls": entry.max_calls,
            "total_ms": round_to(entry.total_ms),
            "example_request_id": entry.example_request_id,
            "source": "call records" if entry.from_records else "call counts",
        }
        how = "one after another" if entry.from_records else "(by count; order unknown)"
        advice = (
            f"Invocations call {entry.name} up to {entry.max_sequential} times {how}: the N+1 "
            f"pattern, paying one round trip per item. Use {batch}."
        )
        severity = "medium" if entry.max_sequential >= 2 * agg.n_plus_one_min_calls else "low"
        found.append(Finding("n_plus_one", severity, entry.name, evidence, advice))
    return found


def throttling(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    found = []
    for dep in by_total(agg.dependencies.values()):
        if not dep.throttled:
            continue
        rate = ratio(dep.throttled, dep.calls)
        evidence = {"name": dep.name, "throttled_calls": dep.throttled, "calls": dep.calls,
                    "rate": round_to(rate, 4), "retries": dep.retries}
        advice = (
            f"{dep.name} throttled {dep.throttled} calls. Retry with exponential backoff and "
            "jitter (botocore retry mode \"adaptive\" or \"standard\"), spread or batch the "
            "requests, cap the function's concurrency (reserved concurrency, event source "
            "batch size), or raise the dependency's limit (a quota increase, or on-demand / more "
            "capacity for DynamoDB)."
        )
        severity = "high" if rate is not None and rate >= 0.05 else "medium"
        found.append(Finding("throttling", severity, dep.name, evidence, advice))
    return found


def retries(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    found = []
    for dep in by_total(agg.dependencies.values()):
        if not dep.calls_retried:
            continue
        evidence = {"name": dep.name, "calls_retried": dep.calls_retried,
                    "retries": dep.retries, "calls": dep.calls,
                    "rate": round_to(ratio(dep.calls_retried, dep.calls), 4),
                    "error_classes": dict(sorted(dep.error_classes.items()))}
        advice = (
            f"{dep.calls_retried} calls to {dep.name} needed {dep.retries} retries in all: each "
            "retry adds a round trip and backoff to the invocation. Find the cause in the "
            "error classes (throttling, 5xx, network), and bound retries with max_attempts and a "
            "read timeout so that they fit in the function timeout."
        )
        found.append(Finding("retries", "low", dep.name, evidence, advice))
    return found


def cold_start(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    if not agg.cold_starts:
        return []
    share = ratio(agg.cold_starts, agg.invocations) or 0.0
    p50, p95 = agg.init_duration.quantiles([0.5, 0.95])
    billed_share = ratio(agg.init_billed_ms, agg.billed_total_ms) if agg.billed_total_ms else None
    evidence = {
        "cold_starts": agg.cold_starts,
        "invocations": agg.invocations,
        "share": round_to(share, 4),
        "init_p50_ms": round_to(p50),
        "init_p95_ms": round_to(p95),
        "init_share_of_billed_time": round_to(billed_share, 4),
    }
    worst = max(share, billed_share or 0.0)
    severity = "medium" if worst >= 0.2 else "low" if worst >= 0.01 else "info"
    advice = (
        f"{round(share * 100, 1)}% of invocations started cold (init p50 {round_to(p50)} ms). "
        "Import "
        "heavy modules lazily or not at all, trim the deployment package, create clients once at "
        "module level, and avoid work at import time; if latency matters, provisioned "
        "concurrency or SnapStart (Python 3.12+) take init off the request path at a price."
    )
    if billed_share:
        advice += (
            f" Init is {round(billed_share * 100, 1)}% of billed time (Lambda bills the init "
            "phase since 2025-08-01)."
        )
    return [Finding("cold_start", severity, "function", evidence, advice)]
