"""Finders for failures that are not a bug in the function's code: the platform could not load
the handler, an extension failed, the runtime process died, a dependency failed, and memory ran
out (with a size recommended from what was measured).

They follow ``findings.Finder``: pure functions of the aggregate, listed in ``findings.FINDERS``.
"""

from __future__ import annotations

from typing import Any, Optional

from lambda_trace.analyzer.aggregate import Aggregator
from lambda_trace.analyzer.faults import CRASH, EXTENSION, INIT
from lambda_trace.analyzer.findings.baseline import Baseline
from lambda_trace.analyzer.findings.model import (
    MAX_MEMORY_MB,
    Finding,
    Thresholds,
    ratio,
    round_memory,
    round_to,
)
from lambda_trace.analyzer.numbers import as_float
from lambda_trace.analyzer.outcomes import OomExample

#: the init phase's limit (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html)
INIT_LIMIT_S = 10

_INIT_ADVICE = {
    "Runtime.ImportModuleError": (
        "The handler's module could not be imported: a dependency is missing from the "
        "deployment package or layer, or was built for another platform or Python version. "
        "Package it for Amazon Linux and the function's architecture, and check that the "
        "module named in the Handler setting is at the package's root."
    ),
    "Runtime.HandlerNotFound": (
        "The Handler setting names a function the module does not define or export: check "
        "the file.function name (for Node.js, that the handler is exported)."
    ),
    "Runtime.UserCodeSyntaxError": (
        "The code does not compile on the function's runtime: run it locally on the same "
        "language version."
    ),
    "Runtime.InvalidEntrypoint": (
        "Lambda could not start the runtime: the bootstrap or image ENTRYPOINT is missing, "
        "not executable, or built for the other architecture (\"exec format error\": an arm64 "
        "binary on x86_64 or the reverse). Build for the function's architecture, give "
        "bootstrap the executable bit, and use an absolute ENTRYPOINT path."
    ),
}


def init_failures(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    """The handler never ran: an init that timed out, or the platform could not load it."""
    found = []
    for fault in _faults(agg, INIT):
        error_type = fault.error_type
        evidence = {
            "error_type": error_type,
            "status": "error",
            "phases": sorted(fault.phases),
            "init_reports": fault.init_reports,
            "failed_invocations": fault.invocations,
            "example_request_id": fault.example_request_id,
            "reason": fault.reason,
        }
        advice = _INIT_ADVICE.get(str(error_type), (
            f"The function could not be initialised ({error_type})."
        )) + (" Every request to a new environment fails the same way until it is fixed; Lambda "
              "retries a failed init at the first invocation (INIT_REPORT Phase: invoke).")
        found.append(Finding("init_failure", "high", str(error_type), evidence, advice))
    by_status: dict[tuple[Any, Any], dict[str, Any]] = {}
    for (phase, status, error_type), count, _, duration in agg.init_failures.items():
        row = by_status.setdefault((status, error_type), {
            "error_type": error_type, "status": status, "phases": [], "init_reports": 0,
            "init_duration_ms": None,
        })
        row["phases"] = sorted({*row["phases"], str(phase)})
        row["init_reports"] += count
        d = as_float(duration)
        if d is not None and (row["init_duration_ms"] is None or d > row["init_duration_ms"]):
            row["init_duration_ms"] = round_to(d)
    for (status, error_type), evidence in by_status.items():
        if status == "timeout":
            advice = (
                f"The init phase (imports and code outside the handler) ran out of time: "
                f"{INIT_LIMIT_S} s on a new environment, or the function's timeout when Lambda "
                "re-ran it at the first invocation (Phase: invoke). Move slow work (downloads, "
                "connections, model loading) out of module scope or make it lazy, shrink what is "
                "imported, or raise memory for more CPU."
            )
        else:
            advice = (
                f"The init phase failed ({error_type or status}); every request to a new "
                "environment pays for it again. Fix the import-time error shown in the code "
                "errors (a missing module or a wrong handler setting are the usual causes)."
            )
        subject = f"init {status}" + (f" ({error_type})" if error_type else "")
        found.append(Finding("init_failure", "high", subject, evidence, advice))
    return found


def extension_failures(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    """An extension could not launch, crashed or exited: the invocations fail with it."""
    found = []
    for fault in _faults(agg, EXTENSION):
        error_type = fault.error_type or "Extension.Error"
        evidence = {
            "error_type": error_type,
            "failed_invocations": fault.invocations,
            "init_reports": fault.init_reports,
            "phases": sorted(fault.phases),
            "example_request_id": fault.example_request_id,
            "reason": fault.reason,
        }
        if error_type == "Extension.LaunchError":
            what = ("Lambda could not start an extension from a layer (/opt/extensions): it is "
                    "built for the other architecture (\"exec format error\"), lacks the "
                    "executable bit, or has Windows line endings.")
        else:
            what = ("An extension (a layer's agent: monitoring, secrets, telemetry) crashed or "
                    "exited, and Lambda failed the invocation with it; its own log lines just "
                    "before say why (a missing configuration file, an API key, a setting).")
        advice = (what + " This is not the function's code: fix or update the extension's "
                  "layer and its configuration, or remove the layer to confirm.")
        found.append(Finding("extension_failure", "high", error_type, evidence, advice))
    return found


def runtime_crashes(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    """The runtime process died without an exception of the code's to explain it."""
    found = []
    for fault in _faults(agg, CRASH):
        evidence = {
            "error_type": fault.error_type,
            "reason": fault.reason,
            "count": fault.invocations,
            "invocations": agg.invocations,
            "example_request_id": fault.example_request_id,
        }
        reason = fault.reason or fault.error_type or "the runtime exited"
        advice = (
            f"The runtime process ended before the invocation completed ({reason}). "
            "\"signal: killed\" is usually the memory limit: compare Max Memory Used with "
            "Memory Size in the REPORT lines (absent here when the REPORT was not in the input), "
            "or add @trace for memory warnings. An exit status is a native crash or an explicit "
            "exit (sys.exit / process.exit) in the code; a segfault points at a native library "
            "built for another platform."
        )
        subject = str(fault.reason or fault.error_type or "runtime exit")
        found.append(Finding("runtime_crash", "high", subject, evidence, advice))
    return found


def dependency_errors(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    """The handler raised the failure of a call it made: the dependency failed, not the code."""
    found = []
    advice_by_class = {
        "server": "it answered with a server error (5xx)",
        "throttled": "it throttled the requests",
        "network": "the connection failed",
        "timeout": "it did not answer in time",
        "not_found": "it answered that the resource does not exist",
    }
    for (name, error_class), count, _, example in agg.dependency_errors.items()[:10]:
        request_id, error_type, message = example if example else (None, None, None)
        evidence = {
            "name": name,
            "error_class": error_class,
            "count": count,
            "invocations": agg.invocations,
            "rate": round_to(ratio(count, agg.invocations), 4),
            "error_type": error_type,
            "example_request_id": request_id,
            "message": message if message is None else str(message)[:300],
        }
        what = advice_by_class.get(str(error_class), "it failed")
        advice = (
            f"The invocations failed because {name} failed ({what}), and the handler let the "
            "exception out. Retry transient failures with exponential backoff and jitter within "
            "the function's time (botocore retries / urllib3 Retry), give the client connect "
            "and read timeouts well below the function timeout, and decide on a fallback "
            "(a cached answer, a queued retry, a clear 503) instead of failing the invocation."
        )
        severity = "high" if (ratio(count, agg.invocations) or 1.0) >= 0.05 else "medium"
        found.append(Finding("dependency_error", severity, str(name), evidence, advice))
    return found


def out_of_memory(agg: Aggregator, t: Thresholds, b: Optional[Baseline]) -> list[Finding]:
    """Killed at the memory limit: what was running, how fast memory grew, the size to use."""
    if not agg.out_of_memory:
        return []
    sizes = sorted(int(k) for k, _, _, _ in agg.oom_sizes.items())
    largest = sizes[-1] if sizes else None
    examples = agg.oom_examples
    warned = [e for e in examples if e.get("warning_rss_mb") and e.get("warning_elapsed_ms")]
    ok_max = max(agg.ok_peaks_first + agg.ok_peaks_last, default=None)
    first = agg.ok_peaks_first
    last = agg.ok_peaks_last
    trend = None
    if len(first) >= 5 and len(last) >= 5:
        trend = round_to(sum(last) / len(last) - sum(first) / len(first))
    expected_ms = agg.ok_duration.quantile(0.95)
    need, basis, growth = _memory_needed(largest, warned, expected_ms, agg, t)
    recommended = None
    if need is not None:
        recommended = round_memory(need * t.memory_headroom)
        if largest is not None and recommended <= largest:
            recommended = round_memory(largest + 64)
    evidence: dict[str, Any] = {
        "out_of_memory": agg.out_of_memory,
        "invocations": agg.invocations,
        "rate": round_to(ratio(agg.out_of_memory, agg.invocations), 4),
        "memory_size_mb": sizes,
        "recommended_memory_mb": recommended,
        "recommendation_basis": basis,
        "growth_mb_per_s": growth,
        "memory_warning": _warning_evidence(warned),
        "ok_peak_max_mb": round_to(ok_max),
        "ok_peak_trend_mb": trend,
        "examples": [e["request_id"] for e in examples],
    }
    parts = [f"The function was killed at its memory limit ({largest} MB: Max Memory Used "
             "reached Memory Size)." if largest else "The runtime was killed for lack of memory."]
    if warned:
        w = warned[-1]
        running = (w.get("in_flight") or {}).get("name")
        parts.append(
            f"lambda-trace's memory warning came {round_to(w['warning_elapsed_ms'])} ms in, at "
            f"{round_to(w['warning_rss_mb'])} MB" + (f", while {running} was running" if running
                                             else "") + "."
        )
    if trend is not None and trend > 0:
        parts.append(f"Invocations that succeeded used {trend} MB more by the end of the logs "
                     "than at the start: something keeps growing across warm invocations (a "
                     "module-level cache, a list), and more memory only delays the kill.")
    if recommended:
        parts.append(f"Set MemorySize to about {recommended} MB ({_BASIS_TEXT[basis]}), then "
                     "check the new peak in REPORT's Max Memory Used.")
    parts.append("Look for data read whole into memory (large S3 objects, unpaginated "
                 "queries): stream or paginate it.")
    subject = f"{largest} MB" if largest else "function"
    return [Finding("out_of_memory", "high", subject, evidence, " ".join(parts))]


_BASIS_TEXT = {
    "growth": "the memory growth measured before the kill, to the end of a typical invocation",
    "larger_size": "the highest Max Memory Used of this function at a larger size",
    "headroom": "no growth was measured: a step up; @trace's memory warnings measure it",
}


def _memory_needed(
    size: Optional[int], warned: list[OomExample], expected_ms: Optional[float],
    agg: Aggregator, t: Thresholds,
) -> tuple[Optional[float], str, Optional[float]]:
    """(MB needed, how it was estimated, growth in MB/s) for the largest size that ran out."""
    if size is None:
        return None, "headroom", None
    growth = None
    need: Optional[float] = None
    for w in warned:
        rss, at = w["warning_rss_mb"], w["warning_elapsed_ms"]
        if rss is None or at is None:
            continue  # (``warned`` holds only examples with both)
        died = as_float(w.get("duration_ms"))
        if died is not None and died > at and size > rss:
            rate = (size - rss) / (died - at)  # MB per ms between the warning and the kill
        elif at > 0:
            rate = rss / at  # from the start of the invocation
        else:
            continue
        end = max(expected_ms or 0.0, died or 0.0, at)
        # Growth to the end of a typical invocation; when it died later than those, assume it
        # needed as long again as it had still to go since the warning.
        if died is not None and end <= died:
            end = died + (died - at)
        estimate = rss + rate * (end - at)
        if need is None or estimate > need:
            need, growth = estimate, rate * 1000
    if need is not None:
        return min(need, MAX_MEMORY_MB), "growth", round_to(growth)
    # A larger size where the function used more than this one has, and did not fail: that
    # peak is what it needs.
    larger = [mem.peak.max for s, mem in agg.memory_sizes.items()
              if s > size and mem.peak.count and not mem.failures and mem.peak.max > size]
    if larger:
        return max(larger), "larger_size", None
    return size * 1.5, "headroom", None


def _warning_evidence(warned: list[OomExample]) -> Optional[dict[str, Any]]:
    if not warned:
        return None
    w = warned[-1]
    return {"rss_mb": round_to(w["warning_rss_mb"]),
            "elapsed_ms": round_to(w["warning_elapsed_ms"]),
            "in_flight": w.get("in_flight"), "request_id": w.get("request_id")}


def _faults(agg: Aggregator, category: str) -> list[Any]:
    return sorted((f for f in agg.faults.values() if f.category == category),
                  key=lambda f: (-(f.invocations + f.init_reports), str(f.error_type)))
