"""Turn aggregated statistics into findings: what went wrong or costs time, and what to change.

Each finder is a pure function of the :class:`~lambda_trace.analyzer.aggregate.Aggregator` (and,
for regressions, a :class:`Baseline`); they are listed in ``FINDERS`` and run in that order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from lambda_trace.analyzer.aggregate import (
    MEMORY_PRESSURE_RATIO,
    Aggregator,
    DependencyStats,
)
from lambda_trace.analyzer.numbers import as_float

SEVERITIES = ("high", "medium", "low", "info")

#: Every finding kind, in report order. ``--fail-on`` accepts these names.
KINDS = (
    "no_invocations",
    # from the function's configuration and metrics (findings_config)
    "not_invoked",
    "logs_not_written",
    "config_vs_observed",
    "timeout",
    "out_of_memory",
    "memory_pressure",
    "init_failure",
    "extension_failure",
    "runtime_crash",
    "permission_denied",
    "dependency_error",
    "resource_limit",
    "code_error",
    "throttling",
    "retries",
    "latency_regression",
    "slow_dependency",
    "n_plus_one",
    "cold_start",
    "overprovisioned_memory",
    "memory_cost",
)

#: Lambda's memory setting: 128 MB to 10,240 MB in 1 MB steps.
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10240

#: x86 on-demand price per GB-second (us-east-1, first tier), for the cost comparison only.
# https://aws.amazon.com/lambda/pricing/
PRICE_PER_GB_SECOND = 0.0000166667

LOGS_PERMISSIONS_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html"

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


@dataclass
class Finding:
    """One thing the report says: what and about what, how bad, why we think so, what to do."""

    kind: str
    severity: str
    subject: str
    evidence: dict[str, Any]
    advice: str
    #: the function it is about (None: not known, e.g. a plain log copy)
    function: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "subject": self.subject,
            "function": self.function,
            "evidence": self.evidence,
            "advice": self.advice,
        }


@dataclass
class Thresholds:
    """Tunable limits of the finders."""

    #: a memory size needs this many invocations before memory advice is given about it
    min_samples: int = 20
    #: overprovisioned when the highest peak is below this share of Memory Size
    overprovisioned_ratio: float = 0.5
    #: headroom above the highest observed peak in a recommended memory size
    memory_headroom: float = 1.3
    #: a p95 must grow by this share and by at least ``regression_min_ms`` to be a regression
    regression_ratio: float = 0.2
    regression_min_ms: float = 5.0
    #: a slow_dependency is high (medium) only when it costs at least this much time per
    #: invocation on average: half of a 30 ms invocation is where time goes, not a problem
    slow_high_ms_per_invocation: float = 100.0
    slow_medium_ms_per_invocation: float = 20.0


@dataclass
class Baseline:
    """The numbers of an earlier period that ``latency_regression`` compares against."""

    invocations: int = 0
    duration_p95_ms: Optional[float] = None
    #: dependency name -> (p95 ms, calls)
    dependencies: dict[str, tuple[Optional[float], int]] = field(default_factory=dict)
    label: str = "baseline"

    @classmethod
    def from_aggregate(cls, agg: Aggregator, label: str = "baseline") -> Baseline:
        deps = {
            name: (dep.sketch.quantile(0.95), dep.calls) for name, dep in agg.dependencies.items()
        }
        return cls(agg.invocations, agg.duration.quantile(0.95), deps, label)

    @classmethod
    def from_report(cls, data: Any, label: str = "baseline") -> Baseline:
        """From a saved ``--format json`` report; ``ValueError`` when ``data`` is not one."""
        if not isinstance(data, dict) or data.get("schema") != "lambda-trace/analyze":
            raise ValueError("not a lambda-trace analyze JSON report")
        deps: dict[str, tuple[Optional[float], int]] = {}
        for dep in data.get("dependencies") or []:
            if isinstance(dep, dict) and dep.get("name") is not None:
                deps[str(dep["name"])] = (as_float(dep.get("p95_ms")), int(dep.get("calls") or 0))
        duration = data.get("duration_ms")
        if not isinstance(duration, dict):
            duration = {}
        return cls(
            int(data.get("invocations") or 0), as_float(duration.get("p95")), deps, label
        )


Finder = Callable[[Aggregator, Thresholds, Optional[Baseline]], list[Finding]]


def find_all(
    agg: Aggregator,
    baseline: Optional[Baseline] = None,
    thresholds: Optional[Thresholds] = None,
) -> list[Finding]:
    """Every finding, most severe first (then in ``KINDS`` order)."""
    thresholds = thresholds or Thresholds()
    found: list[Finding] = []
    for finder in FINDERS:
        found.extend(finder(agg, thresholds, baseline))
    found.sort(key=lambda f: (SEVERITIES.index(f.severity), KINDS.index(f.kind)))
    return found


# -- availability ------------------------------------------------------------------------------


def no_invocations(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    if agg.invocations or _failures_seen(agg):
        return []
    events = sum(agg.events_by_type.values())
    advice = (
        "No invocation was found in these logs. Check that the trigger is enabled and points at "
        "this function (event source mapping, schedule, API route), that you are reading the "
        "right region, log group and time window, and that the execution role may write logs "
        "(logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents, e.g. the managed policy "
        f"AWSLambdaBasicExecutionRole): without them the function runs but logs nothing. "
        f"See {LOGS_PERMISSIONS_DOC}"
    )
    return [Finding("no_invocations", "high", "function", {"events": events}, advice)]


def _failures_seen(agg: Aggregator) -> bool:
    """Lines that report failures: the function logs, whatever the invocations' lines lack."""
    return bool(agg.error_groups.total or agg.faults or agg.access_denied.total
                or agg.orphan_timeouts or agg.init_failures.total
                or agg.resource_limits.total)


def timeouts(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    if not agg.timeouts:
        return []
    limits = [key for key, _, _, _ in agg.timeout_seconds.items()]
    in_flight = [
        {"calls": key, "timeouts": count, "example_request_id": example}
        for key, count, _, example in agg.timeout_in_flight.items()[:5]
    ]
    named = [row for row in in_flight if row["calls"] != "(none)"]
    same = (
        len(agg.timeout_in_flight) == 1
        and bool(named)
        and named[0]["timeouts"] == agg.timeouts_with_warning
    )
    evidence: dict[str, Any] = {
        "timeouts": agg.timeouts,
        "invocations": agg.invocations,
        "rate": _r(_ratio(agg.timeouts, agg.invocations), 4),
        "timeout_seconds": limits[0] if limits else None,
        "timeout_limits_seen": sorted(limits),
        "with_in_flight_calls": agg.timeouts_with_warning,
        "in_flight": in_flight,
        "always_same_dependency": same,
    }
    if len(limits) > 1:
        limit_text = " (limits seen: " + ", ".join(f"{s} s" for s in sorted(limits)) + ")"
    else:
        limit_text = f" (the limit is {limits[0]} s)" if limits else ""
    if same:
        subject = named[0]["calls"]
        advice = (
            f"Every timeout{limit_text} happened while waiting on {subject}. Give that client a "
            "connect and read timeout well below the function's (botocore Config "
            "connect_timeout/read_timeout and retries, or requests' timeout=), so the handler can "
            "fail fast or degrade, and check that dependency's health, limits and network path "
            "(a VPC without a NAT gateway or endpoint makes AWS calls hang)."
        )
    elif named:
        subject = named[0]["calls"]
        advice = (
            f"Invocations ran out of time{limit_text}; the call in flight most often was "
            f"{subject}. Put client timeouts on every dependency below the function timeout, "
            "and raise the function timeout only if the work is legitimately that long."
        )
    else:
        subject = "function"
        advice = (
            f"Invocations ran out of time{limit_text}. Add @trace to see which call was in "
            "flight; meanwhile set client timeouts below the function timeout, and raise the "
            "function timeout or memory (more memory also means more CPU) if the work is "
            "legitimately that long."
        )
    return [Finding("timeout", "high", subject, evidence, advice)]


# -- memory ------------------------------------------------------------------------------------


def memory_pressure(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    if not agg.memory_pressure:
        return []
    sizes = [int(k) for k, _, _, _ in agg.pressure_sizes.items()]
    size = max(sizes) if sizes else None
    peak_max = agg.pressure_peaks.max if agg.pressure_peaks.count else None
    recommended = _round_memory(size * 1.5) if size else None
    evidence = {
        "failures_near_limit": agg.memory_pressure,
        "peak_max_mb": _r(peak_max),
        "memory_size_mb": size,
        "recommended_memory_mb": recommended,
    }
    advice = (
        f"{agg.memory_pressure} timed-out or failed invocation"
        f"{'' if agg.memory_pressure == 1 else 's'} used at least "
        f"{round(100 * MEMORY_PRESSURE_RATIO)}% of their memory: garbage collection slows a "
        "function near its limit, and the next larger input crashes it. "
        + (f"Raise MemorySize to about {recommended} MB. " if recommended else "Raise MemorySize. ")
        + "More memory also gives proportionally more CPU."
    )
    subject = f"{size} MB" if size else "function"
    return [Finding("memory_pressure", "medium", subject, evidence, advice)]


def overprovisioned_memory(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    found = []
    for size, mem in sorted(agg.memory_sizes.items()):
        if size <= MIN_MEMORY_MB or mem.invocations < t.min_samples or not mem.peak.count:
            continue
        if mem.failures or mem.peak.max >= t.overprovisioned_ratio * size:
            continue
        recommended = max(MIN_MEMORY_MB, _round_memory(mem.peak.max * t.memory_headroom))
        if recommended >= size:
            continue
        p50, p95, p99 = mem.peak.quantiles([0.5, 0.95, 0.99])
        evidence = {
            "memory_size_mb": size,
            "invocations": mem.invocations,
            "peak_p50_mb": _r(p50),
            "peak_p95_mb": _r(p95),
            "peak_p99_mb": _r(p99),
            "peak_max_mb": _r(mem.peak.max),
            "recommended_memory_mb": recommended,
        }
        advice = (
            f"The highest Max Memory Used is {_r(mem.peak.max)} MB of {size} MB. Try MemorySize "
            f"{recommended} MB: the price per millisecond falls with memory, but so does CPU "
            "(one full vCPU at 1,769 MB), so compare duration after the change; a CPU-bound "
            "function may get slower and cost as much."
        )
        found.append(Finding("overprovisioned_memory", "low", f"{size} MB", evidence, advice))
    return found


def memory_cost(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    rows: list[dict[str, Any]] = []
    for size, mem in sorted(agg.memory_sizes.items()):
        if size <= 0 or mem.invocations < t.min_samples or not mem.duration.count:
            continue
        p50, p95 = mem.duration.quantiles([0.5, 0.95])
        billed = mem.billed_ms / mem.billed_count if mem.billed_count else mem.duration.mean
        gb_s = (billed or 0.0) / 1000 * size / 1024
        rows.append({
            "memory_size_mb": size,
            "invocations": mem.invocations,
            "duration_p50_ms": _r(p50),
            "duration_p95_ms": _r(p95),
            "billed_mean_ms": _r(billed),
            "gb_seconds_per_1000": _r(gb_s * 1000, 4),
            "usd_per_million": _r(gb_s * 1_000_000 * PRICE_PER_GB_SECOND, 2),
        })
    if len(rows) < 2:
        return []
    cheapest = min(rows, key=lambda r: r["gb_seconds_per_1000"] or 0.0)
    fastest = min(rows, key=lambda r: r["duration_p95_ms"] or 0.0)
    evidence = {"sizes": rows, "cheapest_mb": cheapest["memory_size_mb"],
                "fastest_mb": fastest["memory_size_mb"],
                "price_per_gb_second": PRICE_PER_GB_SECOND}
    if cheapest is fastest:
        advice = (
            f"{cheapest['memory_size_mb']} MB was both the fastest (p95 "
            f"{cheapest['duration_p95_ms']} ms) and the cheapest of the sizes in these logs: "
            "use it."
        )
    else:
        advice = (
            f"{cheapest['memory_size_mb']} MB was the cheapest per invocation and "
            f"{fastest['memory_size_mb']} MB the fastest (p95 {fastest['duration_p95_ms']} ms). "
            "Pick the cheapest unless the latency matters more than the bill."
        )
    advice += " (Compute cost only, at the x86 on-demand price; requests are billed extra.)"
    return [Finding("memory_cost", "info", "memory size", evidence, advice)]


# -- failures ----------------------------------------------------------------------------------


def permission_denied(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    by_principal: dict[Optional[str], list[tuple[Any, int, Any]]] = {}
    for (principal, action, resource), count, _, example in agg.access_denied.items():
        by_principal.setdefault(principal, []).append(((action, resource), count, example))
    found = []
    for principal, rows in by_principal.items():
        denied = [
            {"action": action, "resource": resource, "count": count,
             "operation": _example_operation(example),
             "example_request_id": example[0] if example else None}
            for (action, resource), count, example in rows
        ]
        statements = _policy_statements(rows)
        role = role_name(principal)
        evidence: dict[str, Any] = {
            "principal": principal,
            "role": role,
            "denied": denied,
            "count": sum(r[1] for r in rows),
        }
        if statements:
            evidence["suggested_policy"] = {"Version": "2012-10-17", "Statement": statements}
        target = f"the execution role {role}" if role else "the function's execution role"
        named = sorted({str(a) for (a, _), _, _ in rows if a})
        # S3's bare "Access Denied" names the API operation but not its service, so there is no
        # IAM action to put in a policy; say which call it was.
        unnamed = sorted({
            str(op) for (a, _), _, ex in rows if not a for op in [_example_operation(ex)] if op
        })
        actions = ", ".join(named + [f"the {op} call" for op in unnamed]) or "the calls"
        advice = (
            f"AWS refused {actions}. Add the suggested statement to {target}, scoped to the "
            "resources listed. If the role already allows it, look for an explicit Deny, a "
            "permissions boundary, an SCP, or the resource's own policy (bucket or KMS key "
            "policy)."
        )
        if unnamed:
            advice += (
                f" The error for {', '.join(unnamed)} names no service, so no statement could "
                "be written for it: the IAM action is <service>:<operation> (s3:PutObject for "
                "S3's \"Access Denied\" on PutObject); @trace's call records name it."
            )
        if any(r is None for (a, r), _, _ in rows if a):
            advice += " Where the resource is unknown the statement says \"*\": narrow it."
        subject = role or principal or "execution role"
        found.append(Finding("permission_denied", "high", str(subject), evidence, advice))
    return found


def _example_operation(example: Any) -> Optional[str]:
    return example[3] if isinstance(example, tuple) and len(example) > 3 else None


def code_errors(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    found = []
    for (error_type, frame), count, _, example in agg.error_groups.items()[:10]:
        request_id, message = example if example else (None, None)
        evidence = {
            "error_type": error_type,
            "top_frame": frame,
            "count": count,
            "invocations": agg.invocations,
            "example_request_id": request_id,
            "message": _clip(message, 300),
        }
        rate = _ratio(count, agg.invocations)
        severity = "high" if rate is None or rate >= 0.05 else "medium"
        subject = f"{error_type} at {frame}" if frame else error_type
        found.append(Finding("code_error", severity, subject, evidence,
                             _error_advice(error_type, frame, request_id)))
    return found


def _error_advice(error_type: str, frame: Optional[str], request_id: Optional[str]) -> str:
    where = f" at {frame}" if frame else ""
    look = f" Look up request {request_id} in the logs for the full trace." if request_id else ""
    if error_type == "Runtime.ImportModuleError":
        return (
            "The handler's module could not be imported: a dependency is missing from the "
            "deployment package or layer, or was built for another platform or Python version. "
            "Package it for Amazon Linux and the function's architecture." + look
        )
    if error_type == "Runtime.HandlerNotFound":
        return "The Handler setting names a function that does not exist in the module." + look
    if error_type == "Runtime.UserCodeSyntaxError":
        return "The code does not compile; run it locally on the same Python version." + look
    if error_type.startswith("HTTP 5"):
        return (
            f"The handler returned {error_type[5:]} without raising: the client saw a server "
            "error. Look at what the code turns into that response (usually a caught exception "
            "or a failed dependency) in the example request's log lines." + look
        )
    return f"Fix the code{where} that raises {error_type}, or handle it where expected." + look


# -- dependencies ------------------------------------------------------------------------------


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
        "share": _r(share, 4),
        "calls": dep.calls,
        "calls_per_invocation": _r(_ratio(dep.calls, dep.invocations)),
        "total_ms": _r(dep.total_ms),
        "p50_ms": _r(p50),
        "p95_ms": _r(p95),
        "p99_ms": _r(p99),
        "max_ms": _r(dep.max_ms),
        "errors": dep.errors,
        "ms_per_invocation": _r(per_invocation),
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
            f"{dep.name} takes {pct}% of invocation time (p95 {_r(p95)} ms). Check the "
            "statement's plan (EXPLAIN ANALYZE) and indexes, fetch fewer rows, cache results "
            "between invocations, and connect once outside the handler (or through RDS Proxy) "
            "rather than per invocation."
        )
    else:
        advice = (
            f"{dep.name} takes {pct}% of invocation time (p95 {_r(p95)} ms). Create clients "
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
            "share_of_invocations": _r(_ratio(entry.invocations, agg.invocations), 4),
            "max_sequential_calls": entry.max_sequential,
            "max_calls": entry.max_calls,
            "total_ms": _r(entry.total_ms),
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
    for dep in _by_total(agg.dependencies.values()):
        if not dep.throttled:
            continue
        rate = _ratio(dep.throttled, dep.calls)
        evidence = {"name": dep.name, "throttled_calls": dep.throttled, "calls": dep.calls,
                    "rate": _r(rate, 4), "retries": dep.retries}
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
    for dep in _by_total(agg.dependencies.values()):
        if not dep.calls_retried:
            continue
        evidence = {"name": dep.name, "calls_retried": dep.calls_retried,
                    "retries": dep.retries, "calls": dep.calls,
                    "rate": _r(_ratio(dep.calls_retried, dep.calls), 4),
                    "error_classes": dict(sorted(dep.error_classes.items()))}
        advice = (
            f"{dep.calls_retried} calls to {dep.name} needed {dep.retries} retries in all: each "
            "retry adds a round trip and backoff to the invocation. Find the cause in the "
            "error classes (throttling, 5xx, network), and bound retries with max_attempts and a "
            "read timeout so that they fit in the function timeout."
        )
        found.append(Finding("retries", "low", dep.name, evidence, advice))
    return found


def latency_regression(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    if b is None:
        return []
    found = []
    for row in compare_with_baseline(agg, b):
        base, now = row["baseline_p95_ms"], row["p95_ms"]
        if base is None or now is None or base <= 0:
            continue
        if now - base < t.regression_min_ms or now < base * (1 + t.regression_ratio):
            continue
        severity = "high" if now >= 2 * base else "medium"
        subject = row["name"]
        advice = (
            f"p95 of {subject} went from {base} ms to {now} ms ({row['change_pct']:+.0f}%) against "
            f"{b.label}. Look at what changed in between: a deploy (code, dependencies, memory), "
            "the dependency's load or limits, or bigger inputs."
        )
        found.append(Finding("latency_regression", severity, subject, row, advice))
    return found


def compare_with_baseline(agg: Aggregator, b: Baseline) -> list[dict[str, Any]]:
    """The p95 of the whole invocation and of each dependency, now and in the baseline."""
    rows = [_change("(invocation duration)", b.duration_p95_ms, agg.duration.quantile(0.95),
                    b.invocations, agg.invocations)]
    for dep in _by_total(agg.dependencies.values()):
        base_p95, base_calls = b.dependencies.get(dep.name, (None, 0))
        rows.append(_change(dep.name, base_p95, dep.sketch.quantile(0.95), base_calls, dep.calls))
    return rows


def _change(name: str, base: Optional[float], now: Optional[float], base_n: int,
            now_n: int) -> dict[str, Any]:
    change = None
    if base and now is not None:
        change = _r((now - base) / base * 100, 1)
    return {"name": name, "baseline_p95_ms": _r(base), "p95_ms": _r(now), "change_pct": change,
            "baseline_count": base_n, "count": now_n}


# -- cold starts -------------------------------------------------------------------------------


def cold_start(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    if not agg.cold_starts:
        return []
    share = _ratio(agg.cold_starts, agg.invocations) or 0.0
    p50, p95 = agg.init_duration.quantiles([0.5, 0.95])
    billed_share = _ratio(agg.init_billed_ms, agg.billed_total_ms) if agg.billed_total_ms else None
    evidence = {
        "cold_starts": agg.cold_starts,
        "invocations": agg.invocations,
        "share": _r(share, 4),
        "init_p50_ms": _r(p50),
        "init_p95_ms": _r(p95),
        "init_share_of_billed_time": _r(billed_share, 4),
    }
    worst = max(share, billed_share or 0.0)
    severity = "medium" if worst >= 0.2 else "low" if worst >= 0.01 else "info"
    advice = (
        f"{round(share * 100, 1)}% of invocations started cold (init p50 {_r(p50)} ms). Import "
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


# -- helpers -----------------------------------------------------------------------------------


def role_name(principal: Optional[str]) -> Optional[str]:
    """``arn:aws:sts::1:assumed-role/NAME/session`` or ``arn:aws:iam::1:role/path/NAME`` -> NAME."""
    if not principal:
        return None
    if ":assumed-role/" in principal:
        parts = principal.split(":assumed-role/", 1)[1].split("/")
        return parts[0] or None
    if ":role/" in principal:
        return principal.rsplit("/", 1)[-1] or None
    return None


def _policy_statements(rows: list[tuple[Any, int, Any]]) -> list[dict[str, Any]]:
    by_action: dict[str, set[str]] = {}
    for (action, resource), _, _ in rows:
        if not action:
            continue
        by_action.setdefault(str(action), set()).add(str(resource) if resource else "*")
    statements = []
    for action in sorted(by_action):
        resources = sorted(by_action[action])
        if "*" in resources:
            resources = ["*"]
        statements.append({
            "Effect": "Allow",
            "Action": action,
            "Resource": resources[0] if len(resources) == 1 else resources,
        })
    return statements


def _round_memory(mb: float) -> int:
    """Up to a multiple of 64 MB, within Lambda's limits."""
    value = int(math.ceil(mb / 64.0) * 64)
    return max(MIN_MEMORY_MB, min(MAX_MEMORY_MB, value))


def _by_total(deps: Iterable[DependencyStats]) -> list[DependencyStats]:
    return sorted(deps, key=lambda d: (-d.total_ms, d.name))


def _ratio(a: float, b: float) -> Optional[float]:
    return a / b if b else None


def _r(value: Optional[float], digits: int = 1) -> Optional[float]:
    return None if value is None else round(value, digits)


def _clip(text: Optional[str], limit: int) -> Optional[str]:
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The failures that are not the code's own live in causes.py (which builds on this module).
from lambda_trace.analyzer.causes import (  # noqa: E402
    dependency_errors,
    extension_failures,
    init_failures,
    out_of_memory,
    runtime_crashes,
)
from lambda_trace.analyzer.findings_limits import resource_limits  # noqa: E402

FINDERS: tuple[Finder, ...] = (
    no_invocations,
    timeouts,
    out_of_memory,
    memory_pressure,
    init_failures,
    extension_failures,
    runtime_crashes,
    permission_denied,
    dependency_errors,
    resource_limits,
    code_errors,
    throttling,
    retries,
    latency_regression,
    slow_dependency,
    n_plus_one,
    cold_start,
    overprovisioned_memory,
    memory_cost,
)
