"""Streaming statistics over joined invocations: quantile sketches, bounded top-k, a time series.

Everything here has a size bound that does not grow with the input, so a multi-GB log runs in
bounded memory: sketches keep at most ``max_bins`` buckets, top-k tables ``capacity`` keys, the
time series ``max_points`` buckets, and name-keyed tables ``MAX_NAMES`` names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Optional

from lambda_trace.analyzer.call_stats import (
    MAX_NAMES,
    OTHER,
    THROTTLE_CLASS,
    CallStats,
    DependencyStats,
    NPlusOne,
    longest_sequential_run,
)
from lambda_trace.analyzer.faults import (
    CRASH,
    FaultStats,
    category,
    dependency_failure,
    invocation_fault,
    returned_5xx,
)
from lambda_trace.analyzer.join import Invocation, JoinStats
from lambda_trace.analyzer.model import Event
from lambda_trace.analyzer.numbers import as_float
from lambda_trace.analyzer.outcomes import (
    MEMORY_PRESSURE_RATIO,
    QUIET_STATUSES,
    UNEVENTFUL,
    OomExample,
    Outcome,
    classify,
    is_access_denied,
    oom_example,
    repeats,
    top_frame,
)
from lambda_trace.analyzer.resource_limits import classify_event as resource_limit_of
from lambda_trace.analyzer.sketches import QuantileSketch, Slowest, SpaceSaving, TimeSeries
from lambda_trace.analyzer.slowest_entry import slow_entry, start_time_ms

__all__ = [
    "MAX_NAMES", "MEMORY_PRESSURE_RATIO", "OTHER", "THROTTLE_CLASS", "Aggregator",
    "DependencyStats", "MemorySizeStats", "NPlusOne", "Outcome", "QuantileSketch", "Slowest",
    "SpaceSaving", "TimeSeries", "aggregate_events", "as_float", "classify",
    "longest_sequential_run", "start_time_ms", "top_frame",
]


@dataclass
class MemorySizeStats:
    """Invocations that ran with one Memory Size."""

    memory_size_mb: int
    invocations: int = 0
    billed_ms: float = 0.0
    billed_count: int = 0
    duration: QuantileSketch = field(default_factory=QuantileSketch)
    peak: QuantileSketch = field(default_factory=QuantileSketch)
    failures: int = 0



class Aggregator(CallStats):
    """Folds finished invocations and stand-alone events into the report's statistics."""

    def __init__(self, *, n_plus_one_min_calls: int = 5, slowest: int = 10) -> None:
        self.n_plus_one_min_calls = n_plus_one_min_calls
        self.invocations = 0
        self.cold_starts = 0
        self.restores = 0
        self.errors = 0
        self.timeouts = 0
        self.out_of_memory = 0
        self.memory_pressure = 0
        self.with_report = 0
        self.with_record = 0
        self.duration = QuantileSketch()
        self.init_duration = QuantileSketch()
        self.duration_total_ms = 0.0
        self.billed_total_ms = 0.0
        self.billed_count = 0
        self.init_billed_ms = 0.0
        self.first_ts: Optional[float] = None
        self.last_ts: Optional[float] = None
        self.dependencies: dict[str, DependencyStats] = {}
        self.memory_sizes: dict[int, MemorySizeStats] = {}
        self.error_groups = SpaceSaving(200)
        self.access_denied = SpaceSaving(100)
        self.timeout_in_flight = SpaceSaving(50)
        self.timeouts_with_warning = 0
        self.timeout_seconds = SpaceSaving(20)
        self.oom_sizes = SpaceSaving(20)
        self.pressure_peaks = QuantileSketch()
        self.pressure_sizes = SpaceSaving(20)
        self.n_plus_one: dict[str, NPlusOne] = {}
        self.slowest = Slowest(slowest)
        self.timeline = TimeSeries()
        self.init_failures = SpaceSaving(50)
        #: platform failures: (category, error type) -> their counts (faults.py)
        self.faults: dict[tuple[str, Optional[str]], FaultStats] = {}
        #: (call name, error class) -> count, example (request id, error type, message)
        self.dependency_errors = SpaceSaving(50)
        #: (quota, error type, top frame) -> invocations that hit it, example (request id,
        #: the text naming it): /tmp full, no descriptor or thread left (resource_limits.py)
        self.resource_limits = SpaceSaving(50)
        #: invocations whose handler returned a statusCode >= 500 without raising
        self.returned_5xx = 0
        #: out-of-memory invocations' evidence (the first few): size, duration, memory warning
        self.oom_examples: list[OomExample] = []
        #: Max Memory Used of invocations that did not fail, in arrival order (bounded), for
        #: the peak trend of the out-of-memory advice
        self.ok_peaks_first: list[float] = []
        self.ok_peaks_last: list[float] = []
        self.ok_duration = QuantileSketch()
        self._last_environment: Optional[Event] = None
        self._last_orphan: Optional[Event] = None
        self.environments = 0
        self.orphan_events = 0
        self.orphan_timeouts = 0
        self.events_by_type: dict[str, int] = {}

    # -- stand-alone events --------------------------------------------------------------

    def add_environment_event(self, event: Event) -> None:
        """INIT_START / INIT_REPORT: per execution environment, not per invocation."""
        if repeats(event, self._last_environment):
            return  # the console shows an event collapsed and expanded: one event
        self._last_environment = event
        if event["type"] == "init_start":
            self.environments += 1
        elif event["type"] == "init_report" and event.get("status") not in (None, "success"):
            found = category(event.get("error_type"))
            if found is not None:
                fault = self._fault(found, event.get("error_type"))
                fault.init_reports += 1
                fault.phases.add(str(event.get("phase") or "init"))
                return
            key = (event.get("phase") or "init", event.get("status"), event.get("error_type"))
            self.init_failures.add(key, example=event.get("duration_ms"))

    def add_orphan(self, event: Event) -> None:
        """An event no invocation could take: failures in it are still counted by kind."""
        if repeats(event, self._last_orphan):
            return  # one event shown twice in a console copy (collapsed and expanded)
        self._last_orphan = event
        self.orphan_events += 1
        kind = event["type"]
        if kind == "error":
            found = category(event.get("error_type"))
            if found is not None:
                self._add_fault(found, event.get("error_type"), event.get("request_id"),
                                event.get("message"))
            # An AccessDenied is reported as permission_denied (the parser makes an
            # access_denied event of the same text), handled or not: not as a code error.
            elif not (is_access_denied(event)
                      or self._add_resource_limit(event, event.get("request_id"), set())):
                self._add_error(event, event.get("request_id"))
        elif kind == "runtime_exit":
            error_type = event.get("error_type")
            self._add_fault(category(error_type) or CRASH, error_type, event.get("request_id"),
                            event.get("reason"))
        elif kind == "access_denied":
            self._add_access_denied(event, event.get("request_id"))
        elif kind == "timeout":
            self.orphan_timeouts += 1
        elif kind == "call":
            self.add_call(event)
            self._fold_call_summary(event)

    @property
    def emf_documents(self) -> int:
        return self.events_by_type.get("emf", 0)

    # -- invocations ---------------------------------------------------------------------

    def add_invocation(self, inv: Invocation) -> None:
        self.invocations += 1
        report = inv.report
        record = inv.record
        duration = size = peak = init_ms = billed = None
        cold = False
        # REPORT wins over our invocation record, which fills in what REPORT lacks.
        if report is not None:
            self.with_report += 1
            get = report.get
            duration = as_float(get("duration_ms"))
            size = as_float(get("memory_size_mb"))
            peak = as_float(get("max_memory_used_mb"))
            init_ms = as_float(get("init_duration_ms"))
            billed = as_float(get("billed_duration_ms"))
            cold = init_ms is not None
            restore = get("restore_duration_ms")
            if restore is not None and as_float(restore) is not None:
                self.restores += 1
        if record is not None:
            self.with_record += 1
            get = record.get
            if duration is None:
                duration = as_float(get("duration_ms"))
            if size is None:
                size = as_float(get("memory_limit_mb"))
            if peak is None:
                peak = as_float(get("memory_peak_mb"))
            if init_ms is None:
                init_ms = as_float(get("init_ms"))
            if not cold and get("cold_start"):
                cold = True

        if (
            inv.timed_out or inv.errors or inv.runtime_exit is not None
            or (report is not None and (report.get("status") not in QUIET_STATUSES
                                        or report.get("error_type") is not None))
            or (record is not None and (record.get("status") == "error"
                                        or record.get("status_code") is not None))
        ):
            outcome = classify(inv, size, peak)
        else:  # nothing classify could find (most invocations)
            outcome = UNEVENTFUL
        if outcome.timed_out:
            self.timeouts += 1
            self._add_timeout(inv)
        elif outcome.failed:
            self.errors += 1
        if outcome.oom:
            self.out_of_memory += 1
            if size is not None:
                self.oom_sizes.add(int(size))
            if len(self.oom_examples) < 5:
                self.oom_examples.append(oom_example(inv, size, peak, duration))
        elif not (outcome.failed or outcome.timed_out) and peak is not None:
            if len(self.ok_peaks_first) < 50:
                self.ok_peaks_first.append(peak)
            else:
                self.ok_peaks_last.append(peak)
                if len(self.ok_peaks_last) > 50:
                    del self.ok_peaks_last[0]
            if duration is not None:
                self.ok_duration.add(duration)
        elif outcome.pressure:
            self.memory_pressure += 1
            if peak is not None:
                self.pressure_peaks.add(peak)
            if size is not None:
                self.pressure_sizes.add(int(size))

        if duration is not None:
            self.duration.add(duration)
            self.duration_total_ms += duration
        if cold:
            self.cold_starts += 1
            if init_ms is not None:
                self.init_duration.add(init_ms)
                if billed is not None:
                    self.init_billed_ms += init_ms
        if billed is not None:
            self.billed_total_ms += billed
            self.billed_count += 1
        if size is not None:
            mem = self.memory_sizes.get(int(size)) or self._memory_size(int(size))
            mem.invocations += 1
            if billed is not None:
                mem.billed_ms += billed
                mem.billed_count += 1
            if duration is not None:
                mem.duration.add(duration)
            if peak is not None:
                mem.peak.add(peak)
            if outcome.failed or outcome.timed_out:
                mem.failures += 1

        fault = invocation_fault(inv, outcome.oom) if outcome.failed else None
        if fault is not None:
            self._add_fault(fault[0], fault[1], inv.request_id, fault[2])
        code = returned_5xx(record)
        if code is not None and not inv.errors:
            self.returned_5xx += 1
            self._add_error({"error_type": f"HTTP {code}",
                             "message": f"the handler returned statusCode {code}"},
                            inv.request_id)
        unhandled = any(e.get("unhandled") is not False for e in inv.errors)
        limits_hit: set[str] = set()
        for error in inv.errors:
            # An AccessDenied that ended the invocation is reported as permission_denied.
            if inv.access_denied and is_access_denied(error):
                continue
            if category(error.get("error_type")) is not None:
                continue  # a platform failure (init, extension): counted in faults
            if self._add_resource_limit(error, inv.request_id, limits_hit):
                continue  # a Lambda quota, logged or not: resource_limit, not a code error
            if error.get("unhandled") is False and (unhandled or not outcome.failed):
                continue  # caught and logged by the code, and not what ended the invocation
            failed_call = dependency_failure(inv, error) if error.get("unhandled") else None
            if failed_call is not None:
                self.dependency_errors.add(failed_call, example=(
                    inv.request_id, error.get("error_type"), error.get("message")))
                continue
            self._add_error(error, inv.request_id)
        if not inv.errors and record is not None and record.get("status") == "error":
            self._add_error(
                {"error_type": record.get("error_type"), "message": record.get("error_message")},
                inv.request_id,
            )
        for denied in inv.access_denied:
            self._add_access_denied(denied, inv.request_id)
        self._add_calls(inv, duration)

        ts = float(inv.start_ts) if inv.start_ts is not None else start_time_ms(inv, duration)
        if ts is not None:
            if self.first_ts is None or ts < self.first_ts:
                self.first_ts = ts
            end = ts + (duration or 0.0)
            if self.last_ts is None or end > self.last_ts:
                self.last_ts = end
            self.timeline.add(ts, duration, peak, size)
        if duration is not None and self.slowest.would_keep(duration):
            self.slowest.add(duration, slow_entry(inv, duration, ts, outcome, size, peak))

    def _add_timeout(self, inv: Invocation) -> None:
        if inv.timeout_seconds is not None:
            self.timeout_seconds.add(round(inv.timeout_seconds))
        warning = inv.timeout_warning
        if warning is None:
            return
        self.timeouts_with_warning += 1
        in_flight = warning.get("in_flight") or []
        names = sorted({str(c.get("name")) for c in in_flight if isinstance(c, dict)})
        self.timeout_in_flight.add(", ".join(names) if names else "(none)", example=inv.request_id)
        timeout_ms = as_float(warning.get("timeout_ms"))
        if inv.timeout_seconds is None and timeout_ms:
            self.timeout_seconds.add(round(timeout_ms / 1000))

    def _fault(self, found: str, error_type: Any) -> FaultStats:
        key = (found, str(error_type) if error_type else None)
        fault = self.faults.get(key)
        if fault is None:
            if len(self.faults) >= MAX_NAMES:
                key = (found, OTHER)
                fault = self.faults.get(key)
            if fault is None:
                fault = self.faults[key] = FaultStats(found, key[1])
        return fault

    def _add_fault(self, found: str, error_type: Any, request_id: Optional[str],
                   reason: Any) -> None:
        fault = self._fault(found, error_type)
        fault.invocations += 1
        if fault.example_request_id is None and request_id:
            fault.example_request_id = request_id
        if fault.reason is None and reason:
            fault.reason = str(reason)[:300]

    def _add_error(self, error: Event, request_id: Optional[str]) -> None:
        error_type = error.get("error_type") or "Error"
        key = (str(error_type), top_frame(error.get("stack")))
        message = error.get("message")
        self.error_groups.add(key, example=(request_id, None if message is None else str(message)))

    def _add_resource_limit(self, error: Event, request_id: Optional[str],
                            seen: set[str]) -> bool:
        """Count an error naming a Lambda quota (once per invocation and quota)."""
        hit = resource_limit_of(error)
        if hit is None:
            return False
        if hit.limit not in seen:
            seen.add(hit.limit)
            error_type = str(error.get("error_type") or "Error")
            key = (hit.limit, error_type, top_frame(error.get("stack")))
            self.resource_limits.add(key, example=(request_id, hit.text))
        return True

    def _add_access_denied(self, event: Event, request_id: Optional[str]) -> None:
        key = (event.get("principal"), event.get("action"), event.get("resource"))
        self.access_denied.add(
            key, example=(request_id, event.get("code"), event.get("message"),
                          event.get("operation")),
        )
    def _memory_size(self, size: int) -> MemorySizeStats:
        mem = self.memory_sizes.get(size)
        if mem is None:
            if len(self.memory_sizes) >= MAX_NAMES:
                size = -1
                mem = self.memory_sizes.get(size)
            if mem is None:
                mem = self.memory_sizes[size] = MemorySizeStats(size)
        return mem

    @property
    def failure_rate(self) -> Optional[float]:
        """Errors plus timeouts per invocation."""
        if not self.invocations:
            return None
        return (self.errors + self.timeouts) / self.invocations


def aggregate_events(
    events: Iterable[Event],
    *,
    n_plus_one: int = 5,
    max_open: int = 2000,
    grace_events: int = 2000,
) -> tuple[Aggregator, JoinStats]:
    """Join and aggregate parsed events (``pipeline.analyze_events``, kept for its callers)."""
    from lambda_trace.analyzer.pipeline import analyze_events

    analysis = analyze_events(events, n_plus_one=n_plus_one, max_open=max_open,
                              grace_events=grace_events)
    return analysis.combined, analysis.join_stats
